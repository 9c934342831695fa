import { UNIT_STATUSES } from '../../../shared/schemas/units.ts';
import { incidentSchema } from '../../../shared/schemas/incidents.ts';
import { nextRevision } from '../../../shared/revision.ts';
import { describeSchemaErrors, type CollectionRegistry } from '../../replication/collections.ts';
import { deterministicId, incidentIdFor, unitIdFor } from '../../hooks/ids.ts';
import type { Actor, Store, WireDocument } from '../../store/types.ts';
import { zonedDateTime } from '../../../shared/domain/time.ts';
import { TIMELINE_KEY_BY_STATUS, toOffsetTime, toUnitStatus, type CadInboundEvent } from './events.ts';

export class CadEventError extends Error {}

const TIMELINE_KEYS = new Set(Object.keys(incidentSchema.properties.timeline.properties));



/**
 * Turns one CAD event into document writes through the store, so it replicates to devices and
 * triggers the hooks like any other change. Ids are deterministic, so a re-delivered event
 * rewrites nothing that is already so.
 */
export class CadInbound {
  private readonly actor: Actor;

  /** `actor` defaults to the bridge; the REST endpoints pass the dispatcher who sent the data. */
  constructor(
    private readonly store: Store,
    private readonly tenantId: string,
    actor?: Actor,
    /** The collections' wire validators: CAD data is checked like a device's before it is written. */
    private readonly registry?: CollectionRegistry,
    /** The agency's IANA time zone: CAD's UTC times are written on its wall clock (CAD_TIME_ZONE). */
    private readonly timeZone?: string,
  ) {
    this.actor = actor ?? { kind: 'cad-bridge', tenantId, userId: 'cad-bridge' };
  }

  async apply(event: CadInboundEvent, payload: Record<string, unknown>): Promise<void> {
    switch (event) {
      case 'incident:new': return this.incidentNew(payload);
      case 'incident:status:updated': {
        const status = toIncidentStatus(payload['status']);
        return this.updateIncident(payload, (doc) => ({ ...doc, status }));
      }
      case 'incident:timestamp:updated': return this.updateIncident(payload, (doc) => {
        const key = timelineKey(payload);
        const time = toOffsetTime(payload['time'] ?? payload['timestamp'], this.timeZone);
        if (!time) throw new CadEventError('incident:timestamp:updated needs a valid "time"');
        return { ...doc, timeline: { ...(doc['timeline'] as object | undefined), [key]: time } };
      });
      case 'assignment:received': {
        const unit = requireText(payload, 'unitId');
        await this.updateIncident(payload, (doc) => ({ ...doc, assignedUnitId: unit, status: doc['status'] === 'new' ? 'dispatched' : doc['status'] }));
        return this.updateUnit(unit, (doc) => ({ ...doc, status: 'dispatched', statusAt: toOffsetTime(payload['at'], this.timeZone) ?? nowOffset(this.timeZone), currentIncidentId: incidentIdFor(this.tenantId, requireText(payload, 'incidentNumber')) }));
      }
      case 'transport:completed': return this.updateIncident(payload, (doc) => ({ ...doc, transportCompleted: true }));
      case 'unit:status:updated': {
        const status = toUnitStatus(payload['status']);
        if (!status || !(UNIT_STATUSES as readonly string[]).includes(status)) throw new CadEventError(`unit:status:updated has an unknown status "${String(payload['status'])}"`);
        const incidentNumber = typeof payload['incidentNumber'] === 'string' ? payload['incidentNumber'] : undefined;
        return this.updateUnit(requireText(payload, 'unitId'), (doc) => ({
          ...doc, status, statusAt: toOffsetTime(payload['at'], this.timeZone) ?? nowOffset(this.timeZone),
          ...(incidentNumber ? { currentIncidentId: incidentIdFor(this.tenantId, incidentNumber) } : {}),
        }));
      }
      case 'unit:location:updated': {
        const unit = requireText(payload, 'unitId');
        const lat = Number(payload['lat']);
        const lng = Number(payload['lng'] ?? payload['lon']);
        if (!Number.isFinite(lat) || !Number.isFinite(lng)) throw new CadEventError('unit:location:updated needs numeric lat and lng');
        const recordedAt = toOffsetTime(payload['at'], this.timeZone) ?? nowOffset(this.timeZone);
        const id = deterministicId('cad-gps', this.tenantId, unit, recordedAt, String(lat), String(lng));
        return this.write('gps_points', id, (current) => current ? undefined : {
          id, tenantId: this.tenantId, sourceType: 'unit', sourceId: unit, lat, lng, recordedAt, _deleted: false,
        });
      }
      case 'metrics:updated':
        return; // kept by the bridge for health and the dispatch feed; not a document
    }
  }

  private async incidentNew(payload: Record<string, unknown>): Promise<void> {
    const incidentNumber = requireText(payload, 'incidentNumber');
    const id = incidentIdFor(this.tenantId, incidentNumber);
    const location = payload['location'] as { lat?: unknown; lng?: unknown } | undefined;
    const address = payload['address'] as Record<string, unknown> | undefined;
    await this.write('incidents', id, (current) => {
      const assignedUnitId = typeof payload['assignedUnitId'] === 'string' ? payload['assignedUnitId'] : undefined;
      const timeline: Record<string, string> = {};
      for (const [key, value] of Object.entries((payload['times'] as Record<string, unknown> | undefined) ?? {})) {
        const time = toOffsetTime(value, this.timeZone);
        if (time && TIMELINE_KEYS.has(key)) timeline[key] = time;
      }
      const next: WireDocument = {
        ...(current ?? {}),
        // A repeated incident:new must not move an incident that has progressed back to "new".
        id, tenantId: this.tenantId, incidentNumber, status: (current?.['status'] as string | undefined) ?? (assignedUnitId ? 'dispatched' : 'new'),
        ...text(payload, 'type'), ...text(payload, 'complaint'), ...text(payload, 'priority'), ...text(payload, 'cadRecordId'),
        ...(address ? { address: pickAddress(address) } : {}),
        ...(location && Number.isFinite(Number(location.lat)) ? { location: { lat: Number(location.lat), lng: Number(location.lng) } } : {}),
        ...(assignedUnitId ? { assignedUnitId } : {}),
        ...(Object.keys(timeline).length > 0 ? { timeline: { ...(current?.['timeline'] as object | undefined), ...timeline } } : {}),
        _deleted: false,
      };
      return current && JSON.stringify({ ...current, rev: undefined }) === JSON.stringify({ ...next, rev: undefined }) ? undefined : next;
    });
  }

  private async updateIncident(payload: Record<string, unknown>, change: (doc: WireDocument) => WireDocument): Promise<void> {
    const incidentNumber = requireText(payload, 'incidentNumber');
    const id = incidentIdFor(this.tenantId, incidentNumber);
    await this.write('incidents', id, (current) => {
      const base: WireDocument = current ?? { id, tenantId: this.tenantId, incidentNumber, status: 'new', _deleted: false };
      return change(base);
    });
  }

  private async updateUnit(callSign: string, change: (doc: WireDocument) => WireDocument): Promise<void> {
    const id = unitIdFor(this.tenantId, callSign);
    await this.write('units', id, (current) => change(current ?? { id, tenantId: this.tenantId, callSign, status: 'available', _deleted: false }));
  }

  private async write(collection: string, id: string, build: (current: WireDocument | undefined) => WireDocument | undefined): Promise<void> {
    await this.store.writeBatch({
      collection, tenantId: this.tenantId, actor: this.actor,
      requests: [{
        id, incoming: { _deleted: false },
        decide: (master) => {
          if (master && master.tenantId !== this.tenantId) throw new CadEventError(`${collection} ${id} belongs to another tenant`);
          const current = master ? (JSON.parse(master.json) as WireDocument) : undefined;
          const next = build(current);
          if (!next) return { action: 'noop' };
          const { rev: _ignored, ...rest } = next;
          const doc: WireDocument = { ...rest, id, tenantId: this.tenantId, rev: nextRevision(current?.['rev'] as string | undefined, `cad.${Math.random().toString(36).slice(2, 8)}`), _deleted: false };
          const spec = this.registry?.get(collection);
          if (spec && !spec.validate(doc)) {
            const problem = describeSchemaErrors(spec.validate.errors)[0];
            throw new CadEventError(`the event would make an invalid ${collection} document: ${problem ? `${problem.path}: ${problem.message}` : 'schema check failed'}`);
          }
          return { action: 'write', doc };
        },
      }],
    });
  }
}

const INCIDENT_STATUSES = incidentSchema.properties.status.enum as readonly string[];

/** CAD's incident status words to the incidents schema's statuses; anything else is refused. */
function toIncidentStatus(value: unknown): string {
  const normalized = String(value ?? '').trim().toLowerCase().replace(/[\s-]+/g, '_');
  const aliases: Record<string, string> = { open: 'new', pending: 'new', assigned: 'dispatched', on_scene: 'active', enroute: 'dispatched', en_route: 'dispatched', transport: 'transporting', complete: 'closed', completed: 'closed', canceled: 'cancelled' };
  const status = INCIDENT_STATUSES.includes(normalized) ? normalized : aliases[normalized];
  if (!status) throw new CadEventError(`incident:status:updated has an unknown status "${String(value)}"; expected one of ${INCIDENT_STATUSES.join(', ')}`);
  return status;
}

function requireText(payload: Record<string, unknown>, key: string): string {
  const value = payload[key];
  if (typeof value !== 'string' || value.trim() === '') throw new CadEventError(`the event needs "${key}"`);
  return value.trim();
}

function text(payload: Record<string, unknown>, key: string): Record<string, string> {
  const value = payload[key];
  return typeof value === 'string' && value !== '' ? { [key]: value.slice(0, 200) } : {};
}

function pickAddress(address: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['street', 'apartment', 'city', 'state', 'zip', 'county', 'crossStreet']) {
    const value = address[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  return out;
}

function timelineKey(payload: Record<string, unknown>): string {
  const given = String(payload['field'] ?? payload['status'] ?? '');
  if (TIMELINE_KEYS.has(given)) return given;
  const byStatus = TIMELINE_KEY_BY_STATUS[toUnitStatus(given) ?? ''];
  if (!byStatus) throw new CadEventError(`incident:timestamp:updated has an unknown field "${given}"`);
  return byStatus;
}

/** Now, on the agency's wall clock (see toOffsetTime). */
function nowOffset(timeZone: string | undefined): string {
  return zonedDateTime(new Date(), timeZone);
}
