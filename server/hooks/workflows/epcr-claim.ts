/**
 * epcr-claim: with auto-claim on, a locked transport report is claimed right away: the billing
 * record is made sure of (the same call epcr-billing makes, so the order of the two does not
 * matter), the original claim is created, submitted through the claims gateway and marked
 * submitted/accepted, and the billing record becomes `claimed`.
 */
import type { Workflow } from '../types.ts';
import { billingForLockedReport } from './billing.ts';
import { ensureOriginalClaim, type ClaimDeps } from './claims.ts';
import { becameLocked, read } from './support.ts';

export function epcrClaimWorkflow(deps: ClaimDeps & { autoClaimAfterFinalize: boolean }): Workflow {
  return {
    name: 'epcr-claim',
    description: 'With auto-claim on: creates and submits the original claim (frequency 1) of a locked transport report.',
    trigger: {
      collection: 'epcrs',
      // Off: no entries at all. The workflow stays registered so entries made while it was on still run.
      when: (change) => deps.autoClaimAfterFinalize && becameLocked(change, { addendum: false }),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      if (!deps.autoClaimAfterFinalize) return;
      const epcr = await read(ctx, 'epcrs', payload.id);
      if (!epcr?.lockedAt) return;
      const billing = await billingForLockedReport(ctx, epcr);
      if (billing) await ensureOriginalClaim(ctx, deps, billing.id);
    },
  };
}
