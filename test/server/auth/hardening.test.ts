/** Rate limits per device, security headers, CORS limited to configured origins, no stack traces. */
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PASSWORD } from '../../helpers/access.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';

const A = 'agency-a';
const ORIGIN = 'https://mdt.agency-a.example';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ loginRateLimit: 3, loginAccountRateLimit: 5, syncRateLimit: 5, rateLimitWindowMs: 60_000, corsOrigins: [ORIGIN] });
  await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
}, 30_000);
afterAll(async () => { await server.close(); });

const login = (deviceId: string, username = 'medic', password = 'wrong-password') => fetch(`${server.url}/api/auth/login`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: A, username, password, deviceId }),
});

describe('rate limits', () => {
  it('sign-in attempts per device', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await login('tab-rl')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await login('tab-rl');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await limited.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toContain('this device');
    // Another device is not affected.
    expect((await login('tab-other')).status).toBe(401);
  });

  it('sign-in attempts per account, whatever device they come from (password guessing from many device ids)', async () => {
    await server.app.auth.createUser(A, { username: 'target', password: PASSWORD, role: 'crew', unitId: 'M1' });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(`spray-${i}`, 'target')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('sync requests per device, after authentication', async () => {
    const token = devToken({ tenantId: A, role: 'crew', deviceId: 'busy-tab', subject: 'M1' });
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${token}` } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const calm = devToken({ tenantId: A, role: 'crew', deviceId: 'calm-tab', subject: 'M1' });
    expect((await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${calm}` } })).status).toBe(200);
  });

  it('the defaults are generous', async () => {
    const relaxed = await startTestServer();
    try {
      const token = devToken({ tenantId: A, role: 'crew', deviceId: 'bench', subject: 'M1' });
      const statuses = await Promise.all(Array.from({ length: 300 }, () =>
        fetch(`${relaxed.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)));
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      await relaxed.close();
    }
  });
});

describe('headers and CORS', () => {
  it('security headers on every answer', async () => {
    const r = await fetch(`${server.url}/health`);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(r.headers.get('strict-transport-security')).toContain('max-age');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(r.headers.get('x-powered-by')).toBeNull();
  });

  it('only configured origins get CORS answers, and they may read the rejection header', async () => {
    const allowed = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const simple = await fetch(`${server.url}/health`, { headers: { origin: ORIGIN } });
    expect(simple.headers.get('access-control-expose-headers')).toContain('x-fieldsync-rejections');
    const other = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the socket.io handshake refuses other origins too', async () => {
    const token = devToken({ tenantId: A, role: 'crew', deviceId: 'tab-ws', subject: 'M1' });
    const attempt = (origin: string | undefined) => new Promise<string>((resolve) => {
      const socket = io(`${server.url}/sync`, { transports: ['websocket'], auth: { token }, reconnection: false, ...(origin ? { extraHeaders: { origin } } : {}) });
      socket.once('connect', () => { socket.close(); resolve('connected'); });
      socket.once('connect_error', () => { socket.close(); resolve('refused'); });
    });
    expect(await attempt(undefined)).toBe('connected');
    expect(await attempt(ORIGIN)).toBe('connected');
    expect(await attempt('https://evil.example')).toBe('refused');
  });
});

describe('errors', () => {
  it('an internal failure is a generic 500 with a request id, never a stack trace or internal detail', async () => {
    const broken = await startTestServer();
    try {
      await broken.app.store.close();
      const token = devToken({ tenantId: A, role: 'admin', deviceId: 'x' });
      const r = await fetch(`${broken.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(500);
      const text = await r.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'INTERNAL' }, requestId: expect.any(String) });
      expect(text).not.toMatch(/database|sqlite|\.ts:\d+|node_modules|at [A-Za-z]/);
    } finally {
      await broken.close().catch(() => {});
    }
  });
});
