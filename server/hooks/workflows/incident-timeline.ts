/**
 * incident-timeline: CAD status stamps flow into the ePCR. When an incident's timeline changes,
 * the report of its assigned unit (the stub id for that unit) gets the stamps it does not have
 * yet; values the crew entered are never overwritten.
 */
import { deepEqual } from '../../../shared/merge/json.ts';
import type { Workflow } from '../types.ts';
import { fillEpcrTimes } from './epcr-times.ts';
import { read, stubEpcrId } from './support.ts';

export function incidentTimelineWorkflow(): Workflow {
  return {
    name: 'incident-timeline',
    description: 'Fills the assigned unit\'s ePCR times from the incident timeline (only times the report does not have).',
    trigger: {
      collection: 'incidents',
      when: (change) => {
        if (change.after._deleted || !change.after['timeline'] || !change.after['assignedUnitId']) return false;
        return !deepEqual(change.before?.['timeline'], change.after['timeline'])
          || change.before?.['assignedUnitId'] !== change.after['assignedUnitId'];
      },
      // One entry per version of the incident: every timeline change is applied once.
      key: (change) => `${change.id}@${String(change.after['rev'])}`,
    },
    async run(ctx, payload) {
      // The incident as it is now, not as it was at the change: a newer stamp is never lost to an older run.
      const incident = await read(ctx, 'incidents', payload.id);
      if (!incident?.assignedUnitId) return;
      await fillEpcrTimes(ctx, stubEpcrId(ctx.tenantId, incident.id, incident.assignedUnitId), incident.timeline);
    },
  };
}
