import type { Change } from '../../hooks/types.ts';
import { unitStatusFromCrewDevice } from '../../hooks/workflows/unit-status.ts';
import type { OutboxEntryInput, WireDocument } from '../../store/types.ts';
import type { CadOutboundEvent } from './events.ts';

/** The collections whose changes CAD hears about (server/app.ts registers the mapper for each). */
export const CAD_WATCHED_COLLECTIONS = ['units', 'unit_status_events', 'gps_points', 'incidents'] as const;

/**
 * What CAD must hear about when data arrives from devices or hooks, as CAD-queue outbox entries
 * made in the same transaction as the change (so they are durable and in commit order).
 * Changes that came from CAD itself are not echoed back.
 */
export function cadOutboundFor(change: Change): OutboxEntryInput[] {
  if (change.actor.kind === 'cad-bridge') return [];
  const entries: OutboxEntryInput[] = [];
  const add = (event: CadOutboundEvent, payload: Record<string, unknown>, suffix = '') => entries.push({
    queue: 'cad',
    key: `cad:${change.collection}/${change.id}@${change.seq}:${event}${suffix}`,
    kind: event,
    tenantId: change.tenantId,
    payload,
    causationId: `${change.collection}/${change.id}@${change.seq}`,
  });
  const { before, after } = change;
  switch (change.collection) {
    case 'units':
      // An MDT reports every status press as a status event (below); its unit document carries
      // only the latest one, so a status change a crew device wrote is not sent a second time.
      if (before?.['status'] !== after['status'] && !unitStatusFromCrewDevice(change)) {
        add('unit:status', { unitId: after['callSign'], status: after['status'], at: after['statusAt'], incidentId: after['currentIncidentId'] });
      }
      break;
    case 'unit_status_events':
      // One per press, in the order the server received them (the device's queue keeps the
      // order pressed), each with the time the device recorded.
      if (!before && !after._deleted) {
        add('unit:status', { unitId: after['unitId'], status: after['status'], at: after['recordedAt'], incidentId: after['incidentId'], statusEventId: after['id'] });
      }
      break;
    case 'gps_points':
      if (!before && after['sourceType'] === 'unit') {
        add('unit:location', { unitId: after['sourceId'], lat: after['lat'], lng: after['lng'], at: after['recordedAt'] });
      }
      break;
    case 'incidents':
      incidentEvents(before, after, add);
      break;
    default:
      break;
  }
  return entries;
}

function incidentEvents(
  before: WireDocument | undefined,
  after: WireDocument,
  add: (event: CadOutboundEvent, payload: Record<string, unknown>, suffix?: string) => void,
): void {
  const incident = { incidentNumber: after['incidentNumber'], incidentId: after['id'] };
  if (after['assignedUnitId'] && before?.['assignedUnitId'] !== after['assignedUnitId']) {
    add('assignment:sent', { ...incident, unitId: after['assignedUnitId'] });
  }
  if (before && before['status'] !== after['status']) add('incident:status', { ...incident, status: after['status'] });
  const was = (before?.['timeline'] ?? {}) as Record<string, unknown>;
  const now = (after['timeline'] ?? {}) as Record<string, unknown>;
  for (const [field, time] of Object.entries(now)) {
    if (was[field] !== time) add('incident:timestamp', { ...incident, field, time }, `:${field}`);
  }
  if (after['transportCompleted'] === true && before?.['transportCompleted'] !== true) add('transport:completed', { ...incident });
}
