/**
 * The unit's side of a call's lifecycle (docs/data-model.md, "Incident lifecycle"): status
 * presses, transport completed, and going available, which ends the unit's part in the call.
 *
 * A status press writes two things: a `unit_status_events` document (a new one every time,
 * insert-only, so the outbound queue never folds two presses into one and every status reaches
 * the server and CAD in the order pressed, each with the time recorded here), and the unit's own
 * document, which holds only the latest status for the screens. The server stamps the call's
 * timeline, the report's times and CAD from the events (server/hooks/workflows/unit-status-event.ts).
 */
import { INCIDENT_PROGRESS, progressBefore } from '../../../shared/schemas/incidents.ts';
import type { Incident, Unit } from '../../../shared/schemas/index.ts';
import { UNIT_FREE_STATUSES } from '../../../shared/schemas/units.ts';
import { write } from '../../ui/db.ts';
import { deviceIds, uuid } from '../../ui/ids.ts';
import type { Session } from '../../session/identity.ts';
import { offsetDateTime } from '../../ui/time.ts';

export type UnitStatus = NonNullable<Unit['status']>;
type Ops = Parameters<typeof write.mutate>[2];

/** The calls a unit may still be working (closed and cancelled calls are shown only while they are its current call). */
const WORKING: ReadonlySet<string> = new Set(INCIDENT_PROGRESS);

/**
 * Changes this unit's document. A unit the device does not have yet (a new MDT before dispatch
 * or CAD registered it) is made with the id CAD would give it, so the two are one unit.
 */
export async function unitOps(session: Session, existingId: string | undefined, ops: Ops) {
  if (existingId) return write.mutate('units', existingId, ops);
  const callSign = session.user.unitId!;
  const id = await deviceIds.unitIdFor(session.user.tenantId, callSign);
  return write.upsert('units', { id, tenantId: session.user.tenantId, callSign, status: 'available', statusAt: offsetDateTime() }, ops);
}

/**
 * The call the MDT shows: the unit's current call (also once dispatch closed or cancelled it, so
 * the crew sees why), else a call assigned to the unit that it has not finished, unless the unit
 * is free (it went available after its last call).
 */
export function currentAssignment(unit: Unit | undefined, incidents: readonly Incident[]): Incident | undefined {
  if (unit?.currentIncidentId) {
    const current = incidents.find((i) => i.id === unit.currentIncidentId);
    if (current) return current;
  }
  if (unit && UNIT_FREE_STATUSES.has(unit.status)) return undefined;
  return incidents.find((i) => WORKING.has(i.status) && !i.timeline?.backInService);
}

/** One status press: the event (kept for ever, in order) and the unit's latest status. */
export async function recordStatus(session: Session, unit: Unit | undefined, status: UnitStatus, assignment: Incident | undefined): Promise<void> {
  const callSign = session.user.unitId!;
  const at = offsetDateTime();
  const incidentId = unit?.currentIncidentId ?? assignment?.id;
  await write.insert('unit_status_events', {
    id: uuid(), tenantId: session.user.tenantId, unitId: callSign, status, recordedAt: at,
    ...(incidentId ? { incidentId } : {}),
  });
  const ops: Ops = [{ op: 'set', path: ['status'], value: status }, { op: 'set', path: ['statusAt'], value: at }];
  // Going available ends the unit's part in the call: the MDT stops showing it.
  if (UNIT_FREE_STATUSES.has(status)) ops.push({ op: 'unset', path: ['currentIncidentId'] }, { op: 'unset', path: ['assignmentAcknowledgedAt'] }, { op: 'unset', path: ['readNoteIds'] });
  await unitOps(session, unit?.id, ops);
}

/** The crew marks the call's transport completed (the server then makes the billing record). */
export async function completeTransport(incident: Incident): Promise<void> {
  const ops: Ops = [{ op: 'set', path: ['transportCompleted'], value: true }];
  // Only forward: a call not yet transporting becomes so (shared/access/rules.ts lets the crew do exactly this).
  if (progressBefore('transporting').some((s) => s === incident.status)) ops.push({ op: 'set', path: ['status'], value: 'transporting' });
  await write.mutate('incidents', incident.id, ops);
}
