/**
 * epcr-billing: once the server locked a report, its billing record exists and is complete:
 * created if missing (same id as transport-completed's, so only one ever exists), or brought up
 * to date from the locked report while it is still a draft.
 */
import type { Workflow } from '../types.ts';
import { billingForLockedReport } from './billing.ts';
import { becameLocked, read } from './support.ts';

export function epcrBillingWorkflow(): Workflow {
  return {
    name: 'epcr-billing',
    description: 'Creates (or completes a draft) billing record from a report the server just locked, when this unit transported the patient.',
    trigger: {
      collection: 'epcrs',
      when: (change) => becameLocked(change, { addendum: false }),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const epcr = await read(ctx, 'epcrs', payload.id);
      if (!epcr?.lockedAt) return;
      await billingForLockedReport(ctx, epcr);
    },
  };
}
