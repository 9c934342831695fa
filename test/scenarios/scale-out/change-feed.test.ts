/**
 * Three server processes on one PostgreSQL behind a round-robin balancer (no stickiness): 20 crew
 * devices signed in with passwords push concurrently for 10 rounds, each push landing on the next
 * process, while live subscribers spread over the processes listen: every `/sync` subscriber
 * (each crew, dispatchers) hears every change it may see exactly once (none missed, none
 * stale: the last version heard of each document is the server's), `/live` sends each position
 * once and each unit's newest one, a client following docs/protocol.md §11 whose pulls land on
 * any process ends equal to the server, and so does a late puller starting from scratch.
 * (Before the shared change feed, each process streamed only its own commits with its local seq
 * as the checkpoint: such a client skipped what another process had committed earlier, for good,
 * and subscribers of B heard 0 of 10 changes pushed through A.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { ADMIN, LIVE_NAMESPACE, pathOf, STREAM_EVENTS, STREAM_NAMESPACE, SYNC, type StreamChange, type StreamSubscribeAck } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { newEpcr, newGpsPoint } from '../../helpers/factories.ts';
import type { RoundRobinProxy } from '../../helpers/round-robin-proxy.ts';
import { ProcessCluster, pushThrough, signIn, SKIP_POSTGRES, type SignedIn } from './support.ts';

const T = 'agency-feed';
const PASSWORD = 'lantern quartz meadow 4711 scale';
const UNITS = 10;
const ROUNDS = 10;
const POINTS = 10;
const PAGE = 50;
const COLLECTIONS = ['gps_points', 'epcrs'] as const;
type Collection = (typeof COLLECTIONS)[number];
const versions = Object.fromEntries(COLLECTIONS.map((c) => [c, schemaVersionOf(c)])) as Record<Collection, number>;

const cluster = new ProcessCluster();
let proxy: RoundRobinProxy;
const sockets: Socket[] = [];

beforeAll(async () => {
  // Every GPS point goes out on /live (no coalescing), so each one can be counted.
  await cluster.start(3, { LIVE_GPS_INTERVAL_MS: '0' });
  proxy = await cluster.startProxy();
  await cluster.createUsers([
    { tenantId: T, username: 'admin', password: PASSWORD, role: 'admin' },
    { tenantId: T, username: 'dispatcher', password: PASSWORD, role: 'dispatcher' },
  ]);
}, 600_000);
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await cluster.stop();
});

/** `collection/id` → rev. */
type Versions = Map<string, string>;
const keyOf = (collection: string, id: unknown) => `${collection}/${String(id)}`;

async function signInAs(role: 'dispatcher' | 'admin', deviceId: string): Promise<SignedIn> {
  return signIn(proxy.url, T, role, PASSWORD, deviceId);
}

function connect(namespace: string, token: string): Socket {
  const socket = io(`${proxy.url}${namespace}`, { auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  return socket;
}

async function pull(token: string, collection: Collection, checkpoint: unknown, limit = PAGE): Promise<{ documents: { id: string; rev: string }[]; checkpoint: unknown }> {
  const response = await fetch(`${proxy.url}${pathOf(SYNC.pull, { collection })}?schemaVersion=${versions[collection]}&limit=${limit}&checkpoint=${encodeURIComponent(JSON.stringify(checkpoint))}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as { documents: { id: string; rev: string }[]; checkpoint: unknown };
}

/** Everything `token` may pull, from scratch, each page through whichever process is next. */
async function pullAll(token: string): Promise<Versions> {
  const all: Versions = new Map();
  for (const collection of COLLECTIONS) {
    for (let checkpoint: unknown = null; ;) {
      const page = await pull(token, collection, checkpoint, 500);
      for (const doc of page.documents) all.set(keyOf(collection, doc.id), doc.rev);
      checkpoint = page.checkpoint;
      if (page.documents.length < 500) break;
    }
  }
  return all;
}

/** A `/sync` subscriber: how often it heard each version, and the last version it heard of each document. */
class Subscriber {
  readonly heard = new Map<string, number>();
  readonly last: Versions = new Map();

  constructor(readonly name: string, readonly sees: (key: string) => boolean) {}

  async start(token: string): Promise<void> {
    const socket = connect(STREAM_NAMESPACE, token);
    socket.on(STREAM_EVENTS.change, (change: StreamChange) => {
      for (const doc of change.documents) {
        const key = keyOf(change.collection, doc['id']);
        const version = `${key}@${String(doc['rev'])}`;
        this.heard.set(version, (this.heard.get(version) ?? 0) + 1);
        this.last.set(key, String(doc['rev']));
      }
    });
    const ack = (await socket.timeout(30_000).emitWithAck(STREAM_EVENTS.subscribe, { collections: versions })) as StreamSubscribeAck;
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
  }
}

/**
 * A client written from docs/protocol.md §11 alone, for one collection: one serial queue; after
 * the subscribe ack a RESYNC (pull pages until one is short); a `change` whose checkpoint is not
 * above the stored one is dropped, any other is applied and its checkpoint stored. Its pulls go
 * through the balancer, so consecutive pages come from different processes.
 */
class Section11Client {
  readonly docs: Versions = new Map();
  checkpoint: { seq: number } | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly token: string, private readonly collection: Collection) {}

  async start(): Promise<void> {
    const socket = connect(STREAM_NAMESPACE, this.token);
    socket.on(STREAM_EVENTS.change, (change: StreamChange) => this.enqueue(async () => {
      if (change.collection !== this.collection) return;
      const seq = (change.checkpoint as { seq: number }).seq;
      if (this.checkpoint && seq <= this.checkpoint.seq) return;
      for (const doc of change.documents) this.docs.set(keyOf(this.collection, doc['id']), String(doc['rev']));
      this.checkpoint = change.checkpoint as { seq: number };
    }));
    const ack = (await socket.timeout(30_000).emitWithAck(STREAM_EVENTS.subscribe, { collections: { [this.collection]: versions[this.collection] } })) as StreamSubscribeAck;
    expect(ack.ok).toBe(true);
    this.enqueue(() => this.resync());
  }

  async resync(): Promise<void> {
    for (;;) {
      const page = await pull(this.token, this.collection, this.checkpoint);
      for (const doc of page.documents) this.docs.set(keyOf(this.collection, doc.id), doc.rev);
      this.checkpoint = page.checkpoint as { seq: number };
      if (page.documents.length < PAGE) return;
    }
  }

  enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work, work);
  }

  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }
}

describe.skipIf(SKIP_POSTGRES)('three server processes behind a round-robin balancer: one change feed', () => {
  it('20 pushers for 10 rounds: every subscriber on any process hears every change it may see exactly once, and late pullers equal the server', async () => {
    const admin = await signInAs('admin', 'admin-pc');
    // Per unit two crew devices: one sends positions, the other writes the unit's report round after round.
    const units = Array.from({ length: UNITS }, (_, k) => `U${k}`);
    await Promise.all(units.flatMap((unit) => ['gps', 'pcr'].map(async (kind) => {
      const created = await fetch(proxy.url + pathOf(ADMIN.createUser), {
        method: 'POST', headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: `${kind}-${unit}`, password: PASSWORD, role: 'crew', unitId: unit }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
    })));
    const crews = await Promise.all(units.flatMap((unit) => ['gps', 'pcr'].map(async (kind) => ({
      unit, kind, signed: await signIn(proxy.url, T, `${kind}-${unit}`, PASSWORD, `${kind}-tablet-${unit}`),
    }))));

    // Subscribers, spread over the processes by the balancer: each crew device, and three dispatch consoles.
    const expected: Versions = new Map();
    const unitOf = new Map<string, string>();
    const subscribers: Subscriber[] = [];
    for (const crew of crews) {
      const subscriber = new Subscriber(`${crew.kind}-${crew.unit}`, (key) => unitOf.get(key) === crew.unit);
      await subscriber.start(crew.signed.accessToken);
      subscribers.push(subscriber);
    }
    const dispatchers = await Promise.all([0, 1, 2].map((i) => signInAs('dispatcher', `console-${i}`)));
    for (const [i, dispatcher] of dispatchers.entries()) {
      const subscriber = new Subscriber(`dispatch-${i}`, () => true);
      await subscriber.start(dispatcher.accessToken);
      subscribers.push(subscriber);
    }
    // /live is a view: under backpressure it keeps only each unit's newest position (protocol.md
    // §12). What must hold: no position twice, and each unit's newest one arrives.
    const lives = dispatchers.map((dispatcher) => {
      const positions = new Map<number, number>();
      const newest = new Map<string, string>();
      const live = connect(LIVE_NAMESPACE, dispatcher.accessToken);
      live.on('unit:position', (event: { seq: number; sourceId: string; recordedAt: string }) => {
        positions.set(event.seq, (positions.get(event.seq) ?? 0) + 1);
        if ((newest.get(event.sourceId) ?? '') < event.recordedAt) newest.set(event.sourceId, event.recordedAt);
      });
      return { live, positions, newest };
    });
    await eventually('the /live sockets connected', () => lives.every((l) => l.live.connected), 30_000);
    const section11 = COLLECTIONS.map((collection) => new Section11Client(dispatchers[0]!.accessToken, collection));
    for (const client of section11) await client.start();

    // 10 rounds; in each, every device pushes at once, each request through the next process.
    const newestOfUnit = new Map<string, string>();
    const reports = new Map<string, Record<string, unknown> & { id: string; rev: string }>();
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(crews.map(async ({ unit, kind, signed }) => {
        let collection: Collection;
        let rows: unknown[];
        if (kind === 'gps') {
          collection = 'gps_points';
          const points = Array.from({ length: POINTS }, (_, j) => ({ ...newGpsPoint(T, unit, round * POINTS + j), rev: `1-${unit}`, _deleted: false }));
          for (const point of points) {
            expected.set(keyOf(collection, point.id), point.rev);
            unitOf.set(keyOf(collection, point.id), unit);
            if ((newestOfUnit.get(unit) ?? '') < point.recordedAt) newestOfUnit.set(unit, point.recordedAt);
          }
          rows = points.map((newDocumentState) => ({ newDocumentState }));
        } else {
          collection = 'epcrs';
          const before = reports.get(unit);
          const report = before
            ? { ...before, rev: `${round + 1}-${unit}`, narrative: { text: `round ${round} of ${unit}` } }
            : { ...newEpcr(T, unit), rev: `1-${unit}`, _deleted: false, narrative: { text: `round 0 of ${unit}` } };
          reports.set(unit, report);
          expected.set(keyOf(collection, report.id), report.rev);
          unitOf.set(keyOf(collection, report.id), unit);
          rows = [before ? { assumedMasterState: before, newDocumentState: report } : { newDocumentState: report }];
        }
        expect(await pushThrough(proxy.url, signed.accessToken, collection, versions[collection], rows as { newDocumentState: Record<string, unknown> }[])).toEqual([]);
      }));
    }
    const allVersions = new Set<string>();
    for (const [key] of expected) allVersions.add(key);
    const versionsOf = (subscriber: Subscriber): string[] => {
      const wanted: string[] = [];
      for (const key of allVersions) {
        if (!subscriber.sees(key)) continue;
        if (key.startsWith('epcrs/')) for (let r = 1; r <= ROUNDS; r++) wanted.push(`${key}@${r}-${unitOf.get(key)}`);
        else wanted.push(`${key}@${expected.get(key)}`);
      }
      return wanted;
    };

    // Wait for every subscriber to have heard everything it may see (events, with a deadline).
    await eventually('every subscriber heard every change it may see', () => subscribers.every((s) => versionsOf(s).every((v) => s.heard.has(v)))
      && lives.every((l) => [...newestOfUnit].every(([unit, at]) => l.newest.get(unit) === at)), 60_000)
      .catch(() => undefined);
    for (const client of section11) await client.idle();
    // Let anything still in flight arrive (a duplicate, or something it may not see, would show up now).
    await new Promise((r) => setTimeout(r, 1000));
    for (const client of section11) await client.idle();

    const figures: Record<string, unknown> = {};
    let missedAll = 0;
    for (const subscriber of subscribers) {
      const wanted = versionsOf(subscriber);
      const missed = wanted.filter((v) => !subscriber.heard.has(v));
      const duplicated = [...subscriber.heard].filter(([, n]) => n > 1).map(([v]) => v);
      const foreign = [...subscriber.last.keys()].filter((key) => !subscriber.sees(key));
      const stale = [...subscriber.last].filter(([key, rev]) => expected.get(key) !== rev);
      missedAll += missed.length;
      if (missed.length + duplicated.length + foreign.length + stale.length > 0 || subscriber.name.startsWith('dispatch')) {
        figures[subscriber.name] = { expected: wanted.length, heard: subscriber.heard.size, missed: missed.length, duplicated: duplicated.length, foreign: foreign.length, stale: stale.length };
      }
      expect({ name: subscriber.name, missed, duplicated, foreign, stale }).toEqual({ name: subscriber.name, missed: [], duplicated: [], foreign: [], stale: [] });
    }
    lives.forEach((l, i) => {
      figures[`live-${i}`] = { positions: l.positions.size, duplicated: [...l.positions.values()].filter((n) => n > 1).length };
      expect(l.newest).toEqual(newestOfUnit);
      expect([...l.positions.values()].every((n) => n === 1)).toBe(true);
    });
    // The §11 client does what the protocol says a client does last: pull from its checkpoint until caught up.
    const section11Docs = (): Versions => new Map(section11.flatMap((c) => [...c.docs]));
    const missedBeforeFinalPull = [...expected.keys()].filter((key) => section11Docs().get(key) !== expected.get(key)).length;
    for (const client of section11) await client.resync();
    figures['section11'] = { documents: section11Docs().size, missedBeforeFinalPull };
    console.log(`[scale-out change feed] ${crews.length} devices × ${ROUNDS} rounds through a round-robin balancer over 3 processes `
      + `(${expected.size} documents, ${subscribers.length} /sync and ${lives.length} /live subscribers, ${missedAll} missed): ${JSON.stringify(figures)} served per process ${JSON.stringify(proxy.served)}`);
    expect(missedBeforeFinalPull).toBe(0);
    expect(section11Docs()).toEqual(expected);

    // A late puller from scratch (a new dispatch console) equals the server, and so does an admin's view.
    const late = await signInAs('dispatcher', 'console-late');
    expect(await pullAll(late.accessToken)).toEqual(expected);
  }, 240_000);
});
