/**
 * The access matrix: every role × every collection × pull, push and the live stream, across two
 * agencies, on a real server with signed tokens from real logins. Asserts exactly what each role
 * sees and may write; everything else is refused (403) or filtered out.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../shared/protocol/index.ts';
import type { CollectionName } from '../../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import {
  COLLECTIONS, DISPATCH_EPCR_KEYS, make, NAMES, pullAll, push, rejectionsOf, rev, ROLE_LIST, seedWorld, signInAll, stored, VISIBLE, type World,
} from '../../helpers/access.ts';

const A = 'agency-a';
const B = 'agency-b';

let server: TestServer;
let worldA: World;
let worldB: World;
let tokens: Record<string, Record<Role, string>>;

beforeAll(async () => {
  server = await startTestServer();
  worldA = await seedWorld(server.app.store, A);
  worldB = await seedWorld(server.app.store, B);
  tokens = { [A]: await signInAll(server, A), [B]: await signInAll(server, B) };
}, 120_000);
afterAll(async () => { await server.close(); });

function idsOf(world: World, names: string[] | undefined): string[] {
  return (names ?? []).map((n) => String(world.docs[n]!['id'])).sort();
}

describe('pull: each role gets exactly its slice, of its own agency only', () => {
  for (const role of ROLE_LIST) {
    for (const collection of COLLECTIONS) {
      const names = VISIBLE[role][collection];
      it(`${role} × ${collection}: ${names ? names.join(', ') : 'refused (403)'}`, async () => {
        for (const [tenant, world] of [[A, worldA], [B, worldB]] as const) {
          const result = await pullAll(server, tokens[tenant]![role], collection);
          if (!names) {
            expect(result.status).toBe(403);
            continue;
          }
          expect(result.status).toBe(200);
          expect(result.docs.map((d) => String(d['id'])).sort()).toEqual(idsOf(world, names));
          expect(result.docs.every((d) => d['tenantId'] === tenant)).toBe(true);
          if (role === 'dispatcher' && collection === 'epcrs') {
            for (const doc of result.docs) expect(Object.keys(doc).every((k) => DISPATCH_EPCR_KEYS.includes(k))).toBe(true);
            expect(JSON.stringify(result.docs)).not.toMatch(/Reyes|chest pain|patient|narrative/);
          }
        }
      });
    }
  }
});

/** A change to one field of a document that the role can see; allowed or not per the table below. */
const MUTATION: Record<CollectionName, (doc: Record<string, unknown>) => Record<string, unknown>> = {
  incidents: (d) => ({ ...d, notes: 'crew on scene' }),
  epcrs: (d) => ({ ...d, narrative: { text: 'amended narrative' } }),
  gps_points: (d) => ({ ...d, lat: 41 }),
  units: (d) => ({ ...d, status: 'en_route' }),
  billing_records: (d) => ({ ...d, payer: 'Medicaid' }),
  claims: (d) => ({ ...d, status: 'submitted' }),
  orders: (d) => ({ ...d, status: 'completed' }),
  tickets: (d) => ({ ...d, status: 'in_progress' }),
  jobs: (d) => ({ ...d, status: 'en_route' }),
  unit_status_events: (d) => ({ ...d, status: 'on_scene' }),
};

/** A new document inside the role's own slice (or a neutral one where it has none). */
function newDocFor(role: Role, collection: CollectionName, tenantId: string): Record<string, unknown> {
  const own: Partial<Record<CollectionName, Record<string, unknown>>> = role === 'technician'
    ? { gps_points: { sourceType: 'technician', sourceId: 'T1' }, jobs: { assigneeId: 'T1' } }
    : { incidents: { assignedUnitId: 'M1' }, epcrs: { unitId: 'M1' }, gps_points: { sourceType: 'unit', sourceId: 'M1' }, units: { callSign: 'M1' }, unit_status_events: { unitId: 'M1' } };
  return make[collection](tenantId, own[collection] ?? {});
}

const MAY_CREATE: Record<Role, CollectionName[]> = {
  crew: ['epcrs', 'gps_points', 'units', 'unit_status_events'],
  dispatcher: ['incidents', 'units'],
  technician: ['gps_points'],
  biller: ['billing_records', 'claims'],
  office: ['orders'],
  admin: [],
};
/** Whether the MUTATION of the first visible document is allowed. */
const MAY_UPDATE: Record<Role, CollectionName[]> = {
  crew: ['incidents', 'epcrs', 'units'],
  dispatcher: ['incidents', 'units'],
  technician: ['jobs'],
  biller: ['billing_records', 'claims'],
  office: ['orders'],
  admin: [],
};

describe('push: creates and updates are written, or refused and kept', () => {
  for (const role of ROLE_LIST) {
    for (const collection of COLLECTIONS) {
      const create = MAY_CREATE[role].includes(collection);
      it(`${role} × ${collection}: create ${create ? 'written' : 'refused 403 + quarantined'}`, async () => {
        const doc = newDocFor(role, collection, A);
        const r = await push(server, tokens[A]![role], collection, [{ newDocumentState: doc }]);
        if (create) {
          expect(r.status).toBe(200);
          expect(r.body).toEqual([]);
          expect(await stored(server.app.store, collection, A, String(doc['id']))).toEqual(doc);
        } else {
          expect(r.status).toBe(403);
          expect(r.body.error.code).toBe('ACCESS_DENIED');
          expect(r.body.error.details[0].id).toBe(doc['id']);
          expect(await stored(server.app.store, collection, A, String(doc['id']))).toBeUndefined();
          const kept = await server.app.store.findQuarantine({ tenantId: A, collection, documentIds: [String(doc['id'])], limit: 10 });
          expect(kept).toHaveLength(1);
          expect(kept[0]!.actor).toMatchObject({ role, deviceId: `${A}-${roleUser(role)}-tab` });
          expect(JSON.parse(kept[0]!.json)).toEqual(doc);
        }
      });

      const visible = VISIBLE[role][collection];
      if (visible) {
        const allowed = MAY_UPDATE[role].includes(collection);
        it(`${role} × ${collection}: update ${allowed ? 'written' : 'refused: server state back as a conflict, change quarantined'}`, async () => {
          // Start from the server's current state, as a device would after a pull.
          const pulled = (await pullAll(server, tokens[A]![role], collection, 500)).docs;
          const target = pulled.find((d) => d['id'] === worldA.docs[visible[0]!]!['id'] && d['_deleted'] === false)!;
          expect(target).toBeDefined();
          const master = (await stored(server.app.store, collection, A, String(target['id'])))!;
          const next = { ...MUTATION[collection](master), rev: rev(Number(String(master['rev']).split('-')[0]) + 1) };
          const r = await push(server, tokens[A]![role], collection, [{ assumedMasterState: target, newDocumentState: next }]);
          expect(r.status).toBe(200);
          const now = await stored(server.app.store, collection, A, String(target['id']));
          if (allowed) {
            expect(r.body).toEqual([]);
            expect(now).toEqual(next);
          } else {
            expect(now).toEqual(master);
            expect(r.body).toHaveLength(1);
            // The caller gets the server state in the form it may see (dispatchers: projected).
            expect(r.body[0]).toEqual(role === 'dispatcher' && collection === 'epcrs' ? target : master);
            const notices = rejectionsOf(r.headers);
            expect(notices).toHaveLength(1);
            expect(notices[0]!.id).toBe(target['id']);
            expect(notices[0]!.reason.length).toBeGreaterThan(10);
            const kept = await server.app.store.findQuarantine({ tenantId: A, collection, documentIds: [String(target['id'])], limit: 10 });
            expect(kept.map((k) => JSON.parse(k.json))).toContainEqual(next);
          }
        });
      }

      const hidden = NAMES[collection].find((name) => !(visible ?? []).includes(name));
      if (hidden) {
        it(`${role} × ${collection}: a change to a document it cannot see (${hidden}) is refused (403) and reveals nothing`, async () => {
          const doc = worldA.docs[hidden]!;
          const { collection: _c, ...master } = doc;
          void _c;
          const next = { ...MUTATION[collection](master), rev: rev(9) };
          const before = await stored(server.app.store, collection, A, String(doc['id']));
          const r = await push(server, tokens[A]![role], collection, [{ newDocumentState: next }]);
          expect(r.status).toBe(403);
          expect(JSON.stringify(r.body)).not.toContain(String(before?.['rev']));
          expect(await stored(server.app.store, collection, A, String(doc['id']))).toEqual(before);
        });
      }

      it(`${role} × ${collection}: another agency's document is never written`, async () => {
        const theirs = Object.values(worldB.docs).find((d) => d.collection === collection)!;
        const { collection: _c, ...doc } = theirs;
        void _c;
        // Claiming the other agency outright, and writing its id under one's own agency.
        const claim = await push(server, tokens[A]![role], collection, [{ newDocumentState: { ...doc, rev: rev(5) } }]);
        expect(claim.status).toBe(403);
        expect(claim.body.error.code).toBe('TENANT_MISMATCH');
        const hijack = await push(server, tokens[A]![role], collection, [{ newDocumentState: { ...doc, tenantId: A, rev: rev(5) } }]);
        expect(hijack.status).toBe(403);
        expect(await stored(server.app.store, collection, B, String(doc['id']))).toEqual(doc);
        expect(await stored(server.app.store, collection, A, String(doc['id']))).toBeUndefined();
      });
    }
  }
});

function roleUser(role: Role): string {
  return { crew: 'crew-m1', dispatcher: 'dispatch', technician: 'tech-t1', biller: 'biller', office: 'office', admin: 'admin' }[role];
}

describe('stream: each role receives exactly its slice of new commits, of its own agency', () => {
  const sockets: Socket[] = [];
  afterAll(() => { for (const s of sockets) s.close(); });

  it('subscriptions, then a fresh world committed in both agencies', async () => {
    const received = new Map<Role, Map<string, Record<string, unknown>[]>>();
    for (const role of ROLE_LIST) {
      const socket = io(`${server.url}/sync`, { transports: ['websocket'], auth: { token: tokens[A]![role] }, reconnection: false });
      sockets.push(socket);
      const byCollection = new Map<string, Record<string, unknown>[]>();
      received.set(role, byCollection);
      socket.on('change', (change: { collection: string; documents: Record<string, unknown>[] }) => {
        byCollection.set(change.collection, [...(byCollection.get(change.collection) ?? []), ...change.documents]);
      });
      await new Promise<void>((resolve, reject) => { socket.once('connect', () => resolve()); socket.once('connect_error', reject); });
      const ack = await socket.timeout(5000).emitWithAck('subscribe', { collections: Object.fromEntries(COLLECTIONS.map((c) => [c, schemaVersionOf(c)])) }) as { ok: boolean; subscribed: string[] };
      expect(ack.ok).toBe(true);
      expect([...ack.subscribed].sort()).toEqual(Object.keys(VISIBLE[role]).sort());
    }

    const freshA = await seedWorld(server.app.store, A);
    await seedWorld(server.app.store, B);

    for (const role of ROLE_LIST) {
      const byCollection = received.get(role)!;
      for (const collection of COLLECTIONS) {
        const expected = idsOf(freshA, VISIBLE[role][collection]);
        await eventually(`${role} to receive ${collection}`, () => {
          const ids = [...new Set((byCollection.get(collection) ?? []).map((d) => String(d['id'])))];
          return ids.length >= expected.length;
        }, 10_000);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const role of ROLE_LIST) {
      const byCollection = received.get(role)!;
      for (const collection of COLLECTIONS) {
        const docs = byCollection.get(collection) ?? [];
        expect([...new Set(docs.map((d) => String(d['id'])))].sort(), `${role} × ${collection}`).toEqual(idsOf(freshA, VISIBLE[role][collection]));
        expect(docs.every((d) => d['tenantId'] === A)).toBe(true);
        if (role === 'dispatcher' && collection === 'epcrs') {
          for (const doc of docs) expect(Object.keys(doc).every((k) => DISPATCH_EPCR_KEYS.includes(k))).toBe(true);
        }
      }
    }
  });

  it('a subscription to collections a role may not read is refused for those only', async () => {
    const socket = io(`${server.url}/sync`, { transports: ['websocket'], auth: { token: tokens[A]!.crew }, reconnection: false });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const partial = await socket.timeout(5000).emitWithAck('subscribe', { collections: { epcrs: schemaVersionOf('epcrs'), claims: schemaVersionOf('claims') } }) as { ok: boolean; subscribed: string[]; error?: { code: string } };
    expect(partial).toMatchObject({ ok: true, subscribed: ['epcrs'], error: { code: 'FORBIDDEN_COLLECTION' } });
    const none = await socket.timeout(5000).emitWithAck('subscribe', { collections: { claims: schemaVersionOf('claims'), orders: schemaVersionOf('orders') } }) as { ok: boolean; subscribed: string[] };
    expect(none).toMatchObject({ ok: false, subscribed: [] });
  });
});
