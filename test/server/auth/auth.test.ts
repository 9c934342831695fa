/**
 * Sign-in, token rotation, logout, admin revocation, and every kind of bad token, on a real
 * server: forged, expired, revoked, other-agency. Revocation takes effect at the next request.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { ConfigError, readConfig } from '../../../server/config.ts';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/server.ts';
import { login, make, PASSWORD, pullAll, push, seed } from '../../helpers/access.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';

const A = 'agency-a';
const B = 'agency-b';

let server: TestServer;
let secret: Uint8Array;
beforeAll(async () => {
  server = await startTestServer();
  secret = new TextEncoder().encode(readFileSync(path.join(server.dataDir, 'jwt-secret'), 'utf8').trim());
  await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
  await server.app.auth.createUser(A, { username: 'boss', password: PASSWORD, role: 'admin' });
  await server.app.auth.createUser(B, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
  await seed(server.app.store, 'epcrs', [make.epcrs(A, { unitId: 'M1' }), make.epcrs(A, { unitId: 'M1' })]);
  await seed(server.app.store, 'epcrs', [make.epcrs(B, { unitId: 'M1' })]);
}, 60_000);
afterAll(async () => { await server.close(); });

const get = (token: string, p = `/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`) => fetch(server.url + p, { headers: { authorization: `Bearer ${token}` } });
const post = (p: string, body: unknown, token?: string) => fetch(server.url + p, {
  method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
});
async function errorCode(r: Response): Promise<string> {
  return ((await r.json()) as { error: { code: string } }).error.code;
}

describe('login', () => {
  it('returns a short-lived HS256 access token with the identity claims, and a refresh token', async () => {
    const answer = await login(server, A, 'medic', PASSWORD, 'tab-login');
    expect(answer.expiresIn).toBe(900);
    const { payload, protectedHeader } = await jwtVerify(answer.accessToken, secret, { issuer: 'fieldsync', audience: 'fieldsync-api' });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ tenant: A, role: 'crew', unit: 'M1', device: 'tab-login' });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(typeof payload.sub).toBe('string');
    expect(answer.identity).toMatchObject({ tenantId: A, role: 'crew', unitId: 'M1', deviceId: 'tab-login', userId: payload.sub });
    expect(answer.refreshToken).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const pulled = await pullAll(server, answer.accessToken, 'epcrs', 100);
    expect(pulled.docs).toHaveLength(2);
    // Only a hash of the refresh token is stored.
    const raw = readFileSync(path.join(server.dataDir, 'identity.sqlite'));
    expect(raw.includes(Buffer.from(answer.refreshToken.split('.')[1]!))).toBe(false);
  });

  it('a wrong password and an unknown user get the same 401; both are audited', async () => {
    const wrong = await post('/api/auth/login', { tenantId: A, username: 'medic', password: 'nope', deviceId: 'tab-x' });
    const unknown = await post('/api/auth/login', { tenantId: A, username: 'ghost', password: 'nope', deviceId: 'tab-x' });
    const otherAgency = await post('/api/auth/login', { tenantId: 'agency-z', username: 'medic', password: PASSWORD, deviceId: 'tab-x' });
    for (const r of [wrong, unknown, otherAgency]) {
      expect(r.status).toBe(401);
      expect(await errorCode(r)).toBe('BAD_CREDENTIALS');
    }
    const audit = await server.app.store.queryAudit({ tenantId: A, limit: 100 });
    expect(audit.filter((e) => e.action === 'login_failed').length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(audit)).not.toContain('nope');
  });

  it('a malformed body is a 400', async () => {
    expect((await post('/api/auth/login', { tenantId: A, username: 'medic' })).status).toBe(400);
    expect((await post('/api/auth/login', { tenantId: A, username: 'medic', password: PASSWORD, deviceId: 'bad device id!' })).status).toBe(400);
  });
});

describe('refresh rotation', () => {
  it('rotates: the old refresh token stops working, and presenting it again ends every session of the device', async () => {
    const first = await login(server, A, 'medic', PASSWORD, 'tab-rot');
    const r1 = await post('/api/auth/refresh', { refreshToken: first.refreshToken, deviceId: 'tab-rot' });
    expect(r1.status).toBe(200);
    const second = (await r1.json()) as { accessToken: string; refreshToken: string };
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await get(second.accessToken)).status).toBe(200);

    const reuse = await post('/api/auth/refresh', { refreshToken: first.refreshToken, deviceId: 'tab-rot' });
    expect(reuse.status).toBe(401);
    expect(await errorCode(reuse)).toBe('REFRESH_TOKEN_REUSED');
    // Every token of the device is dead at the next request, including the legitimately rotated ones.
    const after = await get(second.accessToken);
    expect(after.status).toBe(401);
    expect(await errorCode(after)).toBe('TOKEN_REVOKED');
    expect((await post('/api/auth/refresh', { refreshToken: second.refreshToken, deviceId: 'tab-rot' })).status).toBe(401);
    // Signing in again works.
    const again = await login(server, A, 'medic', PASSWORD, 'tab-rot');
    expect((await get(again.accessToken)).status).toBe(200);
  });

  it('a refresh token is bound to its device: from another device it is refused and its session ends', async () => {
    const pair = await login(server, A, 'medic', PASSWORD, 'tab-bound');
    const stolen = await post('/api/auth/refresh', { refreshToken: pair.refreshToken, deviceId: 'thief' });
    expect(stolen.status).toBe(401);
    expect((await get(pair.accessToken)).status).toBe(401);
  });

  it('garbage refresh tokens are 401', async () => {
    for (const refreshToken of ['x', `${'a'.repeat(22)}.${'b'.repeat(43)}`]) {
      expect((await post('/api/auth/refresh', { refreshToken, deviceId: 'tab' })).status).toBe(401);
    }
  });
});

describe('logout and revocation take effect at the next request', () => {
  it('logout ends the session (access and refresh token)', async () => {
    const pair = await login(server, A, 'medic', PASSWORD, 'tab-out');
    expect((await get(pair.accessToken)).status).toBe(200);
    const out = await post('/api/auth/logout', {}, pair.accessToken);
    expect(await out.json()).toEqual({ loggedOut: true });
    const r = await get(pair.accessToken);
    expect(r.status).toBe(401);
    expect(await errorCode(r)).toBe('TOKEN_REVOKED');
    expect((await post('/api/auth/refresh', { refreshToken: pair.refreshToken, deviceId: 'tab-out' })).status).toBe(401);
    // Logging out with the refresh token alone (access token already expired) works too.
    const other = await login(server, A, 'medic', PASSWORD, 'tab-out2');
    expect(await (await post('/api/auth/logout', { refreshToken: other.refreshToken })).json()).toEqual({ loggedOut: true });
    expect((await get(other.accessToken)).status).toBe(401);
  });

  it('an admin creates and lists users; revoking one ends its sessions and sign-ins, and its live stream', async () => {
    const boss = await login(server, A, 'boss', PASSWORD, 'admin-pc');
    const created = await post('/api/admin/users', { username: 'temp', password: 'temporary-pass-12', role: 'crew', unitId: 'M1' }, boss.accessToken);
    expect(created.status).toBe(201);
    const { user } = (await created.json()) as { user: { id: string } };
    const list = await (await get(boss.accessToken, '/api/admin/users')).json() as { users: Record<string, unknown>[] };
    expect(list.users.map((u) => u['username'])).toEqual(expect.arrayContaining(['medic', 'boss', 'temp']));
    expect(JSON.stringify(list)).not.toMatch(/scrypt|passwordHash/);
    expect((await post('/api/admin/users', { username: 'temp', password: 'temporary-pass-12', role: 'crew', unitId: 'M1' }, boss.accessToken)).status).toBe(409);
    expect((await post('/api/admin/users', { username: 'short', password: 'x', role: 'crew', unitId: 'M1' }, boss.accessToken)).status).toBe(400);
    expect((await post('/api/admin/users', { username: 'nounit', password: 'temporary-pass-12', role: 'crew' }, boss.accessToken)).status).toBe(400);

    const temp = await login(server, A, 'temp', 'temporary-pass-12', 'tab-temp');
    const socket = io(`${server.url}/sync`, { transports: ['websocket'], auth: { token: temp.accessToken }, reconnection: false });
    await new Promise<void>((resolve, reject) => { socket.once('connect', () => resolve()); socket.once('connect_error', reject); });
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

    const revoke = await post(`/api/admin/users/${user.id}/revoke`, {}, boss.accessToken);
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toMatchObject({ sessionsRevoked: 1, user: { id: user.id, disabledAt: expect.any(String) } });
    expect(await disconnected).toBe('io server disconnect');
    expect((await get(temp.accessToken)).status).toBe(401);
    const relogin = await post('/api/auth/login', { tenantId: A, username: 'temp', password: 'temporary-pass-12', deviceId: 'tab-temp' });
    expect(relogin.status).toBe(403);
    expect(await errorCode(relogin)).toBe('ACCOUNT_DISABLED');
    expect((await post(`/api/admin/users/${user.id}/enable`, {}, boss.accessToken)).status).toBe(200);
    expect((await login(server, A, 'temp', 'temporary-pass-12', 'tab-temp')).accessToken).toBeTruthy();
    socket.close();
  });

  it('revoking a device ends its sessions and refuses its sign-ins; the same user on another device is unaffected', async () => {
    const boss = await login(server, A, 'boss', PASSWORD, 'admin-pc');
    const lost = await login(server, A, 'medic', PASSWORD, 'tab-lost');
    const spare = await login(server, A, 'medic', PASSWORD, 'tab-spare');
    const r = await post('/api/admin/devices/tab-lost/revoke', {}, boss.accessToken);
    expect(await r.json()).toMatchObject({ device: { id: 'tab-lost', revokedAt: expect.any(String) }, sessionsRevoked: 1 });
    expect((await get(lost.accessToken)).status).toBe(401);
    expect((await get(spare.accessToken)).status).toBe(200);
    const again = await post('/api/auth/login', { tenantId: A, username: 'medic', password: PASSWORD, deviceId: 'tab-lost' });
    expect(again.status).toBe(403);
    expect(await errorCode(again)).toBe('DEVICE_REVOKED');
    const devices = await (await get(boss.accessToken, '/api/admin/devices')).json() as { devices: { id: string; revokedAt?: string }[] };
    expect(devices.devices.find((d) => d.id === 'tab-lost')?.revokedAt).toBeDefined();
    const audit = await server.app.store.queryAudit({ tenantId: A, limit: 200 });
    expect(audit.some((e) => e.action === 'device_revoke' && e.details?.['deviceId'] === 'tab-lost')).toBe(true);
  });

  it('admin routes are for admins of the agency only; another agency\'s users are 404', async () => {
    const medic = await login(server, A, 'medic', PASSWORD, 'tab-adm');
    const r = await get(medic.accessToken, '/api/admin/users');
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('FORBIDDEN');
    const boss = await login(server, A, 'boss', PASSWORD, 'admin-pc');
    const theirs = (await server.app.identities.findUserByName(B, 'medic'))!;
    expect((await post(`/api/admin/users/${theirs.id}/revoke`, {}, boss.accessToken)).status).toBe(404);
    expect((await server.app.identities.getUser(B, theirs.id))!.disabledAt).toBeUndefined();
    expect((await get(boss.accessToken, '/api/admin/users')).status).toBe(200);
    expect(JSON.stringify(await (await get(boss.accessToken, '/api/admin/users')).json())).not.toContain(theirs.id);
  });
});

describe('bad tokens are refused', () => {
  let good: string;
  beforeAll(async () => { good = (await login(server, A, 'medic', PASSWORD, 'tab-bad')).accessToken; });

  it('forged: tampered payload, bad signature, alg none, another key, another audience', async () => {
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const escalated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const otherKey = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(48)));
    const wrongAudience = await new SignJWT({ ...claims, aud: 'something-else' }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const hs512 = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS512' }).sign(secret);
    for (const token of [`${h}.${escalated}.${s}`, `${h}.${p}.${s.slice(0, -2)}AA`, none, otherKey, wrongAudience, hs512, `${good}x`, 'a.b.c']) {
      const r = await get(token);
      expect(r.status, token).toBe(401);
      expect(['BAD_TOKEN', 'TOKEN_REVOKED']).toContain(await errorCode(r));
    }
  });

  it('expired', async () => {
    const claims = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const expired = await new SignJWT({ ...claims, iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 10 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    const r = await get(expired);
    expect(r.status).toBe(401);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TOKEN_EXPIRED');
    expect(body.error.message).toContain('kept');
  });

  it('a correctly signed token whose session does not exist (made up) is refused', async () => {
    const claims = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const madeUp = await new SignJWT({ ...claims, sid: randomUUID() }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    expect(await errorCode(await get(madeUp))).toBe('TOKEN_REVOKED');
    // Nor can a valid session be moved to another agency or device by re-signing it.
    const moved = await new SignJWT({ ...claims, tenant: B }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    expect(await errorCode(await get(moved))).toBe('TOKEN_REVOKED');
  });

  it('another agency\'s token sees only that agency, and cannot write into this one (refused and quarantined)', async () => {
    const theirs = await login(server, B, 'medic', PASSWORD, 'tab-b');
    const pulled = await pullAll(server, theirs.accessToken, 'epcrs', 100);
    expect(pulled.docs.length).toBe(1);
    expect(pulled.docs.every((d) => d['tenantId'] === B)).toBe(true);
    const intrusion = make.epcrs(A, { unitId: 'M1' });
    const r = await push(server, theirs.accessToken, 'epcrs', [{ newDocumentState: intrusion }]);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('TENANT_MISMATCH');
    expect(await server.app.store.getDocuments('epcrs', A, [intrusion.id])).toEqual([]);
    const kept = await server.app.store.findQuarantine({ tenantId: B, documentIds: [intrusion.id], limit: 5 });
    expect(kept).toHaveLength(1);
    expect(kept[0]!.actor).toMatchObject({ tenantId: B, deviceId: 'tab-b', userId: theirs.identity['userId'] });
  });

  it('the socket.io handshake refuses the same tokens', async () => {
    const attempt = (token: string) => new Promise<string>((resolve) => {
      const socket = io(`${server.url}/sync`, { transports: ['websocket'], auth: { token }, reconnection: false });
      socket.once('connect', () => { socket.close(); resolve('connected'); });
      socket.once('connect_error', (e) => { socket.close(); resolve(`refused: ${e.message}`); });
    });
    expect(await attempt(good)).toBe('connected');
    expect(await attempt(`${good.slice(0, -3)}abc`)).toMatch(/^refused/);
    expect(await attempt('')).toMatch(/^refused/);
  });

  it('development tokens work only while DEV_TOKENS is on', async () => {
    const dev = devToken({ tenantId: A, role: 'crew', deviceId: 'tab-dev', subject: 'M1' });
    expect((await get(dev)).status).toBe(200);
    const strict = await startTestServer({ devTokens: false, jwtSecret: 's'.repeat(40) });
    try {
      const r = await fetch(`${strict.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${dev}` } });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain('Development tokens are turned off');
    } finally {
      await strict.close();
    }
  });
});

describe('signing key', () => {
  it('is kept in DATA_DIR when JWT_SECRET is not set, so tokens survive a restart', async () => {
    const dataDir = makeDataDir();
    const first = await startTestServer({ dataDir });
    await first.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
    const token = (await login(first, A, 'medic', PASSWORD, 'tab-restart')).accessToken;
    await first.close({ keepData: true });
    const second = await startTestServer({ dataDir });
    try {
      const r = await fetch(`${second.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('JWT_SECRET is required unless the server is a demo or development one, and must be long enough', () => {
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
    expect(() => readConfig({ DEV_TOKENS: 'false', SEED_DEMO: 'false' })).toThrow(/JWT_SECRET is required/);
    expect(() => readConfig({ DEV_TOKENS: 'false', JWT_SECRET: 'short' })).toThrow(/at least 32/);
    // A production configuration also names the audit key (docs/audit.md).
    expect(readConfig({ DEV_TOKENS: 'false', JWT_SECRET: 'k'.repeat(32), AUDIT_KEY: 'a'.repeat(32) }).jwtSecret).toBe('k'.repeat(32));
    expect(readConfig({}).seedDemo).toBe(true);
    expect(readConfig({ DEV_TOKENS: 'false', JWT_SECRET: 'k'.repeat(32), AUDIT_KEY: 'a'.repeat(32) }).seedDemo).toBe(false);
    expect(readConfig({ CORS_ORIGINS: 'https://mdt.example.org, http://localhost:5173' }).corsOrigins).toEqual(['https://mdt.example.org', 'http://localhost:5173']);
    expect(() => readConfig({ CORS_ORIGINS: '*' })).toThrow(ConfigError);
    expect(() => readConfig({ CORS_ORIGINS: 'https://x.org/path' })).toThrow(ConfigError);
  });
});
