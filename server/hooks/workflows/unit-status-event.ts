/**
 * unit-status-event: each status a unit's MDT recorded (a `unit_status_events` document, one per
 * button press, delivered in the order pressed even after hours out of coverage) stamps the
 * matching eTimes on the call it belongs to with the time the device recorded, where that time is
 * not stamped yet; moves the call forward (en route / on scene → active, transporting → transporting);
 * and, when the unit goes available after the call, clears the unit's current call. The incident
 * write chains to incident-timeline, which carries the stamps into the ePCR where the crew has not
 * entered a time itself. CAD hears of each event through the CAD queue (cad-bridge/outbound-mapper.ts).
 */
import type { Incident, UnitStatusEvent } from '../../../shared/schemas/index.ts';
import { INCIDENT_PROGRESS } from '../../../shared/schemas/incidents.ts';
import { UNIT_FREE_STATUSES } from '../../../shared/schemas/units.ts';
import type { Workflow } from '../types.ts';
import { unitByCallSign } from './incident-created.ts';
import { read, nonBlankText, writeDoc } from './support.ts';
import { timelineStamps } from './unit-status.ts';

type IncidentStatus = Incident['status'];

/** The incident status a unit status implies for its call, if any. */
const INCIDENT_STATUS_OF: Readonly<Partial<Record<UnitStatusEvent['status'], IncidentStatus>>> = {
  en_route: 'active',
  on_scene: 'active',
  transporting: 'transporting',
  at_destination: 'transporting',
};

/** A status event only ever moves its call forward (INCIDENT_PROGRESS); closed and cancelled are dispatch's. */
export function forwardStatus(current: IncidentStatus, implied: IncidentStatus | undefined): IncidentStatus {
  if (!implied) return current;
  const progress: readonly string[] = INCIDENT_PROGRESS;
  const from = progress.indexOf(current);
  const to = progress.indexOf(implied);
  return from >= 0 && to > from ? implied : current;
}

export function unitStatusEventWorkflow(): Workflow {
  return {
    name: 'unit-status-event',
    description: 'Stamps the call\'s timeline from each recorded unit status with the device\'s time, moves the call forward, and frees the unit when it goes available.',
    trigger: {
      collection: 'unit_status_events',
      // Events are insert-only: the first version is the event.
      when: (change) => !change.before && !change.after._deleted,
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const event = await read(ctx, 'unit_status_events', payload.id);
      if (!event) return;
      const unit = await unitByCallSign(ctx, event.unitId);
      const incidentId = nonBlankText(event.incidentId) ?? nonBlankText(unit?.currentIncidentId);
      if (incidentId) {
        if (!(await read(ctx, 'incidents', incidentId))) {
          ctx.log.warn({ unitId: event.unitId, incidentId }, 'a status event names an incident this server does not have; nothing stamped');
        } else {
          await writeDoc(ctx, 'incidents', incidentId, (current) => {
            if (!current || current._deleted) return undefined;
            // Another unit's status must not stamp the times of the unit the call is assigned to.
            if (current.assignedUnitId && current.assignedUnitId !== event.unitId) return undefined;
            const stamps = timelineStamps(event.status, current.timeline);
            const status = forwardStatus(current.status, INCIDENT_STATUS_OF[event.status]);
            if (stamps.length === 0 && status === current.status) return undefined;
            return { ...current, status, ...(stamps.length > 0 ? { timeline: { ...current.timeline, ...Object.fromEntries(stamps.map((stamp) => [stamp, event.recordedAt])) } } : {}) };
          });
        }
      }
      // Going available after the call: the unit no longer works it (the MDT clears it too; this
      // covers units whose current call was set by CAD or dispatch after the device last synced).
      if (UNIT_FREE_STATUSES.has(event.status) && unit?.currentIncidentId && (!incidentId || unit.currentIncidentId === incidentId)) {
        await writeDoc(ctx, 'units', unit.id, (current) => {
          if (!current || current._deleted || current.currentIncidentId !== unit.currentIncidentId) return undefined;
          const { currentIncidentId: _dropped, assignmentAcknowledgedAt: _ack, readNoteIds: _read, ...rest } = current;
          return rest;
        });
      }
    },
  };
}
