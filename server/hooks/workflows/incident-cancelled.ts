/**
 * incident-cancelled (compensation): a call cancelled before its transport was completed bills
 * nothing, so a draft billing record made for the assigned unit's report is voided. Records past
 * draft (ready, claimed) are a biller's decision and are left alone.
 */
import type { Workflow } from '../types.ts';
import { became, billingRecordId, read, stubEpcrId, writeDoc } from './support.ts';

export function incidentCancelledWorkflow(): Workflow {
  return {
    name: 'incident-cancelled',
    description: 'Compensation: voids the draft billing record of an incident cancelled before its transport was completed.',
    trigger: {
      collection: 'incidents',
      when: (change) => change.after['transportCompleted'] !== true && became(change, (doc) => doc['status'] === 'cancelled'),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const incident = await read(ctx, 'incidents', payload.id);
      if (!incident?.assignedUnitId || incident.status !== 'cancelled' || incident.transportCompleted) return;
      const billingId = billingRecordId(ctx.tenantId, stubEpcrId(ctx.tenantId, incident.id, incident.assignedUnitId));
      await writeDoc(ctx, 'billing_records', billingId, (current) =>
        (current && !current._deleted && current.status === 'draft' ? { ...current, status: 'void' as const } : undefined));
    },
  };
}
