/**
 * job-signed: the customer's signature completes the job (issue 18). When a job lists a
 * customer signature (purpose `customer-signature`, not removed) and its bytes are stored, the
 * job becomes `completed` (and job-progress closes its ticket). Bytes that arrive after the
 * reference ask again (server/attachments/plugin.ts enqueues this workflow), so the order in which
 * the technician's phone delivers the job and the signature does not matter. A job completed
 * without a signature stays completed: the signature completes a job, it is not required to.
 */
import { listedAttachments } from '../../../shared/schemas/attachments.ts';
import type { Workflow } from '../types.ts';
import type { AttachmentFiles } from './attachment-files.ts';
import { offsetDateTime, offsetMinutesOf, read, writeDoc } from './support.ts';

export const CUSTOMER_SIGNATURE = 'customer-signature';

function customerSignature(doc: Record<string, unknown> | undefined) {
  return listedAttachments(doc).find((a) => a.kind === 'signature' && a.purpose === CUSTOMER_SIGNATURE);
}

export function jobSignedWorkflow(deps: { attachments?: AttachmentFiles }): Workflow {
  return {
    name: 'job-signed',
    description: 'Completes a field job once the customer\'s signature it lists is stored (and so closes its ticket through job-progress).',
    trigger: {
      collection: 'jobs',
      when: (change) => !change.after._deleted && change.after['status'] !== 'completed' && customerSignature(change.after) !== undefined,
      key: (change) => `${change.id}@${customerSignature(change.after)?.sha256 ?? ''}`,
    },
    async run(ctx, payload) {
      const job = await read(ctx, 'jobs', payload.id);
      const signature = customerSignature(job);
      if (!job || job._deleted || job.status === 'completed' || !signature) return;
      if (deps.attachments && !await deps.attachments.isLinked({ tenantId: ctx.tenantId, collection: 'jobs', docId: job.id, sha256: signature.sha256 })) {
        ctx.log.info({ jobId: job.id }, 'customer signature listed; the job completes when its bytes arrive');
        return;
      }
      await writeDoc(ctx, 'jobs', job.id, (current) => {
        if (!current || current._deleted || current.status === 'completed' || !customerSignature(current)) return undefined;
        return { ...current, status: 'completed' as const, statusAt: offsetDateTime(ctx.now(), offsetMinutesOf(signature.capturedAt)) };
      });
    },
  };
}
