/**
 * Identity shared by server processes on one PostgreSQL schema (issue 19, item 2): two server
 * instances in this process, each with its own DATA_DIR, its own PostgresStore (own pool) and its
 * own identity store, on one schema: two processes in all but name. Neither is given JWT_SECRET
 * or TRANSPORT_KEY_SECRET (a trial server, as three `npm start` processes are): the first one
 * keeps both in the database and the other uses them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, seedDemoTenant } from '../../../server/auth/demo.ts';
import { openIdentity } from '../../../server/auth/identity-store-factory.ts';
import { PostgresStore } from '../../../server/store/postgres.ts';
import { dpopProof, generateDpopKeyPair } from '../../../shared/crypto/dpop-proof.ts';
import { fromBase64url } from '../../../shared/crypto/base64url.ts';
import { importTransportKey, sealDocument } from '../../../shared/crypto/envelope.ts';
import { ADMIN, AUTH, pathOf, SYNC } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { PASSWORD } from '../../helpers/access.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { SKIP_POSTGRES, TEST_DATABASE_URL } from '../store/fixtures.ts';

const T = 'agency-idp';
/** Failed sign-ins one account may have from one address per window, over both servers together. */
const ACCOUNT_LIMIT = 6;
/** Sign-ins and refreshes one device may make from one address per window, over both servers together. */
const DEVICE_LIMIT = 10;
const schema = `idp_${randomBytes(5).toString('hex')}`;
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
let a: TestServer;
let b: TestServer;

interface Signed { accessToken: string; refreshToken: string; transportKey: { kid: string; key: string }; user: { userId: string } }

async function signIn(server: TestServer, username: string, deviceId: string, password = PASSWORD): Promise<Response> {
  return fetch(server.url + pathOf(AUTH.login), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: T, username, password, deviceId }),
  });
}

async function signedIn(server: TestServer, username: string, deviceId: string): Promise<Signed> {
  const r = await signIn(server, username, deviceId);
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as Signed;
}

const refresh = (server: TestServer, refreshToken: string, deviceId: string) => fetch(server.url + pathOf(AUTH.refresh), {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken, deviceId }),
});
const pull = (server: TestServer, token: string) => fetch(`${server.url}${pathOf(SYNC.pull, { collection: 'epcrs' })}?schemaVersion=${schemaVersionOf('epcrs')}`, {
  headers: { authorization: `Bearer ${token}` },
});
const pushUrl = (server: TestServer) => `${server.url}${pathOf(SYNC.push, { collection: 'epcrs' })}?schemaVersion=${schemaVersionOf('epcrs')}`;
const codeOf = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

async function sealedRow(signed: Signed, doc: Record<string, unknown>): Promise<Record<string, unknown>> {
  const key = { kid: signed.transportKey.kid, key: await importTransportKey(signed.transportKey.key) };
  return { newDocumentState: await sealDocument(key, 'epcrs', doc) };
}

/** Asks until `refused` holds (at most 10 s); returns how long it took, for the test's name in the log. */
async function untilRefused(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!await check()) {
    if (Date.now() - started > 10_000) throw new Error('still accepted 10 s after the revocation');
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

describe.skipIf(SKIP_POSTGRES)('identity on PostgreSQL, shared by two server processes', () => {
  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const open = async () => startTestServer({
      store: await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 4 } }),
      loginAccountRateLimit: ACCOUNT_LIMIT,
      loginRateLimit: DEVICE_LIMIT,
    });
    // One after the other: the second finds the tables and the trial keys the first made.
    a = await open();
    b = await open();
    await a.app.auth.createUser(T, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
    await a.app.auth.createUser(T, { username: 'boss', password: PASSWORD, role: 'admin' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('signed in on A, every later request on B is accepted: pull, a sealed report push, a device-credential push, a refresh', async () => {
    const signed = await signedIn(a, 'medic', 'tablet-1');
    expect((await pull(b, signed.accessToken)).status).toBe(200);

    // The transport key A issued opens on B: the report is stored, not quarantined.
    const report = { ...newEpcr(T, 'M1'), rev: '1-a', _deleted: false };
    const pushed = await fetch(pushUrl(b), {
      method: 'POST', headers: { authorization: `Bearer ${signed.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([await sealedRow(signed, report)]),
    });
    expect(pushed.status, await pushed.clone().text()).toBe(200);
    expect(await pushed.json()).toEqual([]);
    expect((await b.app.store.getDocuments('epcrs', T, [report.id]))[0]?.id).toBe(report.id);
    expect(await a.app.store.listQuarantine(T, 10)).toEqual([]);

    // The service worker's push-only credential, issued by A, pushes through B.
    const keys = await generateDpopKeyPair();
    const issued = await fetch(a.url + pathOf(AUTH.deviceCredential), {
      method: 'POST', headers: { authorization: `Bearer ${signed.accessToken}`, dpop: await dpopProof({ keys, method: 'POST', url: a.url + pathOf(AUTH.deviceCredential) }) },
    });
    expect(issued.status).toBe(200);
    const { credential } = (await issued.json()) as { credential: string };
    const second = { ...newEpcr(T, 'M1'), rev: '1-b', _deleted: false };
    const viaCredential = await fetch(pushUrl(b), {
      method: 'POST',
      headers: { authorization: `DPoP ${credential}`, dpop: await dpopProof({ keys, method: 'POST', url: pushUrl(b), credential }), 'content-type': 'application/json' },
      body: JSON.stringify([await sealedRow(signed, second)]),
    });
    expect(viaCredential.status, await viaCredential.clone().text()).toBe(200);
    expect(await viaCredential.json()).toEqual([]);

    // A's refresh token rotates on B, and B's new access token works on A.
    const rotated = await refresh(b, signed.refreshToken, 'tablet-1');
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as Signed;
    expect((await pull(a, next.accessToken)).status).toBe(200);

    // The key is kept sealed: its raw bytes are nowhere in the table.
    const raw = Buffer.from(fromBase64url(signed.transportKey.key));
    const { rows } = await admin.query<{ key_sealed: Buffer }>(`SELECT key_sealed FROM ${schema}.identity_transport_keys WHERE kid = $1`, [signed.transportKey.kid]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_sealed.includes(raw)).toBe(false);
  });

  it('a refresh token rotated on A and presented again on B is a reuse: every session of the device ends on both', async () => {
    const signed = await signedIn(a, 'medic', 'tablet-2');
    const rotated = await refresh(a, signed.refreshToken, 'tablet-2');
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as Signed;
    const reused = await refresh(b, signed.refreshToken, 'tablet-2');
    expect(reused.status).toBe(401);
    expect(await codeOf(reused)).toBe('REFRESH_TOKEN_REUSED');
    // Ended by B's reuse detection: refused on B at once, and on A once its revocation list catches up.
    expect((await pull(b, next.accessToken)).status).toBe(401);
    const took = await untilRefused(async () => (await pull(a, next.accessToken)).status === 401);
    console.log(`reuse detected on B: A refused the session after ${took} ms`);
  });

  it('the same user signing in on the same device through A and B at once gets one transport key from both', async () => {
    const [one, two] = await Promise.all([signedIn(a, 'medic', 'tablet-6'), signedIn(b, 'medic', 'tablet-6')]);
    expect(two.transportKey).toEqual(one.transportKey);
    const { rows } = await admin.query(`SELECT kid FROM ${schema}.identity_transport_keys WHERE device_id = 'tablet-6' AND revoked_at IS NULL`);
    expect(rows).toHaveLength(1);
  });

  it('the same refresh token sent to A and B at once: exactly one wins, the other is a reuse', async () => {
    const signed = await signedIn(a, 'medic', 'tablet-3');
    const answers = await Promise.all([refresh(a, signed.refreshToken, 'tablet-3'), refresh(b, signed.refreshToken, 'tablet-3')]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
    const loser = answers.find((r) => r.status === 401)!;
    expect(await codeOf(loser)).toBe('REFRESH_TOKEN_REUSED');
  });

  it('a device revoked through A is refused by B within the revocation list\'s interval', async () => {
    const medic = await signedIn(b, 'medic', 'tablet-4');
    const boss = await signedIn(a, 'boss', 'admin-pc');
    expect((await pull(b, medic.accessToken)).status).toBe(200);
    const revoked = await fetch(a.url + pathOf(ADMIN.revokeDevice, { id: 'tablet-4' }), { method: 'POST', headers: { authorization: `Bearer ${boss.accessToken}` } });
    expect(revoked.status).toBe(200);
    expect((await pull(a, medic.accessToken)).status).toBe(401);
    const took = await untilRefused(async () => {
      const r = await pull(b, medic.accessToken);
      return r.status === 401 && await codeOf(r) === 'TOKEN_REVOKED';
    });
    console.log(`device revoked on A: B refused its token after ${took} ms`);
    // The sealed rows of the revoked device's key no longer open anywhere as valid.
    const lookup = await b.app.auth.transportKeys.lookup(medic.transportKey.kid);
    expect(lookup.kind === 'known' && lookup.revoked).toBeTruthy();
  });

  it('a user disabled through A: B closes that user\'s open /sync socket, with no data sent to it', async () => {
    const created = await a.app.auth.createUser(T, { username: 'temp', password: PASSWORD, role: 'crew', unitId: 'M2' });
    const temp = await signedIn(b, 'temp', 'tablet-5');
    const boss = await signedIn(a, 'boss', 'admin-pc');
    const socket = io(`${b.url}/sync`, { transports: ['websocket'], auth: { token: temp.accessToken }, reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => { socket.once('connect', () => resolve()); socket.once('connect_error', reject); });
      const disconnected = new Promise<string>((resolve, reject) => {
        socket.once('disconnect', (reason) => resolve(reason));
        setTimeout(() => reject(new Error('B kept the socket open 10 s after the user was disabled on A')), 10_000);
      });
      const revoked = await fetch(a.url + pathOf(ADMIN.revokeUser, { id: created.id }), { method: 'POST', headers: { authorization: `Bearer ${boss.accessToken}` } });
      expect(revoked.status).toBe(200);
      expect(await disconnected).toBe('io server disconnect');
    } finally {
      socket.close();
    }
  });

  it('the demo agency is seeded once per database: both processes see the same user ids', async () => {
    const results = await Promise.all([seedDemoTenant(a.app.identities), seedDemoTenant(b.app.identities)]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const onA = (await a.app.identities.listUsers('demo')).map((u) => `${u.username}:${u.id}`);
    const onB = (await b.app.identities.listUsers('demo')).map((u) => `${u.username}:${u.id}`);
    expect(onA).toHaveLength(DEMO_USERS.length);
    expect(onB).toEqual(onA);
    expect((await seedDemoTenant(b.app.identities)).created).toBe(false);
  });

  it('the failed sign-in budget of an account is one budget: a guess spray split over A and B is refused after the limit, not twice it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < ACCOUNT_LIMIT + 2; i++) {
      const r = await signIn(i % 2 === 0 ? a : b, 'medic', `guesser-${randomUUID()}`, `wrong-guess-${i}`);
      statuses.push(r.status);
    }
    expect(statuses.slice(0, ACCOUNT_LIMIT)).toEqual(Array(ACCOUNT_LIMIT).fill(401));
    expect(statuses.slice(ACCOUNT_LIMIT)).toEqual([429, 429]);
    // In each process's memory the spray would have had ACCOUNT_LIMIT guesses on each: 2 × as many.
  });

  it('a device\'s sign-in and refresh budget is one budget: refreshes alternating between A and B are refused after the limit', async () => {
    const statuses: number[] = [];
    const bogus = `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
    for (let i = 0; i < DEVICE_LIMIT + 2; i++) statuses.push((await refresh(i % 2 === 0 ? a : b, bogus, 'tablet-refresh-spray')).status);
    expect(statuses.slice(0, DEVICE_LIMIT)).toEqual(Array(DEVICE_LIMIT).fill(401));
    expect(statuses.slice(DEVICE_LIMIT)).toEqual([429, 429]);
  });

  it('a production process on PostgreSQL needs JWT_SECRET and TRANSPORT_KEY_SECRET; given, it signs with them and keeps nothing in identity_secrets', async () => {
    const settings = { dataDir: ':memory:', allowGenerated: false, accessTokenTtlSeconds: 900, jwtSecret: undefined, transportKeySecret: undefined };
    await expect(openIdentity(settings, { pool: admin, schema })).rejects.toThrow(/JWT_SECRET is required with PostgreSQL/);
    await expect(openIdentity({ ...settings, jwtSecret: 'j'.repeat(40) }, { pool: admin, schema })).rejects.toThrow(/TRANSPORT_KEY_SECRET is required with PostgreSQL/);
    const opened = await openIdentity({ ...settings, jwtSecret: 'j'.repeat(40), transportKeySecret: 't'.repeat(40) }, { pool: admin, schema });
    try {
      expect(opened.jwtKey).toMatchObject({ source: 'env', secret: Buffer.from('j'.repeat(40)) });
      expect(opened.generatedInDatabase).toEqual([]);
    } finally {
      await opened.identities.close();
    }
  });
});
