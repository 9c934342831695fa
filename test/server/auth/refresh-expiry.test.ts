/**
 * An expired refresh token presented twice (the page and the service worker each try it when a
 * tablet comes back after its sign-in ran out) is "expired" both times: it was never spent, so it
 * is not the reuse that ends every session of the device, another crew member's on a shared
 * tablet included. (Before: the first try rotated it, then refused it; the second was "reuse".)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { login, PASSWORD } from '../../helpers/access.ts';

const A = 'agency-a';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ refreshTokenTtlSeconds: 1 });
  await server.app.auth.createUser(A, { username: 'medic-1', password: PASSWORD, role: 'crew', unitId: 'M1' });
  await server.app.auth.createUser(A, { username: 'medic-2', password: PASSWORD, role: 'crew', unitId: 'M1' });
}, 60_000);
afterAll(async () => { await server.close(); });

const refresh = async (refreshToken: string, deviceId: string) => {
  const response = await fetch(`${server.url}/api/auth/refresh`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken, deviceId }),
  });
  return { status: response.status, code: ((await response.json()) as { error?: { code?: string } }).error?.code };
};

describe('an expired refresh token', () => {
  it('is refused as expired every time, and ends no other session of the device', async () => {
    const first = await login(server, A, 'medic-1', PASSWORD, 'tab-shared');
    // Let the first sign-in's refresh token run out (its lifetime is one second here).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await login(server, A, 'medic-2', PASSWORD, 'tab-shared');
    expect(await refresh(first.refreshToken, 'tab-shared')).toEqual({ status: 401, code: 'REFRESH_TOKEN_EXPIRED' });
    expect(await refresh(first.refreshToken, 'tab-shared')).toEqual({ status: 401, code: 'REFRESH_TOKEN_EXPIRED' });
    const me = await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${second.accessToken}` } });
    expect(me.status, 'the other crew member on the same tablet is still signed in').toBe(200);
  });
});
