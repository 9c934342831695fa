/**
 * What the hospital-notice hooks add to the ePCR before the FHIR Bundle is built
 * (server/integrations/fhir/notice-bundle.ts): the agency's name, number and callback phone from
 * its settings, and for a pre-arrival alert the ETA estimated from the unit's last GPS fix and the
 * destination facility's coordinates. Read when the hook runs, so a retry sends what is current.
 */
import { readAgencySettings } from '../../agencies/directory.ts';
import { estimateEta } from '../../integrations/fhir/eta.ts';
import type { HospitalNoticeKind, NoticeOptions } from '../../integrations/fhir/notice-bundle.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import type { EffectContext } from '../types.ts';
import { unitByCallSign } from './incident-created.ts';
import { offsetDateTime, offsetMinutesOf } from './support.ts';

export async function noticeOptions(ctx: EffectContext, epcr: Epcr, kind: HospitalNoticeKind, offsetFrom: string | undefined): Promise<NoticeOptions> {
  const now = ctx.now();
  const offsetMinutes = offsetMinutesOf(offsetFrom);
  const settings = await readAgencySettings(ctx.store, ctx.tenantId);
  const options: NoticeOptions = {
    timestamp: offsetDateTime(now, offsetMinutes),
    kind,
    sender: {
      ...(settings?.name ? { name: settings.name } : {}),
      ...(settings?.agencyNumber ? { agencyNumber: settings.agencyNumber } : {}),
      ...(settings?.callbackPhone ? { callbackPhone: settings.callbackPhone } : {}),
    },
  };
  if (kind === 'pre-arrival') {
    // ePCRs name their unit by call sign, as CAD does (docs/data-model.md).
    const unit = epcr.unitId ? await unitByCallSign(ctx, epcr.unitId) : undefined;
    const facility = settings?.facilities?.find((f) => f.code !== undefined && f.code === epcr.disposition?.destinationCode);
    const eta = estimateEta({
      now,
      offsetMinutes,
      unitPosition: unit?.lastPosition,
      unitPositionAt: unit?.lastPositionAt,
      destination: facility && typeof facility.lat === 'number' && typeof facility.lng === 'number' ? { lat: facility.lat, lng: facility.lng } : undefined,
    });
    if (eta) options.eta = eta;
  }
  return options;
}
