import type { Identity } from '../../shared/protocol/index.ts';
import type { CommitEvent, WireDocument } from '../store/types.ts';

/**
 * The dispatch live feed's events, made from committed changes. Each carries only what the
 * dashboards need: a dispatcher's feed never carries clinical content.
 */
export type LiveEvent =
  | { type: 'unit:status'; tenantId: string; unitId: string; payload: Record<string, unknown> }
  | { type: 'unit:position'; tenantId: string; unitId: string; payload: Record<string, unknown> }
  | { type: 'technician:position'; tenantId: string; technicianId: string; payload: Record<string, unknown> }
  | { type: 'incident:changed'; tenantId: string; unitId: string | undefined; payload: Record<string, unknown> }
  | { type: 'epcr:progress'; tenantId: string; unitId: string | undefined; locked: boolean; payload: Record<string, unknown> }
  | { type: 'billing:changed' | 'claim:changed'; tenantId: string; payload: Record<string, unknown> }
  | { type: 'job:changed'; tenantId: string; technicianId: string | undefined; payload: Record<string, unknown> }
  | { type: 'order:changed' | 'ticket:changed'; tenantId: string; payload: Record<string, unknown> }
  | { type: 'hook:failed'; tenantId: string; payload: Record<string, unknown> };

/** Position events may be coalesced and dropped to the latest; every other event is delivered. */
export function isDroppable(event: LiveEvent): boolean {
  return event.type === 'unit:position' || event.type === 'technician:position';
}

/** The key under which a droppable event replaces an older one of the same subject. */
export function coalesceKey(event: LiveEvent): string {
  if (event.type === 'unit:position') return `u|${event.unitId}`;
  if (event.type === 'technician:position') return `t|${event.technicianId}`;
  return '';
}

function pick(doc: WireDocument, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (doc[key] !== undefined) out[key] = doc[key];
  return out;
}

export function liveEventsOf(commit: CommitEvent): LiveEvent[] {
  const events: LiveEvent[] = [];
  for (const [i, stored] of commit.documents.entries()) {
    // The store's objects when it has them: no JSON work per point on the way to dispatch.
    const doc = commit.objects?.[i] ?? (JSON.parse(stored.json) as WireDocument);
    const meta = { seq: stored.seq, committedAt: stored.committedAt };
    const tenantId = commit.tenantId;
    switch (commit.collection) {
      case 'units':
        events.push({ type: 'unit:status', tenantId, unitId: String(doc['callSign']), payload: { ...pick(doc, ['id', 'callSign', 'status', 'statusAt', 'currentIncidentId', 'assignmentAcknowledgedAt', '_deleted']), ...meta } });
        break;
      case 'gps_points':
        if (doc['sourceType'] === 'technician') {
          events.push({ type: 'technician:position', tenantId, technicianId: String(doc['sourceId']), payload: { ...pick(doc, ['sourceId', 'lat', 'lng', 'heading', 'speedMps', 'recordedAt']), ...meta } });
        } else {
          events.push({ type: 'unit:position', tenantId, unitId: String(doc['sourceId']), payload: { ...pick(doc, ['sourceId', 'lat', 'lng', 'heading', 'speedMps', 'recordedAt']), ...meta } });
        }
        break;
      case 'incidents':
        events.push({ type: 'incident:changed', tenantId, unitId: doc['assignedUnitId'] as string | undefined, payload: { ...pick(doc, ['id', 'incidentNumber', 'status', 'type', 'complaint', 'priority', 'address', 'location', 'assignedUnitId', 'timeline', 'transportCompleted', '_deleted']), ...meta } });
        break;
      case 'epcrs': {
        const errors = doc['finalizeErrors'];
        events.push({ type: 'epcr:progress', tenantId, unitId: doc['unitId'] as string | undefined, locked: typeof doc['lockedAt'] === 'string', payload: { ...pick(doc, ['id', 'incidentId', 'unitId', 'status', 'lockedAt', 'addendumOf', '_deleted']), finalizeErrorCount: Array.isArray(errors) ? errors.length : 0, ...meta } });
        break;
      }
      case 'billing_records':
        // State only: the billing details stay with those who may pull billing records.
        events.push({ type: 'billing:changed', tenantId, payload: { ...pick(doc, ['id', 'epcrId', 'incidentId', 'status']), ...meta } });
        break;
      case 'claims':
        events.push({ type: 'claim:changed', tenantId, payload: { ...pick(doc, ['id', 'epcrId', 'billingRecordId', 'status', 'frequencyCode']), ...meta } });
        break;
      case 'jobs':
        events.push({ type: 'job:changed', tenantId, technicianId: doc['assigneeId'] as string | undefined, payload: { ...pick(doc, ['id', 'status', 'statusAt', 'assigneeId', 'orderNumber', 'ticketId', 'orderId']), ...meta } });
        break;
      case 'orders':
        events.push({ type: 'order:changed', tenantId, payload: { ...pick(doc, ['id', 'orderNumber', 'status', 'priority']), ...meta } });
        break;
      case 'tickets':
        events.push({ type: 'ticket:changed', tenantId, payload: { ...pick(doc, ['id', 'orderNumber', 'status', 'priority', 'type']), ...meta } });
        break;
      default:
        break;
    }
  }
  return events;
}

/** Who may see an event on the live feed: the same slices as replication pull. */
export function canSee(identity: Identity, event: LiveEvent): boolean {
  if (identity.tenantId !== event.tenantId) return false;
  switch (identity.role) {
    case 'admin':
    case 'dispatcher':
      return event.type !== 'hook:failed' || identity.role === 'admin';
    case 'crew':
      if (event.type === 'unit:status' || event.type === 'unit:position') return event.unitId === identity.unitId;
      if (event.type === 'incident:changed' || event.type === 'epcr:progress') return event.unitId !== undefined && event.unitId === identity.unitId;
      return false;
    case 'technician':
      if (event.type === 'technician:position') return event.technicianId === identity.technicianId;
      if (event.type === 'job:changed') return event.technicianId !== undefined && event.technicianId === identity.technicianId;
      return false;
    case 'biller':
      // Billers see finalized reports only, as in pull.
      return event.type === 'billing:changed' || event.type === 'claim:changed' || (event.type === 'epcr:progress' && event.locked);
    default:
      return false;
  }
}
