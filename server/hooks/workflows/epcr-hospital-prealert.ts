/**
 * epcr-hospital-prealert: once the crew has left the scene with a patient for a destination that
 * takes notices, the hospital gets a pre-arrival alert (FHIR Bundle: patient, encounter in
 * progress with the chief complaint and any eDisposition.24 alert, latest vitals as preliminary
 * observations), so the emergency department can ready a team before the ambulance arrives. The
 * full PCR notice follows after the report is locked (epcr-hospital-notice), under its own key.
 *
 * Sent once per report: a change of destination after the alert went out is for the crew to
 * phone in; the full notice goes to the final destination.
 */
import type { Epcr } from '../../../shared/schemas/index.ts';
import type { Integrations } from '../../integrations/types.ts';
import type { Change, Workflow } from '../types.ts';
import { hospitalNoticeBundle } from '../../integrations/fhir/notice-bundle.ts';
import { noticeOptions } from './fhir.ts';
import { became, read, nonBlankText } from './support.ts';

/** A draft report of a patient on the way to a destination: left the scene, not yet arrived. */
function transporting(doc: Record<string, unknown>): boolean {
  const epcr = doc as Partial<Epcr>;
  // An imported report is another system's finished record: no notice is sent from it.
  return epcr.status === 'draft' && epcr.lockedAt === undefined && epcr.addendumOf === undefined && epcr.importedAt === undefined
    && nonBlankText(epcr.times?.unitLeftScene) !== undefined && nonBlankText(epcr.times?.atDestination) === undefined
    && nonBlankText(epcr.disposition?.destinationCode) !== undefined;
}

export function epcrHospitalPrealertWorkflow(deps: { integrations: Integrations }): Workflow {
  return {
    name: 'epcr-hospital-prealert',
    description: 'Sends a pre-arrival alert (FHIR Bundle, encounter in progress, latest vitals) to the destination hospital once the unit has left the scene with the patient.',
    trigger: {
      collection: 'epcrs',
      when: (change: Change) => became(change, transporting),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const epcr = await read(ctx, 'epcrs', payload.id);
      // Arrived or finalized in the meantime: the full notice is the one that matters now.
      if (!epcr || !transporting(epcr as Record<string, unknown>)) return;
      const destinationCode = nonBlankText(epcr.disposition?.destinationCode)!;
      if (!deps.integrations.hospital.hasEndpoint(destinationCode)) {
        ctx.log.debug({ epcrId: epcr.id, destinationCode }, 'destination takes no notices');
        return;
      }
      await deps.integrations.hospital.notify({
        idempotencyKey: `hospital-prealert:${epcr.id}`,
        tenantId: ctx.tenantId,
        epcrId: epcr.id,
        destinationCode,
        body: hospitalNoticeBundle(epcr as Epcr, await noticeOptions(ctx, epcr as Epcr, 'pre-arrival', epcr.times?.unitLeftScene)),
      });
    },
  };
}
