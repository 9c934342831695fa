import { NOTICE_READERS } from '../../shared/access/rules.ts';
import type { Identity } from '../../shared/protocol/index.ts';
import type { AccessControl, ReadPlan } from '../replication/access.ts';
import type { CommitEvent, WireDocument } from '../store/types.ts';

/** The committed document an event was made from: who may see the event is who may read it. */
export interface EventSource {
  readonly collection: string;
  /** Shared with every listener of the commit: never to be changed. */
  readonly doc: WireDocument;
}

/**
 * The dispatch live feed's events, made from committed changes. Each carries only what the
 * dashboards need: a dispatcher's feed never carries clinical content. `source` stays on the
 * server (only `payload` is sent).
 */
export type LiveEvent =
  | { type: 'unit:position'; tenantId: string; unitId: string; source: EventSource; payload: Record<string, unknown> }
  | { type: 'technician:position'; tenantId: string; technicianId: string; source: EventSource; payload: Record<string, unknown> }
  | { type: 'unit:status' | 'incident:changed' | 'epcr:progress' | 'billing:changed' | 'claim:changed' | 'job:changed' | 'order:changed' | 'ticket:changed'; tenantId: string; source: EventSource; payload: Record<string, unknown> }
  | { type: keyof typeof NOTICE_READERS; tenantId: string; payload: Record<string, unknown> };

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
    const source: EventSource = { collection: commit.collection, doc };
    switch (commit.collection) {
      case 'units':
        events.push({ type: 'unit:status', tenantId, source, payload: { ...pick(doc, ['id', 'callSign', 'status', 'statusAt', 'currentIncidentId', 'assignmentAcknowledgedAt', '_deleted']), ...meta } });
        break;
      case 'gps_points':
        if (doc['sourceType'] === 'technician') {
          events.push({ type: 'technician:position', tenantId, technicianId: String(doc['sourceId']), source, payload: { ...pick(doc, ['sourceId', 'lat', 'lng', 'heading', 'speedMps', 'recordedAt']), ...meta } });
        } else {
          events.push({ type: 'unit:position', tenantId, unitId: String(doc['sourceId']), source, payload: { ...pick(doc, ['sourceId', 'lat', 'lng', 'heading', 'speedMps', 'recordedAt']), ...meta } });
        }
        break;
      case 'incidents':
        events.push({ type: 'incident:changed', tenantId, source, payload: { ...pick(doc, ['id', 'incidentNumber', 'status', 'type', 'complaint', 'priority', 'address', 'location', 'assignedUnitId', 'timeline', 'transportCompleted', '_deleted']), ...meta } });
        break;
      case 'epcrs': {
        const errors = doc['finalizeErrors'];
        events.push({ type: 'epcr:progress', tenantId, source, payload: { ...pick(doc, ['id', 'incidentId', 'unitId', 'status', 'lockedAt', 'addendumOf', '_deleted']), finalizeErrorCount: Array.isArray(errors) ? errors.length : 0, ...meta } });
        break;
      }
      case 'billing_records':
        // State only: the billing details stay with those who may pull billing records.
        events.push({ type: 'billing:changed', tenantId, source, payload: { ...pick(doc, ['id', 'epcrId', 'incidentId', 'status']), ...meta } });
        break;
      case 'claims':
        events.push({ type: 'claim:changed', tenantId, source, payload: { ...pick(doc, ['id', 'epcrId', 'billingRecordId', 'status', 'frequencyCode']), ...meta } });
        break;
      case 'jobs':
        events.push({ type: 'job:changed', tenantId, source, payload: { ...pick(doc, ['id', 'status', 'statusAt', 'assigneeId', 'orderNumber', 'ticketId', 'orderId']), ...meta } });
        break;
      case 'orders':
        events.push({ type: 'order:changed', tenantId, source, payload: { ...pick(doc, ['id', 'orderNumber', 'status', 'priority']), ...meta } });
        break;
      case 'tickets':
        events.push({ type: 'ticket:changed', tenantId, source, payload: { ...pick(doc, ['id', 'orderNumber', 'status', 'priority', 'type']), ...meta } });
        break;
      default:
        break;
    }
  }
  return events;
}

/**
 * How one socket reads the feed: its read plan per collection, bound once (the identity of a
 * socket never changes), so a GPS burst does not bind scopes per point.
 */
export class LiveSlice {
  private readonly plans = new Map<string, ReadPlan>();
  /** Per event, the copy cut to this reader's projection (see `visibleEvent`). */
  private readonly cut = new WeakMap<LiveEvent, LiveEvent>();

  constructor(private readonly access: AccessControl, readonly identity: Identity) {}

  private planOf(collection: string): ReadPlan {
    let plan = this.plans.get(collection);
    if (!plan) this.plans.set(collection, plan = this.access.readPlan(this.identity, collection));
    return plan;
  }

  /**
   * The event as this socket may receive it, or undefined. Derived from the one access
   * declaration (shared/access/rules.ts), never restated: a document event reaches exactly the
   * sockets whose identity would pull that document, with its payload cut to the reader's
   * projection (a dispatcher's ePCR fields); a server notice reaches the roles `NOTICE_READERS`
   * names. Relation-scoped reads (a technician's tickets) need a store query per event and are
   * not carried: such a reader learns of them by pull or the sync stream.
   */
  visibleEvent(event: LiveEvent): LiveEvent | undefined {
    const { identity } = this;
    if (identity.tenantId !== event.tenantId) return undefined;
    if (!('source' in event)) return (NOTICE_READERS[event.type] as readonly string[]).includes(identity.role) ? event : undefined;
    const plan = this.planOf(event.source.collection);
    if (!this.access.mayRead(identity, event.source.collection, event.source.doc, plan)) return undefined;
    if (plan.kind === 'none' || !plan.project) return event;
    let cut = this.cut.get(event);
    if (!cut) this.cut.set(event, cut = cutToProjection(event, event.source.doc, plan.project));
    return cut;
  }
}

/** Drops the payload's document fields outside the projection; computed fields (counts, seq) stay. */
function cutToProjection(event: LiveEvent, doc: WireDocument, fields: readonly string[]): LiveEvent {
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.payload)) {
    if (Object.prototype.hasOwnProperty.call(doc, key) && !fields.includes(key) && key !== '_deleted') continue;
    payload[key] = value;
  }
  return { ...event, payload };
}
