import { randomUUID } from 'node:crypto';
import type { Role } from '../../shared/protocol/index.ts';
import type { CollectionName } from '../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import type { Store, WireDocument } from '../../server/store/types.ts';
import type { TestServer } from './server.ts';

export const COLLECTIONS: readonly CollectionName[] = [
  'incidents', 'epcrs', 'gps_points', 'units', 'billing_records', 'claims', 'orders', 'tickets', 'jobs', 'unit_status_events',
];
export const ROLE_LIST: readonly Role[] = ['crew', 'dispatcher', 'technician', 'biller', 'admin'];

export const LOCKED_AT = '2026-11-22T14:02:10-05:00';
const T = '2026-11-22T14:00:00-05:00';
let revCounter = 0;
export const rev = (n = 1) => `${n}-t${++revCounter}`;

/** A valid document of each collection, with the attributes the access rules look at. */
export const make = {
  incidents: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), incidentNumber: `2026-${randomUUID().slice(0, 6)}`, status: 'dispatched', complaint: 'chest pain', _deleted: false, ...extra }),
  epcrs: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({
      id: randomUUID(), tenantId, rev: rev(), status: 'draft', unitId: 'M1', incidentId: randomUUID(),
      times: { unitNotified: T }, patient: { firstName: 'Dana', lastName: 'Reyes', age: 67 }, narrative: { text: 'substernal chest pain' },
      _deleted: false, ...extra,
    }),
  gps_points: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), sourceType: 'unit', sourceId: 'M1', lat: 40, lng: -75, recordedAt: T, _deleted: false, ...extra }),
  units: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), callSign: 'M1', status: 'available', _deleted: false, ...extra }),
  billing_records: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), epcrId: randomUUID(), status: 'draft', payer: 'Medicare', _deleted: false, ...extra }),
  claims: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), billingRecordId: randomUUID(), epcrId: randomUUID(), status: 'draft', frequencyCode: '1', _deleted: false, ...extra }),
  orders: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), orderNumber: `SO-${randomUUID().slice(0, 6)}`, status: 'open', _deleted: false, ...extra }),
  tickets: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), type: 'installation_request', status: 'open', _deleted: false, ...extra }),
  jobs: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), status: 'assigned', _deleted: false, ...extra }),
  unit_status_events: (tenantId: string, extra: Record<string, unknown> = {}) =>
    ({ id: randomUUID(), tenantId, rev: rev(), unitId: 'M1', status: 'en_route', recordedAt: T, _deleted: false, ...extra }),
} satisfies Record<CollectionName, (tenantId: string, extra?: Record<string, unknown>) => WireDocument>;

/**
 * Writes documents as the server itself would (hooks, CAD bridge): no access rules apply. The
 * world is exactly these documents: what their workflows would make (ePCR stubs, jobs) is not
 * written, so each role's expected slice stays what the test lists.
 */
export async function seed(store: Store, collection: string, docs: WireDocument[]): Promise<void> {
  const tenantId = String(docs[0]!['tenantId']);
  await store.writeBatch({
    collection, tenantId, actor: { kind: 'system', tenantId }, planOutbox: false,
    requests: docs.map((doc) => ({ id: String(doc['id']), incoming: doc, decide: () => ({ action: 'write', doc }) })),
  });
}

/** One tenant's worth of documents, named by what makes them visible or not. */
export interface World {
  tenantId: string;
  docs: Record<string, WireDocument & { collection: CollectionName }>;
}

export async function seedWorld(store: Store, tenantId: string): Promise<World> {
  const tk1 = make.tickets(tenantId);
  const tk2 = make.tickets(tenantId);
  const tk3 = make.tickets(tenantId);
  const named: Record<string, [CollectionName, WireDocument]> = {
    incM1: ['incidents', make.incidents(tenantId, { assignedUnitId: 'M1' })],
    incM2: ['incidents', make.incidents(tenantId, { assignedUnitId: 'M2' })],
    incNone: ['incidents', make.incidents(tenantId, { status: 'new' })],
    epcrM1: ['epcrs', make.epcrs(tenantId, { unitId: 'M1' })],
    epcrM1Locked: ['epcrs', make.epcrs(tenantId, { unitId: 'M1', status: 'finalized', lockedAt: LOCKED_AT, finalizeErrors: [] })],
    epcrM2: ['epcrs', make.epcrs(tenantId, { unitId: 'M2' })],
    epcrM2Locked: ['epcrs', make.epcrs(tenantId, { unitId: 'M2', status: 'finalized', lockedAt: LOCKED_AT, finalizeErrors: [] })],
    gpsM1: ['gps_points', make.gps_points(tenantId, { sourceType: 'unit', sourceId: 'M1' })],
    gpsM2: ['gps_points', make.gps_points(tenantId, { sourceType: 'unit', sourceId: 'M2' })],
    gpsT1: ['gps_points', make.gps_points(tenantId, { sourceType: 'technician', sourceId: 'T1' })],
    gpsT2: ['gps_points', make.gps_points(tenantId, { sourceType: 'technician', sourceId: 'T2' })],
    // A crew unit called "T1" must not see the technician T1's positions.
    gpsUnitT1: ['gps_points', make.gps_points(tenantId, { sourceType: 'unit', sourceId: 'T1' })],
    unitM1: ['units', make.units(tenantId, { callSign: 'M1' })],
    unitM2: ['units', make.units(tenantId, { callSign: 'M2' })],
    billing: ['billing_records', make.billing_records(tenantId)],
    claim: ['claims', make.claims(tenantId)],
    order: ['orders', make.orders(tenantId)],
    tk1: ['tickets', tk1],
    tk2: ['tickets', tk2],
    tk3: ['tickets', tk3],
    jobT1: ['jobs', make.jobs(tenantId, { assigneeId: 'T1', ticketId: tk1.id, notes: 'bring a ladder' })],
    jobT2: ['jobs', make.jobs(tenantId, { assigneeId: 'T2', ticketId: tk2.id })],
    eventM1: ['unit_status_events', make.unit_status_events(tenantId, { unitId: 'M1' })],
    eventM2: ['unit_status_events', make.unit_status_events(tenantId, { unitId: 'M2' })],
  };
  const byCollection = new Map<string, WireDocument[]>();
  for (const [collection, doc] of Object.values(named)) byCollection.set(collection, [...(byCollection.get(collection) ?? []), doc]);
  for (const [collection, docs] of byCollection) await seed(store, collection, docs);
  return { tenantId, docs: Object.fromEntries(Object.entries(named).map(([name, [collection, doc]]) => [name, { ...doc, collection }])) };
}

/** The named documents of a world, per collection. */
export const NAMES: Record<CollectionName, string[]> = {
  incidents: ['incM1', 'incM2', 'incNone'], epcrs: ['epcrM1', 'epcrM1Locked', 'epcrM2', 'epcrM2Locked'],
  gps_points: ['gpsM1', 'gpsM2', 'gpsT1', 'gpsT2', 'gpsUnitT1'], units: ['unitM1', 'unitM2'], billing_records: ['billing'],
  claims: ['claim'], orders: ['order'], tickets: ['tk1', 'tk2', 'tk3'], jobs: ['jobT1', 'jobT2'], unit_status_events: ['eventM1', 'eventM2'],
};

/** Which named documents of its own tenant each role may read, per collection. */
export const VISIBLE: Record<Role, Partial<Record<CollectionName, string[]>>> = {
  crew: { incidents: ['incM1'], epcrs: ['epcrM1', 'epcrM1Locked'], gps_points: ['gpsM1'], units: ['unitM1'], unit_status_events: ['eventM1'] },
  dispatcher: {
    incidents: ['incM1', 'incM2', 'incNone'], epcrs: ['epcrM1', 'epcrM1Locked', 'epcrM2', 'epcrM2Locked'],
    gps_points: ['gpsM1', 'gpsM2', 'gpsT1', 'gpsT2', 'gpsUnitT1'], units: ['unitM1', 'unitM2'], unit_status_events: ['eventM1', 'eventM2'],
  },
  technician: { gps_points: ['gpsT1'], jobs: ['jobT1'], tickets: ['tk1'] },
  biller: { epcrs: ['epcrM1Locked', 'epcrM2Locked'], billing_records: ['billing'], claims: ['claim'] },
  office: { orders: ['order'], tickets: ['tk1', 'tk2', 'tk3'], jobs: ['jobT1', 'jobT2'] },
  admin: {
    incidents: ['incM1', 'incM2', 'incNone'], epcrs: ['epcrM1', 'epcrM1Locked', 'epcrM2', 'epcrM2Locked'],
    gps_points: ['gpsM1', 'gpsM2', 'gpsT1', 'gpsT2', 'gpsUnitT1'], units: ['unitM1', 'unitM2'], billing_records: ['billing'],
    claims: ['claim'], orders: ['order'], tickets: ['tk1', 'tk2', 'tk3'], jobs: ['jobT1', 'jobT2'], unit_status_events: ['eventM1', 'eventM2'],
  },
};

export const DISPATCH_EPCR_KEYS = ['id', 'tenantId', 'rev', 'status', 'unitId', 'incidentId', 'times', 'lockedAt', '_deleted'];

export const PASSWORD = 'correct horse battery staple';
export const USERS: { username: string; role: Role; unitId?: string; technicianId?: string }[] = [
  { username: 'crew-m1', role: 'crew', unitId: 'M1' },
  { username: 'dispatch', role: 'dispatcher' },
  { username: 'tech-t1', role: 'technician', technicianId: 'T1' },
  { username: 'biller', role: 'biller' },
  { username: 'office', role: 'office' },
  { username: 'admin', role: 'admin' },
];

/** Creates the users of a tenant (through the server's own service) and signs each one in. */
export async function signInAll(server: TestServer, tenantId: string): Promise<Record<Role, string>> {
  const tokens: Partial<Record<Role, string>> = {};
  await Promise.all(USERS.map(async (user) => {
    await server.app.auth.createUser(tenantId, { ...user, password: PASSWORD });
    tokens[user.role] = (await login(server, tenantId, user.username, PASSWORD, `${tenantId}-${user.username}-tab`)).accessToken;
  }));
  return tokens as Record<Role, string>;
}

export interface LoginAnswer { accessToken: string; refreshToken: string; expiresIn: number; identity: Record<string, unknown> }

export async function login(server: TestServer, tenantId: string, username: string, password: string, deviceId: string): Promise<LoginAnswer> {
  const r = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId, username, password, deviceId }),
  });
  if (r.status !== 200) throw new Error(`login of ${username} failed: ${r.status} ${await r.text()}`);
  return (await r.json()) as LoginAnswer;
}

export async function pullAll(server: TestServer, token: string, collection: string, limit = 2): Promise<{ status: number; docs: Record<string, unknown>[]; pages: number }> {
  const docs: Record<string, unknown>[] = [];
  let checkpoint: unknown;
  let pages = 0;
  for (;;) {
    const q = new URLSearchParams({ schemaVersion: String(schemaVersionOf(collection)), limit: String(limit) });
    if (checkpoint) q.set('checkpoint', JSON.stringify(checkpoint));
    const r = await fetch(`${server.url}/api/sync/${collection}/pull?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (r.status !== 200) return { status: r.status, docs, pages };
    const page = (await r.json()) as { documents: Record<string, unknown>[]; checkpoint: { seq: number } };
    pages++;
    docs.push(...page.documents);
    checkpoint = page.checkpoint;
    if (page.documents.length < limit) return { status: 200, docs, pages };
  }
}

export async function push(server: TestServer, token: string, collection: string, rows: unknown[]): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${server.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

export function rejectionsOf(headers: Headers): { id: string; code: string; reason: string; addendumId?: string }[] {
  const raw = headers.get('x-fieldsync-rejections');
  return raw ? JSON.parse(raw) : [];
}

export async function stored(store: Store, collection: string, tenantId: string, id: string): Promise<WireDocument | undefined> {
  const [doc] = await store.getDocuments(collection, tenantId, [id]);
  return doc ? (JSON.parse(doc.json) as WireDocument) : undefined;
}
