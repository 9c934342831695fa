/**
 * The live feed and pull derive from the one access declaration (shared/access/rules.ts): for
 * every role and collection, the `/live` socket of an identity delivers exactly the documents
 * that identity's pull returns, with no field pull would not send it. If the feed restated who
 * sees what and drifted (a dispatcher receiving billing events, say), this fails.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_RULES, NOTICE_READERS } from '../../../shared/access/rules.ts';
import { ROLES, type Role } from '../../../shared/protocol/index.ts';
import type { CollectionName } from '../../../shared/schemas/index.ts';
import { AccessControl } from '../../../server/replication/access.ts';
import { liveEventsOf, LiveSlice } from '../../../server/realtime/live-events.ts';
import type { WireDocument } from '../../../server/store/types.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { COLLECTIONS, login, make, PASSWORD, pullAll, ROLE_LIST, seed, seedWorld, signInAll, type World } from '../../helpers/access.ts';

const A = 'agency-a';
const B = 'agency-b';

interface Heard { event: string; payload: Record<string, unknown> }

let server: TestServer;
let world: World;
const sockets: Socket[] = [];
const heard = new Map<Role, Heard[]>();
const otherAgency: Heard[] = [];
/** Documents outside the shared world: an addendum (a field the dispatcher projection leaves out). */
const extra: { collection: CollectionName; doc: WireDocument }[] = [];

function listen(token: string, events: Heard[]): Promise<void> {
  const socket = io(`${server.url}/live`, { transports: ['websocket'], auth: { token } });
  sockets.push(socket);
  socket.onAny((event: string, payload: Record<string, unknown>) => events.push({ event, payload }));
  return new Promise((resolve, reject) => {
    socket.once('live:ready', () => resolve());
    socket.once('connect_error', reject);
  });
}

/** The document an event was made from: by id, or for a position by its source (one point per source in the world). */
function docOf(event: Heard, docs: { collection: CollectionName; doc: WireDocument }[]): { collection: CollectionName; doc: WireDocument } | undefined {
  if (event.event === 'unit:position' || event.event === 'technician:position') {
    const sourceType = event.event === 'unit:position' ? 'unit' : 'technician';
    return docs.find((d) => d.collection === 'gps_points' && d.doc['sourceType'] === sourceType && d.doc['sourceId'] === event.payload['sourceId']);
  }
  return docs.find((d) => d.doc['id'] === event.payload['id']);
}

let tokens: Record<Role, string>;

function allDocs(): { collection: CollectionName; doc: WireDocument }[] {
  return [...Object.values(world.docs).map((d) => ({ collection: d.collection, doc: d as WireDocument })), ...extra];
}

/** Whether the feed makes events of a collection at all (status events, say, are not on it). */
function carried(collection: CollectionName): boolean {
  const doc = make[collection](A);
  return liveEventsOf({ collection, tenantId: A, documents: [{ collection, id: doc.id, tenantId: A, seq: 1, json: JSON.stringify(doc), committedAt: 0 }] }).length > 0;
}

beforeAll(async () => {
  server = await startTestServer({ liveGpsIntervalMs: 0 });
  tokens = await signInAll(server, A);
  const tokensB = await signInAll(server, B);
  for (const role of ROLE_LIST) {
    heard.set(role, []);
    await listen(tokens[role], heard.get(role)!);
  }
  // Another agency's admin is connected too: nothing of agency A may reach it.
  await listen(tokensB.admin, otherAgency);

  world = await seedWorld(server.app.store, A);
  const addendum = make.epcrs(A, {
    unitId: 'M1', addendumOf: String(world.docs['epcrM1Locked']!['id']), addendumReason: 'late vitals', finalizeErrors: [{ path: 'vitals', message: 'needed' }],
  });
  extra.push({ collection: 'epcrs', doc: addendum });
  await seed(server.app.store, 'epcrs', [addendum]);
  const docs = allDocs();
  const total = docs.filter((d) => carried(d.collection)).length;
  // The admin reads everything: once it heard every document, every other socket has been served too.
  await eventually('every document on the admin feed', () => {
    const ids = new Set(heard.get('admin')!.map((e) => docOf(e, docs)).filter((d) => d !== undefined).map((d) => d.doc['id']));
    return ids.size >= total ? true : undefined;
  }, 30_000);
  await new Promise((r) => setTimeout(r, 300));
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await server.close();
});

describe('the live feed delivers what pull returns, for every role and collection', () => {
  for (const role of ROLE_LIST) {
    for (const collection of COLLECTIONS) {
      it(`${role} × ${collection}`, async () => {
        const docs = allDocs();
        const pulled = await pullAll(server, tokens[role], collection, 100);
        const pulledById = new Map(pulled.status === 200 ? pulled.docs.map((d) => [String(d['id']), d]) : []);
        const live = heard.get(role)!.map((e) => ({ e, source: docOf(e, docs) })).filter((x) => x.source?.collection === collection);
        // A document a hook wrote again is heard twice; pull has its latest version once.
        const liveIds = [...new Set(live.map((x) => String(x.source!.doc['id'])))].sort();

        // A collection the feed has no event for is not compared (it carries none of it). A relation-scoped read (a technician's tickets) needs a store query per event: the feed
        // does not carry it (docs/protocol.md, section 12), and must never carry more than pull.
        const viaScoped = ACCESS_RULES[collection].read[role]?.scope.kind === 'via';
        if (viaScoped || !carried(collection)) expect(liveIds).toEqual([]);
        else expect(liveIds).toEqual([...pulledById.keys()].sort());

        // No field pull would not send: a projected read (the dispatcher's ePCRs) cuts the event too.
        for (const { e, source } of live) {
          const sent = pulledById.get(String(source!.doc['id']))!;
          const fromDocument = Object.keys(e.payload).filter((k) => Object.prototype.hasOwnProperty.call(source!.doc, k));
          expect(fromDocument.filter((k) => !(k in sent)), `${e.event} fields the ${role} cannot pull`).toEqual([]);
        }
      });
    }
  }

  it('another agency hears nothing of it', () => {
    expect(otherAgency.filter((e) => e.event !== 'live:ready')).toEqual([]);
  });
});

describe('server notices (not documents) go to the roles the declaration names', () => {
  it('hook:failed reaches NOTICE_READERS only, of the same agency', () => {
    const access = new AccessControl({ undeclared: 'deny' });
    const event = { type: 'hook:failed' as const, tenantId: A, payload: { kind: 'billing' } };
    for (const role of ROLES) {
      const slice = new LiveSlice(access, { tenantId: A, role, userId: 'u', deviceId: 'd' });
      expect(slice.visibleEvent(event) !== undefined, role).toBe((NOTICE_READERS['hook:failed'] as readonly string[]).includes(role));
      expect(new LiveSlice(access, { tenantId: B, role, userId: 'u', deviceId: 'd' }).visibleEvent(event)).toBeUndefined();
    }
  });
});

describe('a signed-out session', () => {
  it('loses its /live socket at once, as the /sync stream does', async () => {
    const session = await login(server, A, 'dispatch', PASSWORD, 'console-signing-out');
    const socket = io(`${server.url}/live`, { transports: ['websocket'], auth: { token: session.accessToken }, reconnection: false });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => { socket.once('live:ready', () => resolve()); socket.once('connect_error', reject); });
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const out = await fetch(`${server.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${session.accessToken}` } });
    expect(out.status).toBe(200);
    expect(await disconnected).toBe('io server disconnect');
  });
});
