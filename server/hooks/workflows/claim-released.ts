/**
 * claim-released: a claim held for want of a billing signature (claims.ts, `holdReasonOf`) is
 * released by a biller setting it back to `draft` once the signature (or the paper authorisation)
 * is on file; it is then submitted like any original claim and its billing record becomes `claimed`.
 */
import type { Workflow } from '../types.ts';
import { submitClaimIfDraft, type ClaimDeps } from './claims.ts';
import { writeDoc } from './support.ts';

export function claimReleasedWorkflow(deps: ClaimDeps): Workflow {
  return {
    name: 'claim-released',
    description: 'Submits a held claim (no billing signature) once a biller releases it (status held → draft), and marks its billing record claimed.',
    trigger: {
      collection: 'claims',
      when: (change) => !change.after._deleted && change.after['status'] === 'draft' && change.before?.['status'] === 'held',
      // Per release: a claim held again and released again is submitted again only if still draft.
      key: (change) => `${change.id}@${String(change.after['rev'])}`,
    },
    async run(ctx, payload) {
      const claim = await submitClaimIfDraft(ctx, deps, payload.id);
      if (claim && (claim.status === 'submitted' || claim.status === 'accepted')) {
        await writeDoc(ctx, 'billing_records', claim.billingRecordId, (current) => (current && current.status === 'ready' ? { ...current, status: 'claimed' as const } : undefined));
      }
    },
  };
}
