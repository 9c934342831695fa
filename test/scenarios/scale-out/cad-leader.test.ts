/**
 * The CAD bridge with two real server processes on one PostgreSQL, both configured with the CAD
 * backend: only the agency's leader (a lease in the store, renewed before each event) sends, so
 * CAD hears each change once and in commit order; when the leader is killed, the other process
 * takes over after the lease and nothing is lost. (Before the lease every process drained the
 * CAD queue: the issue measured 144–159 events for 56 changes.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { SYNC_BASE_PATH } from '../../../shared/protocol/index.ts';
import { CadPeer } from '../../helpers/cad-peer.ts';
import { eventually } from '../../helpers/device.ts';
import { newGpsPoint } from '../../helpers/factories.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { ProcessCluster, SKIP_POSTGRES } from './support.ts';

const TENANT = 'agency-cad';
const CAD_TOKEN = 'cad-secret';
const cad = new CadPeer(CAD_TOKEN);
const cluster = new ProcessCluster();
let processes: ServerProcess[] = [];

beforeAll(async () => {
  await cad.start();
  processes = await cluster.start(2, { CAD_BACKEND_URL: cad.url, CAD_BACKEND_AUTH_TOKEN: CAD_TOKEN, CAD_TENANT_ID: TENANT });
}, 150_000);
afterAll(async () => {
  await cluster.stop();
  await cad.stop();
});

/** GPS points of unit M1 pushed through `server`: each is one `unit:location` event for CAD. */
async function pushPoints(server: ServerProcess, from: number, count: number): Promise<string[]> {
  const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-cad', subject: 'M1' });
  const points = Array.from({ length: count }, (_, i) => ({ ...newGpsPoint(TENANT, 'M1', from + i), rev: '1-cad', _deleted: false }));
  const response = await fetch(`${server.url}${SYNC_BASE_PATH}/gps_points/push?schemaVersion=0`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(points.map((newDocumentState) => ({ newDocumentState }))),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return points.map((p) => p.id);
}

/** Each event's document id and commit position, from its event id `cad:gps_points/<id>@<seq>:unit:location`. */
function locations(): { id: string; seq: number }[] {
  return cad.received.filter((e) => e.event === 'unit:location').map((e) => {
    const match = /^cad:gps_points\/(.+)@(\d+):unit:location$/.exec(String(e.payload['eventId']));
    return { id: match?.[1] ?? '?', seq: Number(match?.[2]) };
  });
}

describe.skipIf(SKIP_POSTGRES)('two server processes with the CAD bridge: one sender per agency', () => {
  it('each change reaches CAD once, in commit order; after the leader is killed the other process sends the rest', async () => {
    await eventually('both bridges connected to CAD', () => cad.connected() >= 2, 60_000);
    const sent: string[] = [];
    for (let round = 0; round < 6; round++) sent.push(...await pushPoints(processes[round % 2]!, round * 10, 10));
    await eventually('CAD heard every change', () => locations().length >= sent.length, 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // a second sender would show up now
    const first = locations();
    console.log(`[scale-out cad] ${sent.length} changes through 2 processes: CAD received ${first.length} unit:location events`);
    expect(first.map((e) => e.id).sort()).toEqual([...sent].sort());
    expect(first.map((e) => e.seq)).toEqual(first.map((e) => e.seq).sort((a, b) => a - b));

    // Kill one process (the leader or not): the survivor sends what follows, once each.
    await processes[0]!.kill();
    const more = await pushPoints(processes[1]!, 100, 20);
    // The killed leader's lease (15 s) must run out first.
    await eventually('CAD heard the changes after the kill', () => locations().length >= sent.length + more.length, 90_000);
    await new Promise((r) => setTimeout(r, 1500));
    const all = locations();
    console.log(`[scale-out cad] after killing a process: ${sent.length + more.length} changes, CAD received ${all.length} events`);
    expect(all.map((e) => e.id).sort()).toEqual([...sent, ...more].sort());
    expect(all.map((e) => e.seq)).toEqual(all.map((e) => e.seq).sort((a, b) => a - b));
  }, 240_000);
});
