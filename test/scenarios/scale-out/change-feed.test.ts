/**
 * Several server processes on one PostgreSQL: a change committed through any process reaches the
 * `/sync` and `/live` subscribers of every process, each exactly once, and a client following
 * docs/protocol.md §11 (pull, then the stream's checkpoints) under pushes through two processes
 * ends equal to the server. (Before the shared change feed, each process streamed only its own
 * commits with its local seq as the checkpoint: such a client skipped what the other process had
 * committed earlier, for good.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { devToken } from '../../../server/auth/identity.ts';
import { LIVE_NAMESPACE, STREAM_EVENTS, STREAM_NAMESPACE, SYNC_BASE_PATH, type StreamChange, type StreamSubscribeAck } from '../../../shared/protocol/index.ts';
import { eventually } from '../../helpers/device.ts';
import { newGpsPoint } from '../../helpers/factories.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { ProcessCluster, SKIP_POSTGRES } from './support.ts';

const TENANT = 'agency-scale';
const WRITERS = 6;
const PUSHES = 12;
const PER_PUSH = 20;
const TOTAL = WRITERS * PUSHES * PER_PUSH;
const PAGE = 50;
const dispatcher = devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console-1' });

const cluster = new ProcessCluster();
let a: ServerProcess;
let b: ServerProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
  // Every GPS point goes out on /live (no coalescing), so each one can be counted.
  const started = await cluster.start(2, { LIVE_GPS_INTERVAL_MS: '0' });
  a = started[0]!;
  b = started[1]!;
}, 150_000);
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await cluster.stop();
});

function connect(server: ServerProcess, namespace: string): Socket {
  const socket = io(`${server.url}${namespace}`, { auth: { token: dispatcher }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  return socket;
}

async function subscribe(socket: Socket): Promise<StreamSubscribeAck> {
  return (await socket.timeout(10_000).emitWithAck(STREAM_EVENTS.subscribe, { collections: { gps_points: 0 } })) as StreamSubscribeAck;
}

async function pull(server: ServerProcess, checkpoint: unknown, limit = PAGE): Promise<{ documents: { id: string; rev: string }[]; checkpoint: { seq: number } }> {
  const response = await fetch(`${server.url}${SYNC_BASE_PATH}/gps_points/pull?schemaVersion=0&limit=${limit}&checkpoint=${encodeURIComponent(JSON.stringify(checkpoint))}`, {
    headers: { authorization: `Bearer ${dispatcher}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { documents: { id: string; rev: string }[]; checkpoint: { seq: number } };
}

/**
 * A client written from docs/protocol.md §11 alone: one serial queue; after the subscribe ack a
 * RESYNC (pull pages until one is short); a `change` whose checkpoint is not above the stored one
 * is dropped, any other is applied and its checkpoint stored.
 */
class Section11Client {
  readonly docs = new Map<string, string>();
  checkpoint: { seq: number } | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly server: ServerProcess) {}

  async start(): Promise<void> {
    const socket = connect(this.server, STREAM_NAMESPACE);
    socket.on(STREAM_EVENTS.change, (change: StreamChange) => this.enqueue(async () => {
      const seq = (change.checkpoint as { seq: number }).seq;
      if (this.checkpoint && seq <= this.checkpoint.seq) return;
      for (const doc of change.documents) this.docs.set(String(doc['id']), String(doc['rev']));
      this.checkpoint = change.checkpoint as { seq: number };
    }));
    const ack = await subscribe(socket);
    expect(ack.ok).toBe(true);
    this.enqueue(() => this.resync());
  }

  async resync(): Promise<void> {
    for (;;) {
      const page = await pull(this.server, this.checkpoint);
      for (const doc of page.documents) this.docs.set(doc.id, doc.rev);
      this.checkpoint = page.checkpoint;
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

describe.skipIf(SKIP_POSTGRES)('two server processes on one PostgreSQL: one change feed', () => {
  it('pushes through A and B reach /sync and /live on both, each change once; a §11 client on B ends equal to the server', async () => {
    // Subscribers on both processes, and the §11 client on B.
    const heard = new Map<string, Map<string, number>>();
    for (const [name, server] of [['A', a], ['B', b]] as const) {
      const counts = new Map<string, number>();
      heard.set(`sync@${name}`, counts);
      const socket = connect(server, STREAM_NAMESPACE);
      socket.on(STREAM_EVENTS.change, (change: StreamChange) => {
        for (const doc of change.documents) counts.set(String(doc['id']), (counts.get(String(doc['id'])) ?? 0) + 1);
      });
      expect((await subscribe(socket)).ok).toBe(true);
    }
    // /live is a view: under backpressure it keeps only each unit's newest position (protocol.md
    // §12). What must hold: no position twice, and each unit's newest one arrives.
    const livePositions = new Map<number, number>();
    const liveNewest = new Map<string, string>();
    const live = connect(b, LIVE_NAMESPACE);
    live.on('unit:position', (event: { seq: number; sourceId: string; recordedAt: string }) => {
      livePositions.set(event.seq, (livePositions.get(event.seq) ?? 0) + 1);
      if ((liveNewest.get(event.sourceId) ?? '') < event.recordedAt) liveNewest.set(event.sourceId, event.recordedAt);
    });
    await eventually('the /live socket connected', () => live.connected);
    const client = new Section11Client(b);
    await client.start();

    const expected = new Map<string, string>();
    const newestOfUnit = new Map<string, string>();
    await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
      const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt-${w}`, subject: `M${w}` });
      for (let p = 0; p < PUSHES; p++) {
        const server = (w + p) % 2 === 0 ? a : b;
        const points = Array.from({ length: PER_PUSH }, (_, j) => ({ ...newGpsPoint(TENANT, `M${w}`, p * PER_PUSH + j), rev: `1-w${w}`, _deleted: false }));
        for (const point of points) {
          expected.set(point.id, point.rev);
          if ((newestOfUnit.get(point.sourceId) ?? '') < point.recordedAt) newestOfUnit.set(point.sourceId, point.recordedAt);
        }
        const response = await fetch(`${server.url}${SYNC_BASE_PATH}/gps_points/push?schemaVersion=0`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(points.map((newDocumentState) => ({ newDocumentState }))),
        });
        expect(response.status, await response.clone().text()).toBe(200);
        expect(await response.json()).toEqual([]);
      }
    }));

    // Every subscriber, on either process, hears every change: wait for them (with a deadline).
    await eventually('every subscriber heard every change', () => [...heard.values()].every((counts) => counts.size >= TOTAL)
      && [...newestOfUnit].every(([unit, at]) => liveNewest.get(unit) === at), 30_000)
      .catch(() => undefined);
    await client.idle();
    // Let anything still in flight arrive (a duplicate would show up now).
    await new Promise((r) => setTimeout(r, 1000));
    await client.idle();

    const figures: Record<string, unknown> = {};
    for (const [name, counts] of heard) {
      const missed = [...expected.keys()].filter((id) => !counts.has(id)).length;
      const duplicated = [...counts.values()].filter((n) => n > 1).length;
      figures[name] = { heard: counts.size, missed, duplicated };
    }
    figures['live@B'] = { heard: livePositions.size, duplicated: [...livePositions.values()].filter((n) => n > 1).length };
    // The §11 client does what the protocol says a client does last: pull from its checkpoint until caught up.
    const beforeFinalPull = [...expected.keys()].filter((id) => !client.docs.has(id)).length;
    await client.resync();
    const missedAfterFinalPull = [...expected.keys()].filter((id) => !client.docs.has(id)).length;
    figures['section11@B'] = { documents: client.docs.size, missedBeforeFinalPull: beforeFinalPull, missedAfterFinalPull };
    console.log(`[scale-out change feed] ${TOTAL} changes pushed through A and B: ${JSON.stringify(figures)}`);

    for (const counts of heard.values()) {
      expect([...expected.keys()].filter((id) => !counts.has(id))).toEqual([]);
      expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
    }
    expect(liveNewest).toEqual(newestOfUnit);
    expect([...livePositions.values()].every((n) => n === 1)).toBe(true);
    expect(missedAfterFinalPull).toBe(0);
    expect(beforeFinalPull).toBe(0);
    // The client equals the server: a pull from scratch returns exactly what it holds.
    const server = new Map<string, string>();
    for (let checkpoint: unknown = null; ;) {
      const page = await pull(a, checkpoint, 1000);
      for (const doc of page.documents) server.set(doc.id, doc.rev);
      checkpoint = page.checkpoint;
      if (page.documents.length < 1000) break;
    }
    expect(server.size).toBe(TOTAL);
    expect(client.docs).toEqual(server);
  }, 120_000);
});
