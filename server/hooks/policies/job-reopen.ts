import { RefusalCode } from '../../../shared/protocol/index.ts';
import type { WritePolicy } from '../../replication/write-policy.ts';

/**
 * A completed job is reopened only with a reason (issue 20): the write that moves a job out of
 * `completed` must bring a new `reopenReason`, which the office and the ticket's history then
 * show. The access declaration cannot say "this field changes only together with that one";
 * this policy does, in the push's transaction. The phone's "Reopen job" asks for the reason first;
 * a write without one (another client, an old build) is refused and kept like any refusal.
 */
export const jobReopenPolicy: WritePolicy = {
  name: 'job-reopen',
  collections: ['jobs'],
  decide({ stored, toWrite, verdict }) {
    if (verdict.kind !== 'allow' || !stored || stored['status'] !== 'completed') return undefined;
    if (toWrite['_deleted'] === true || toWrite['status'] === 'completed') return undefined;
    const reason = toWrite['reopenReason'];
    if (typeof reason === 'string' && reason.trim() !== '' && reason !== stored['reopenReason']) return undefined;
    return {
      rejection: {
        code: RefusalCode.TRANSITION_NOT_ALLOWED,
        reason: 'A completed job is reopened only with a reason: say why in "Reopen job" (reopenReason) with the new status; the job stays completed.',
      },
    };
  },
};
