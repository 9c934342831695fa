/**
 * The live feed sends what one commit group makes visible in one TCP write per dispatcher
 * (server/realtime/turn-writes.ts) instead of one write per event. What a dispatcher hears must
 * not change: every point it may see, once, in commit order, as its own event.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { pathOf, SYNC } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { newGpsPoint } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-batch';
const UNITS = ['M1', 'M2', 'M3', 'M4'];
const POINTS = 40;

let server: TestServer;
const sockets: Socket[] = [];

// Every point goes out (no per-unit coalescing), as in the fleet benchmark.
beforeAll(async () => { server = await startTestServer({ liveGpsIntervalMs: 0 }); });
afterAll(async () => {
  for (const s of sockets) s.close();
  await server.close();
});

interface Heard { event: string; payload: Record<string, unknown> }

async function listen(deviceId: string): Promise<Heard[]> {
  const socket = io(`${server.url}/live`, { transports: ['websocket'], auth: { token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId }) } });
  sockets.push(socket);
  const heard: Heard[] = [];
  socket.onAny((event: string, payload: Record<string, unknown>) => heard.push({ event, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('live:ready', () => resolve());
    socket.once('connect_error', reject);
  });
  return heard;
}

/** Counts the server's TCP writes to one dispatcher's connection. */
function countWrites(deviceId: string): { writes: number } {
  const counter = { writes: 0 };
  const live = server.app.io.of('/live');
  const socket = [...live.sockets.values()].find((s) => (s.data.identity as { deviceId: string }).deviceId === deviceId)!;
  const tcp = (socket.conn as unknown as { transport: { socket: { _socket: { _write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown } } } }).transport.socket._socket;
  for (const method of ['_write', '_writev'] as const) {
    const original = tcp[method].bind(tcp);
    tcp[method] = (...args: unknown[]) => {
      counter.writes++;
      return original(...args);
    };
  }
  return counter;
}

async function push(unit: string, points: Record<string, unknown>[]): Promise<void> {
  const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt-${unit}`, subject: unit });
  const response = await fetch(`${server.url}${pathOf(SYNC.push, { collection: 'gps_points' })}?schemaVersion=${schemaVersionOf('gps_points')}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(points.map((doc) => ({ newDocumentState: { ...doc, rev: '1-gps', _deleted: false } }))),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

describe('live feed: the events of a commit, sent together', () => {
  it('a push of 40 points reaches a dispatcher as 40 position events in commit order, in a handful of writes instead of 40', async () => {
    const heard = await listen('console-one');
    const writes = countWrites('console-one');
    const points = Array.from({ length: POINTS }, (_, i) => newGpsPoint(TENANT, 'M1', i));
    await push('M1', points);
    await eventually('every point at the dispatcher', () => heard.filter((h) => h.event === 'unit:position').length >= POINTS);

    const positions = heard.filter((h) => h.event === 'unit:position').map((h) => h.payload);
    expect(positions.map((p) => p['recordedAt'])).toEqual(points.map((p) => p.recordedAt));
    const seqs = positions.map((p) => p['seq'] as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(POINTS);
    // One write for the commit; a ping or a write still in flight may add one or two.
    expect(writes.writes).toBeLessThanOrEqual(3);
  });

  it('pushes of four units at once (one or more commit groups): two dispatchers each hear every point once, in commit order', async () => {
    const first = await listen('console-a');
    const second = await listen('console-b');
    const sent = new Map(UNITS.map((unit) => [unit, Array.from({ length: POINTS }, (_, i) => newGpsPoint(TENANT, unit, i))]));
    await Promise.all(UNITS.map((unit) => push(unit, sent.get(unit)!)));

    for (const heard of [first, second]) {
      await eventually('every unit’s points at the dispatcher', () => heard.filter((h) => h.event === 'unit:position').length >= UNITS.length * POINTS);
      await new Promise((r) => setTimeout(r, 200)); // nothing more (no duplicate) comes after
      const positions = heard.filter((h) => h.event === 'unit:position').map((h) => h.payload);
      expect(positions).toHaveLength(UNITS.length * POINTS);
      const seqs = positions.map((p) => p['seq'] as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      for (const unit of UNITS) {
        expect(positions.filter((p) => p['sourceId'] === unit).map((p) => p['recordedAt'])).toEqual(sent.get(unit)!.map((p) => p.recordedAt));
      }
    }
  });
});
