/**
 * transport-completed: when the CAD marks an incident's transport completed, the transporting
 * unit's report gets its billing record (created if missing; usually a `draft`, since the crew
 * finishes the report later). A record that is already `ready` goes on to the claim.
 */
import type { Workflow } from '../types.ts';
import { ensureBillingRecord } from './billing.ts';
import { ensureOriginalClaim, type ClaimDeps } from './claims.ts';
import { became, read, stubEpcrId } from './support.ts';

export function transportCompletedWorkflow(deps: ClaimDeps & { autoClaimAfterFinalize: boolean }): Workflow {
  return {
    name: 'transport-completed',
    description: 'Creates the billing record of the transporting unit\'s ePCR when the incident\'s transport is completed, and claims it when it is ready and auto-claim is on.',
    trigger: {
      collection: 'incidents',
      when: (change) => became(change, (doc) => doc['transportCompleted'] === true),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const incident = await read(ctx, 'incidents', payload.id);
      if (!incident?.assignedUnitId) {
        ctx.log.warn({ incidentId: payload.id }, 'transport completed on an incident without an assigned unit; no billing record');
        return;
      }
      const epcrId = stubEpcrId(ctx.tenantId, incident.id, incident.assignedUnitId);
      const stored = await ctx.getDocument('epcrs', epcrId);
      if (!stored) {
        // The stub is made by incident-created, which may not have run yet: try again later.
        throw new Error(`the ePCR ${epcrId} of unit ${incident.assignedUnitId} on incident ${incident.id} does not exist yet`);
      }
      const epcr = await read(ctx, 'epcrs', epcrId);
      if (!epcr) return; // the crew deleted the report
      const billing = await ensureBillingRecord(ctx, epcr, { refreshDraft: false });
      if (deps.autoClaimAfterFinalize && billing?.status === 'ready') await ensureOriginalClaim(ctx, deps, billing.id);
    },
  };
}
