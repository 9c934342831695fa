/**
 * epcr-cad-notice: the CAD learns that a unit's report on an incident is finalized (for its call
 * closing). The payload carries identifiers and dispositions only, no patient data: the CAD does
 * not need PHI to close a call.
 */
import type { Integrations } from '../../integrations/types.ts';
import type { Workflow } from '../types.ts';
import { becameLocked, read } from './support.ts';

export function epcrCadNoticeWorkflow(deps: { integrations: Integrations }): Workflow {
  return {
    name: 'epcr-cad-notice',
    description: 'Queues an epcr:finalized notice for the CAD bridge when the server locks a report.',
    trigger: {
      collection: 'epcrs',
      when: (change) => becameLocked(change, { addendum: false }),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const epcr = await read(ctx, 'epcrs', payload.id);
      if (!epcr?.lockedAt) return;
      const payloadFields: Record<string, unknown> = {
        epcrId: epcr.id,
        unitId: epcr.unitId,
        lockedAt: epcr.lockedAt,
        ...(epcr.incidentId ? { incidentId: epcr.incidentId } : {}),
        ...(epcr.response?.incidentNumber ? { incidentNumber: epcr.response.incidentNumber } : {}),
        ...(epcr.disposition?.unitDisposition ? { unitDisposition: epcr.disposition.unitDisposition } : {}),
        ...(epcr.disposition?.transportDisposition ? { transportDisposition: epcr.disposition.transportDisposition } : {}),
        ...(epcr.disposition?.destinationCode ? { destinationCode: epcr.disposition.destinationCode } : {}),
      };
      await deps.integrations.cad.send({
        idempotencyKey: `cad:epcr:finalized:${epcr.id}`,
        tenantId: ctx.tenantId,
        event: 'epcr:finalized',
        payload: payloadFields,
      });
    },
  };
}
