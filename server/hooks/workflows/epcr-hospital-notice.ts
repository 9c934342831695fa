/**
 * epcr-hospital-notice: when a locked report's destination takes notices, the hospital gets the
 * PCR notice (FHIR-shaped Bundle: patient, encounter, latest vitals as LOINC Observations). The
 * idempotency key is per report, so a re-delivery after a crash is dropped by the receiver.
 * The ECG strips the crew photographed (purpose `ecg`) travel in it as FHIR Media, bytes inline.
 */
import type { Epcr } from '../../../shared/schemas/index.ts';
import type { Integrations } from '../../integrations/types.ts';
import type { Workflow } from '../types.ts';
import { hospitalNoticeBundle } from '../../integrations/fhir/notice-bundle.ts';
import { noticeOptions } from './fhir.ts';
import { filesOf, type AttachmentFiles } from './attachment-files.ts';
import { listedAttachments } from '../../../shared/schemas/attachments.ts';
import { becameLocked, read, nonBlankText } from './support.ts';

export function epcrHospitalNoticeWorkflow(deps: { integrations: Integrations; attachments?: AttachmentFiles }): Workflow {
  return {
    name: 'epcr-hospital-notice',
    description: 'Sends the PCR notice (FHIR Bundle: Encounter + LOINC vitals) of a locked report to its destination hospital when that destination has an endpoint.',
    trigger: {
      collection: 'epcrs',
      when: (change) => becameLocked(change, { addendum: false }),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const epcr = await read(ctx, 'epcrs', payload.id);
      if (!epcr?.lockedAt) return;
      const destinationCode = nonBlankText(epcr.disposition?.destinationCode);
      if (!destinationCode || !deps.integrations.hospital.hasEndpoint(destinationCode)) {
        ctx.log.debug({ epcrId: epcr.id, destinationCode }, 'destination takes no notices');
        return;
      }
      await deps.integrations.hospital.notify({
        idempotencyKey: `hospital-notice:${epcr.id}`,
        tenantId: ctx.tenantId,
        epcrId: epcr.id,
        destinationCode,
        body: hospitalNoticeBundle(epcr as Epcr, { ...await noticeOptions(ctx, epcr as Epcr, 'pcr', epcr.lockedAt), images: await ecgImages(deps.attachments, epcr as Epcr) }),
      });
    },
  };
}

/** The report's ECG strips with their stored bytes (none without attachment storage). */
async function ecgImages(files: AttachmentFiles | undefined, epcr: Epcr) {
  if (!files) return [];
  const isEcg = (a: { kind: string; purpose: string }) => a.kind === 'photo' && a.purpose === 'ecg';
  const bytes = await filesOf(files, epcr, isEcg);
  return listedAttachments(epcr as Record<string, unknown>).filter(isEcg).flatMap((a) => {
    const file = bytes.get(a.sha256);
    return file ? [{ sha256: a.sha256, contentType: file.contentType, data: file.bytes.toString('base64'), size: file.bytes.length, capturedAt: a.capturedAt, ...(a.annotation ? { annotation: a.annotation } : {}) }] : [];
  });
}
