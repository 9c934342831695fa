/**
 * Sessions across three real server processes on one PostgreSQL behind a round-robin load
 * balancer with no stickiness: a user signs in with a password through it, and every later request
 * of theirs (pulls, pushes, a refresh, a WebSocket) lands on another process and is accepted; a
 * device or a user revoked through one process is refused by every process, each measured (the
 * revocation is announced by NOTIFY after it commits; the 500 ms poll is only the fallback).
 * (Before identity moved to PostgreSQL, A's access token was refused on B as TOKEN_REVOKED.)
 */
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, AUTH, pathOf, STREAM_EVENTS, STREAM_NAMESPACE, SYNC, type StreamSubscribeAck } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { newGpsPoint } from '../../helpers/factories.ts';
import { PROXIED_TO_HEADER, type RoundRobinProxy } from '../../helpers/round-robin-proxy.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { ProcessCluster, signIn, SKIP_POSTGRES, type SignedIn } from './support.ts';

const T = 'agency-sessions';
const PASSWORD = 'lantern quartz meadow 4711 scale';
const cluster = new ProcessCluster();
let processes: ServerProcess[] = [];
let proxy: RoundRobinProxy;
let admin: SignedIn;

beforeAll(async () => {
  processes = await cluster.start(3);
  proxy = await cluster.startProxy();
  await cluster.createUsers([{ tenantId: T, username: 'admin', password: PASSWORD, role: 'admin' }]);
  admin = await signIn(proxy.url, T, 'admin', PASSWORD, 'admin-pc');
}, 600_000);
afterAll(async () => {
  await cluster.stop();
});

async function createCrew(username: string, unitId: string): Promise<void> {
  const response = await fetch(proxy.url + pathOf(ADMIN.createUser), {
    method: 'POST', headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD, role: 'crew', unitId }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

const pullPath = (collection: string) => `${pathOf(SYNC.pull, { collection })}?schemaVersion=${schemaVersionOf(collection)}`;
const pull = (base: string, token: string, collection = 'epcrs') => fetch(base + pullPath(collection), { headers: { authorization: `Bearer ${token}` } });
const codeOf = async (r: Response) => ((await r.clone().json()) as { error?: { code?: string } }).error?.code;

/** How long after `from` each process first refuses `token` (asked directly, every 10 ms, at most 10 s). */
async function refusedByEach(token: string, from: number): Promise<number[]> {
  return Promise.all(processes.map(async (server) => {
    for (;;) {
      const r = await pull(server.url, token);
      if (r.status === 401 && await codeOf(r) === 'TOKEN_REVOKED') return Date.now() - from;
      expect(r.status, `process ${server.url} answered ${r.status} ${await r.text()}`).toBe(200);
      if (Date.now() - from > 10_000) throw new Error(`${server.url} still accepts the token 10 s after the revocation`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }));
}

describe.skipIf(SKIP_POSTGRES)('three server processes behind a round-robin balancer: sessions', () => {
  it('signed in through the balancer with a password: every later request lands on another process and is accepted', async () => {
    await createCrew('medic-rr', 'M7');
    const medic = await signIn(proxy.url, T, 'medic-rr', PASSWORD, 'tablet-rr');
    const landed: number[] = [];
    let token = medic.accessToken;
    for (let i = 0; i < 9; i++) {
      let response: Response;
      if (i % 3 === 1) {
        const point = { ...newGpsPoint(T, 'M7', i), rev: `1-rr${i}`, _deleted: false };
        response = await fetch(`${proxy.url}${pathOf(SYNC.push, { collection: 'gps_points' })}?schemaVersion=${schemaVersionOf('gps_points')}`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify([{ newDocumentState: point }]),
        });
        expect(await response.clone().json()).toEqual([]);
      } else if (i === 5) {
        // A refresh token issued by one process rotates on another, and its access token works on the next.
        response = await fetch(proxy.url + pathOf(AUTH.refresh), {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: medic.refreshToken, deviceId: 'tablet-rr' }),
        });
        token = ((await response.clone().json()) as SignedIn).accessToken;
      } else {
        response = await pull(proxy.url, token, i % 2 === 0 ? 'epcrs' : 'gps_points');
      }
      expect(response.status, `request ${i}: ${await response.clone().text()}`).toBe(200);
      landed.push(Number(response.headers.get(PROXIED_TO_HEADER)));
    }
    // Consecutive requests on different processes, and every process answered some.
    for (let i = 1; i < landed.length; i++) expect(landed[i]).not.toBe(landed[i - 1]);
    expect(new Set(landed)).toEqual(new Set([0, 1, 2]));

    // The WebSocket of the same session, upgraded on whichever process is next.
    const socket = io(`${proxy.url}${STREAM_NAMESPACE}`, { auth: { token }, transports: ['websocket'], reconnection: false });
    try {
      const ack = (await socket.timeout(20_000).emitWithAck(STREAM_EVENTS.subscribe, { collections: { gps_points: 0 } })) as StreamSubscribeAck;
      expect(ack.ok).toBe(true);
    } finally {
      socket.close();
    }
  }, 240_000);

  it('a device revoked and a user disabled through one process are refused by every process (measured)', async () => {
    await createCrew('medic-dev', 'M8');
    await createCrew('medic-user', 'M9');
    const device = await signIn(proxy.url, T, 'medic-dev', PASSWORD, 'tablet-revoked');
    const user = await signIn(proxy.url, T, 'medic-user', PASSWORD, 'tablet-user');
    for (const server of processes) {
      expect((await pull(server.url, device.accessToken)).status).toBe(200);
      expect((await pull(server.url, user.accessToken)).status).toBe(200);
    }

    const revokeDevice = await fetch(proxy.url + pathOf(ADMIN.revokeDevice, { id: 'tablet-revoked' }), { method: 'POST', headers: { authorization: `Bearer ${admin.accessToken}` } });
    expect(revokeDevice.status, await revokeDevice.clone().text()).toBe(200);
    const deviceMs = await refusedByEach(device.accessToken, Date.now());
    const deviceAt = Number(revokeDevice.headers.get(PROXIED_TO_HEADER));

    const disableUser = await fetch(proxy.url + pathOf(ADMIN.revokeUser, { id: user.user.userId }), { method: 'POST', headers: { authorization: `Bearer ${admin.accessToken}` } });
    expect(disableUser.status, await disableUser.clone().text()).toBe(200);
    const userMs = await refusedByEach(user.accessToken, Date.now());
    const userAt = Number(disableUser.headers.get(PROXIED_TO_HEADER));
    // Figures, not a pass/fail: the machine is shared. Each is measured from the revocation's answer.
    console.log(`[scale-out sessions] device revoked through process ${deviceAt}: refused by processes 0/1/2 after ${deviceMs.join('/')} ms; `
      + `user disabled through process ${userAt}: refused after ${userMs.join('/')} ms`);
    // And a new sign-in of either, through any process, is refused.
    const again = await fetch(proxy.url + pathOf(AUTH.login), {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: T, username: 'medic-user', password: PASSWORD, deviceId: 'tablet-user' }),
    });
    expect(again.status).not.toBe(200);
  }, 240_000);
});
