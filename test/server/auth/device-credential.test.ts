/**
 * The service worker's push-only device credential (issue #17), on a real server: bound to a
 * non-extractable P-256 key by DPoP proofs (RFC 9449), good for pushing sealed rows and for
 * nothing that reads (pull, rejections, export, the stream, the live feed, sign-in routes),
 * refused with a proof of another key, a replayed proof, a proof for another URL or method, and
 * after the device (or the session) is revoked. Answers that carry records say no-store.
 */
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopProof, generateDpopKeyPair } from '../../../shared/crypto/dpop-proof.ts';
import { importTransportKey, sealDocument } from '../../../shared/crypto/envelope.ts';
import { ADMIN, AUTH, EPCRS, pathOf, SYNC } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { make, PASSWORD, seed, stored } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const A = 'agency-a';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
  await server.app.auth.createUser(A, { username: 'boss', password: PASSWORD, role: 'admin' });
}, 60_000);
afterAll(async () => { await server.close(); });

interface Signed { accessToken: string; refreshToken: string; transportKey: { kid: string; key: string } }

async function signIn(deviceId: string, username = 'medic'): Promise<Signed> {
  const r = await fetch(server.url + pathOf(AUTH.login), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: A, username, password: PASSWORD, deviceId }),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Signed;
}

const credentialUrl = () => server.url + pathOf(AUTH.deviceCredential);
const pushUrl = (collection: string) => `${server.url}${pathOf(SYNC.push, { collection })}?schemaVersion=${schemaVersionOf(collection)}`;
const pullUrl = (collection: string) => `${server.url}${pathOf(SYNC.pull, { collection })}?schemaVersion=${schemaVersionOf(collection)}`;

async function issue(accessToken: string, keys: CryptoKeyPair): Promise<Response> {
  return fetch(credentialUrl(), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, dpop: await dpopProof({ keys, method: 'POST', url: credentialUrl() }) },
  });
}

async function credentialFor(deviceId: string): Promise<{ signed: Signed; keys: CryptoKeyPair; credential: string }> {
  const signed = await signIn(deviceId);
  const keys = await generateDpopKeyPair();
  const r = await issue(signed.accessToken, keys);
  expect(r.status).toBe(200);
  expect(r.headers.get('cache-control')).toBe('no-store');
  const body = (await r.json()) as { credential: string; tokenType: string };
  expect(body.tokenType).toBe('DPoP');
  return { signed, keys, credential: body.credential };
}

/** A call with the device credential and a proof made for exactly this call (unless `proof` says otherwise). */
async function withCredential(credential: string, keys: CryptoKeyPair, method: string, url: string, body?: unknown, proof?: string): Promise<Response> {
  return fetch(url, {
    method,
    headers: {
      authorization: `DPoP ${credential}`, dpop: proof ?? await dpopProof({ keys, method, url, credential }),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function sealedRow(signed: Signed, doc: Record<string, unknown>): Promise<Record<string, unknown>> {
  const key = { kid: signed.transportKey.kid, key: await importTransportKey(signed.transportKey.key) };
  return { newDocumentState: await sealDocument(key, 'epcrs', doc) };
}

const codeOf = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

describe('the push-only device credential', () => {
  it('pushes a sealed report with no access token, and the server stores it', async () => {
    const { signed, keys, credential } = await credentialFor('tab-push');
    const doc = make.epcrs(A, { unitId: 'M1' });
    const r = await withCredential(credential, keys, 'POST', pushUrl('epcrs'), [await sealedRow(signed, doc)]);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([]);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await stored(server.app.store, 'epcrs', A, String(doc['id']))).toMatchObject({ patient: { lastName: 'Reyes' } });
  });

  it('reads nothing: pull, rejections, export, sign-in routes, the stream and the live feed refuse it', async () => {
    const { keys, credential } = await credentialFor('tab-read');
    const report = make.epcrs(A, { unitId: 'M1' });
    await seed(server.app.store, 'epcrs', [report]);
    const refusals: Record<string, [number, string]> = {};
    const tries: [string, string, string][] = [
      ['pull', 'GET', pullUrl('epcrs')],
      ['pull incidents', 'GET', pullUrl('incidents')],
      ['rejections', 'GET', server.url + pathOf(SYNC.rejections)],
      ['out-of-scope', 'POST', server.url + pathOf(SYNC.outOfScope, { collection: 'epcrs' })],
      ['export', 'GET', server.url + pathOf(EPCRS.nemsisXml, { id: String(report['id']) })],
      ['audit', 'GET', server.url + pathOf(ADMIN.audit)],
      ['me', 'GET', server.url + pathOf(AUTH.me)],
      ['new credential', 'POST', credentialUrl()],
    ];
    for (const [name, method, url] of tries) {
      const r = await withCredential(credential, keys, method, url);
      const text = await r.text();
      expect(text).not.toContain('Reyes');
      refusals[name] = [r.status, text.includes('PUSH_ONLY_CREDENTIAL') ? 'PUSH_ONLY_CREDENTIAL' : text.includes('UNAUTHENTICATED') ? 'UNAUTHENTICATED' : text.slice(0, 80)];
    }
    expect(refusals).toEqual({
      pull: [403, 'PUSH_ONLY_CREDENTIAL'], 'pull incidents': [403, 'PUSH_ONLY_CREDENTIAL'], rejections: [403, 'PUSH_ONLY_CREDENTIAL'], 'out-of-scope': [403, 'PUSH_ONLY_CREDENTIAL'],
      export: [403, 'PUSH_ONLY_CREDENTIAL'], audit: [403, 'PUSH_ONLY_CREDENTIAL'], me: [401, 'UNAUTHENTICATED'], 'new credential': [403, 'PUSH_ONLY_CREDENTIAL'],
    });
    // The credential as a refresh token: not one.
    const refresh = await fetch(server.url + pathOf(AUTH.refresh), {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: credential, deviceId: 'tab-read' }),
    });
    expect(refresh.status).toBe(401);
    // Both socket namespaces take access tokens only.
    for (const namespace of ['/sync', '/live']) {
      const socket = io(`${server.url}${namespace}`, { transports: ['websocket'], auth: { token: credential }, reconnection: false });
      const error = await new Promise<Error | undefined>((resolve) => {
        socket.once('connect', () => resolve(undefined));
        socket.once('connect_error', (e) => resolve(e));
      });
      socket.close();
      expect(error?.message, namespace).toMatch(/token is not valid/);
    }
  });

  it('pushes only sealed rows of collections sealed on the device, and answers a conflict with the id alone', async () => {
    const { signed, keys, credential } = await credentialFor('tab-clear');
    const clear = await withCredential(credential, keys, 'POST', pushUrl('epcrs'), [{ newDocumentState: make.epcrs(A, { unitId: 'M1' }) }]);
    expect(clear.status).toBe(403);
    expect(await codeOf(clear)).toBe('PUSH_ONLY_CREDENTIAL');
    // A sealed row older than the server's copy: the answer names it, without its content.
    const report = make.epcrs(A, { unitId: 'M1' });
    await seed(server.app.store, 'epcrs', [{ ...report, rev: '5-server', narrative: { text: 'newer on the server' } }]);
    const old = await withCredential(credential, keys, 'POST', pushUrl('epcrs'), [await sealedRow(signed, { ...report, rev: '2-device' })]);
    expect(old.status).toBe(200);
    expect(await old.json()).toEqual([{ id: report['id'] }]);
  });

  it('refuses a proof of another key, a replayed proof, a proof for another URL or method, and a missing proof', async () => {
    const { signed, keys, credential } = await credentialFor('tab-proofs');
    const row = await sealedRow(signed, make.epcrs(A, { unitId: 'M1' }));
    const url = pushUrl('epcrs');
    const other = await generateDpopKeyPair();
    const outcomes: Record<string, [number, string]> = {};
    const attempt = async (name: string, proof: string | undefined) => {
      const r = await fetch(url, {
        method: 'POST',
        headers: { authorization: `DPoP ${credential}`, 'content-type': 'application/json', ...(proof !== undefined ? { dpop: proof } : {}) },
        body: JSON.stringify([row]),
      });
      outcomes[name] = [r.status, await codeOf(r)];
    };
    await attempt('other key', await dpopProof({ keys: other, method: 'POST', url, credential }));
    const once = await dpopProof({ keys, method: 'POST', url, credential });
    expect((await withCredential(credential, keys, 'POST', url, [row], once)).status).toBe(200);
    await attempt('replayed', once);
    await attempt('other url', await dpopProof({ keys, method: 'POST', url: pushUrl('incidents'), credential }));
    await attempt('other method', await dpopProof({ keys, method: 'GET', url, credential }));
    await attempt('no ath', await dpopProof({ keys, method: 'POST', url }));
    await attempt('an hour old', await dpopProof({ keys, method: 'POST', url, credential, iat: Math.floor(Date.now() / 1000) - 3600 }));
    await attempt('missing', undefined);
    const forged = `dc_${credential.slice(3, 25)}.${'A'.repeat(43)}`;
    const r = await fetch(url, { method: 'POST', headers: { authorization: `DPoP ${forged}`, dpop: await dpopProof({ keys, method: 'POST', url, credential: forged }), 'content-type': 'application/json' }, body: JSON.stringify([row]) });
    outcomes['forged secret'] = [r.status, await codeOf(r)];
    expect(outcomes).toEqual({
      'other key': [401, 'BAD_DPOP_PROOF'], replayed: [401, 'BAD_DPOP_PROOF'], 'other url': [401, 'BAD_DPOP_PROOF'], 'other method': [401, 'BAD_DPOP_PROOF'],
      'no ath': [401, 'BAD_DPOP_PROOF'], 'an hour old': [401, 'BAD_DPOP_PROOF'], missing: [401, 'BAD_DPOP_PROOF'], 'forged secret': [401, 'BAD_DEVICE_CREDENTIAL'],
    });
  });

  it('is issued only with a proof of the key, and only to a signed-in session', async () => {
    const signed = await signIn('tab-issue');
    const noProof = await fetch(credentialUrl(), { method: 'POST', headers: { authorization: `Bearer ${signed.accessToken}` } });
    expect(noProof.status).toBe(401);
    expect(await codeOf(noProof)).toBe('BAD_DPOP_PROOF');
    const keys = await generateDpopKeyPair();
    const noToken = await fetch(credentialUrl(), { method: 'POST', headers: { dpop: await dpopProof({ keys, method: 'POST', url: credentialUrl() }) } });
    expect(noToken.status).toBe(401);
  });

  it('dies with its device: revoking the device refuses the next push', async () => {
    const { signed, keys, credential } = await credentialFor('tab-stolen');
    expect((await withCredential(credential, keys, 'POST', pushUrl('epcrs'), [await sealedRow(signed, make.epcrs(A, { unitId: 'M1' }))])).status).toBe(200);
    const boss = await signIn('admin-pc', 'boss');
    const revoke = await fetch(server.url + pathOf(ADMIN.revokeDevice, { id: 'tab-stolen' }), {
      method: 'POST', headers: { authorization: `Bearer ${boss.accessToken}`, 'content-type': 'application/json' }, body: '{}',
    });
    expect(revoke.status).toBe(200);
    const after = await withCredential(credential, keys, 'POST', pushUrl('epcrs'), [await sealedRow(signed, make.epcrs(A, { unitId: 'M1' }))]);
    expect(after.status).toBe(401);
    expect(await codeOf(after)).toBe('TOKEN_REVOKED');
  });

  it('dies with its session: after sign-out the credential is refused', async () => {
    const { signed, keys, credential } = await credentialFor('tab-logout');
    await fetch(server.url + pathOf(AUTH.logout), { method: 'POST', headers: { authorization: `Bearer ${signed.accessToken}`, 'content-type': 'application/json' }, body: '{}' });
    const after = await withCredential(credential, keys, 'POST', pushUrl('epcrs'), [await sealedRow(signed, make.epcrs(A, { unitId: 'M1' }))]);
    expect(after.status).toBe(401);
  });
});

describe('behind a proxy that ends TLS (PUBLIC_ORIGIN)', () => {
  it('checks htu against the public origin the device called, not the address the server sees', async () => {
    const behind = await startTestServer({ publicOrigin: 'https://fieldsync.agency-a.example' });
    try {
      await behind.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
      const login = await fetch(behind.url + pathOf(AUTH.login), {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: A, username: 'medic', password: PASSWORD, deviceId: 'tab-proxy' }),
      });
      const { accessToken } = (await login.json()) as Signed;
      const keys = await generateDpopKeyPair();
      const ask = async (htuOrigin: string) => fetch(behind.url + pathOf(AUTH.deviceCredential), {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, dpop: await dpopProof({ keys, method: 'POST', url: htuOrigin + pathOf(AUTH.deviceCredential) }) },
      });
      expect((await ask(behind.url)).status).toBe(401);
      expect((await ask('https://fieldsync.agency-a.example')).status).toBe(200);
    } finally {
      await behind.close();
    }
  });
});

describe('Cache-Control on answers that carry records', () => {
  it('pull, push, rejections and export answers say no-store', async () => {
    const signed = await signIn('tab-cache');
    const report = make.epcrs(A, { unitId: 'M1', id: randomUUID() });
    await seed(server.app.store, 'epcrs', [report]);
    const auth = { authorization: `Bearer ${signed.accessToken}` };
    const answers = {
      pull: await fetch(pullUrl('epcrs'), { headers: auth }),
      'pull incidents': await fetch(pullUrl('incidents'), { headers: auth }),
      rejections: await fetch(server.url + pathOf(SYNC.rejections), { headers: auth }),
      push: await fetch(pushUrl('epcrs'), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify([{ newDocumentState: { ...report, rev: '1-stale' } }]) }),
      'socket.io polling': await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`),
    };
    const seen = Object.fromEntries(Object.entries(answers).map(([name, r]) => [name, [r.status, r.headers.get('cache-control')]]));
    expect(seen).toEqual({
      pull: [200, 'no-store'], 'pull incidents': [200, 'no-store'], rejections: [200, 'no-store'], push: [200, 'no-store'], 'socket.io polling': [200, 'no-store'],
    });
    expect(await answers.pull.text()).toContain('Reyes');
  });
});
