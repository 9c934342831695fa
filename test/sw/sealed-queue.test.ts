/**
 * Patient data waiting in the service worker's outbound queue is sealed (issue #4: PHI encrypted
 * at rest on devices). A real RxDB device seals what it queues with the transport key its user
 * got at sign-in; the queue (fake-indexeddb) holds no patient name and no narrative; the service
 * worker's delivery sends the envelopes as they are, and the real server opens them, refuses
 * what a wrong, foreign or revoked key sealed, and what another user queued, keeping all of it
 * in quarantine with the reason.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protectRows, type QueueProtection, type RawTransportKey } from '../../client/sync/queue-seal.ts';
import { toBase64url } from '../../shared/crypto/base64url.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, setSession, summarizeQueue, type OutboxDb, type OutboxSession, type PushRowInput } from '../../client/queue/index.ts';
import { deliverOutbox } from '../../sw/queue/index.ts';
import { issueDeviceCredential } from '../../client/session/device-credential.ts';
import { createDevice, eventually } from '../helpers/device.ts';
import { newEpcr, newGpsPoint } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { PASSWORD, sealedWith, serverEpcr as serverEpcrOf, signIn, type SignedIn } from './support.ts';
import { readRejection, rejectionText } from '../../server/replication/rejection-record.ts';

const A = 'agency-a';
const B = 'agency-b';
const LAST = 'Quintavalle';
const NARRATIVE = 'Found seated, diaphoretic, smells of acetone.';

let server: TestServer;
let dbCount = 0;
let writes = 0;

beforeAll(async () => {
  server = await startTestServer();
  for (const username of ['medic-a', 'medic-b']) await server.app.auth.createUser(A, { username, password: PASSWORD, role: 'crew', unitId: 'M1' });
  await server.app.auth.createUser(B, { username: 'medic-c', password: PASSWORD, role: 'crew', unitId: 'M1' });
}, 60_000);
afterAll(async () => { await server.close(); });

const signInAs = (username: string, deviceId: string, tenantId = A): Promise<SignedIn> => signIn(server, tenantId, username, deviceId);

async function queueFor(who: SignedIn): Promise<OutboxDb> {
  const db = await openOutboxDb(`sealed-queue-${++dbCount}`);
  await setSession(db, { serverUrl: server.url, token: who.accessToken, deviceId: who.deviceId });
  return db;
}

/** A device write: every write gets its own revision tag, as DocumentWriter does. */
function epcr(extra: Partial<Epcr> = {}, prev?: Epcr): Epcr {
  const base = prev ?? ({ ...newEpcr(A, 'M1'), rev: '' } as Epcr);
  return { ...base, ...extra, _deleted: false, rev: nextRevision(prev?.rev, `tab.s${++writes}`) } as Epcr;
}

/** What the device's database worker hands the queue for one change. */
async function enqueueSealed(db: OutboxDb, protection: QueueProtection, userId: string, rows: PushRowInput[]): Promise<void> {
  const sealed = await protectRows('epcrs', rows, protection);
  const kid = protection.kind === 'sealed' ? protection.key.kid : undefined;
  await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), sealed, Date.now(), { userId, ...(kid ? { kid } : {}) });
}

const serverEpcr = (id: string, tenantId = A): Promise<Epcr | undefined> => serverEpcrOf(server, tenantId, id);

/** The raw records of the queue's stores, as IndexedDB holds them. */
async function rawQueue(db: OutboxDb): Promise<string> {
  return JSON.stringify([await db.getAll('rows'), await db.getAll('rejected')]);
}

/** Real fetch, remembering the status of every push. */
function recordingFetch(statuses: number[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
}

describe('patient data in the service worker queue', () => {
  it('is sealed by the device: the queue holds neither the patient name nor the narrative, and the server gets the report as written', async () => {
    const medic = await signInAs('medic-a', 'tab-seal-1');
    const outbox = await queueFor(medic);
    const device = await createDevice({
      serverUrl: server.url, token: medic.accessToken, collections: ['epcrs', 'gps_points'], outbox, protection: await sealedWith(medic), userId: medic.userId,
      deviceId: medic.deviceId,
    });
    try {
      const report = newEpcr(A, 'M1', { patient: { lastName: LAST, firstName: 'Philomena' }, narrative: { text: NARRATIVE } });
      await device.writer.insert('epcrs', report);
      await device.writer.insert('gps_points', newGpsPoint(A, 'M1', 1));
      await eventually('the report and the fix queued', async () => (await summarizeQueue(outbox)).total === 2);
      // A second edit while it waits: one row, the newest state sealed, the oldest base kept.
      await device.writer.update('epcrs', report.id, (d) => ({ ...d, narrative: { text: `${NARRATIVE} Glucose HI.` } }));
      await eventually('the edit queued', async () => (await outbox.get('rows', ['epcrs', report.id, medic.userId]))?.version === 2);

      const raw = await rawQueue(outbox);
      expect(raw).not.toContain(LAST);
      expect(raw).not.toContain('acetone');
      expect(raw).not.toContain('Glucose');
      const row = (await outbox.get('rows', ['epcrs', report.id, medic.userId]))!;
      expect(row.state).toMatchObject({ id: report.id, $enc: { v: 1, kid: medic.transportKey.kid } });
      expect(row.writer).toEqual({ userId: medic.userId, kid: medic.transportKey.kid });
      expect(row.rev).toMatch(/^2-/);
      // Positions are not patient data: they stay in clear (volume).
      const [gps] = (await outbox.getAll('rows')).filter((r) => r.collection === 'gps_points');
      expect(gps!.state).toHaveProperty('lat');

      const result = await deliverOutbox({ db: outbox });
      expect(result).toMatchObject({ delivered: 2, rejected: 0 });
      const stored = await serverEpcr(report.id);
      expect([stored?.patient?.lastName, stored?.narrative?.text, stored?.rev]).toEqual([LAST, `${NARRATIVE} Glucose HI.`, row.rev]);
      expect((await summarizeQueue(outbox)).total).toBe(0);
    } finally {
      await device.close();
      outbox.close();
    }
  });

  it('without a transport key (signed in before keys existed) reports skip the queue and go straight to the server; positions still queue', async () => {
    const medic = await signInAs('medic-a', 'tab-seal-nokey');
    const outbox = await queueFor(medic);
    const device = await createDevice({
      serverUrl: server.url, token: medic.accessToken, collections: ['epcrs', 'gps_points'], outbox, protection: { kind: 'direct' }, userId: medic.userId,
    });
    try {
      const report = newEpcr(A, 'M1', { patient: { lastName: LAST }, narrative: { text: NARRATIVE } });
      await device.writer.insert('epcrs', report);
      await device.writer.insert('gps_points', newGpsPoint(A, 'M1', 2));
      await eventually('the report on the server, pushed directly', () => serverEpcr(report.id));
      await eventually('the fix queued', async () => (await summarizeQueue(outbox)).waiting['gps_points'] === 1);
      expect((await summarizeQueue(outbox)).waiting['epcrs']).toBeUndefined();
      expect(await rawQueue(outbox)).not.toContain(LAST);
    } finally {
      await device.close();
      outbox.close();
    }
  });

  it('a server change pulled while a sealed edit waits is merged with it on the device, and on the server when it arrives', async () => {
    const medic = await signInAs('medic-a', 'tab-seal-2');
    const other = await signInAs('medic-b', 'tab-seal-other');
    const outbox = await queueFor(medic);
    const stub = epcr({ status: 'draft' });
    const push = (assumed: Epcr | undefined, next: Epcr) => fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'POST', headers: { authorization: `Bearer ${other.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ ...(assumed ? { assumedMasterState: assumed } : {}), newDocumentState: next }]),
    });
    expect((await push(undefined, stub)).status).toBe(200);
    const device = await createDevice({
      serverUrl: server.url, token: medic.accessToken, collections: ['epcrs'], outbox, protection: await sealedWith(medic), userId: medic.userId,
    });
    const local = async () => (await device.db.collections['epcrs']!.findOne(stub.id).exec())?.toJSON() as Epcr | undefined;
    try {
      await eventually('the stub on the device', local);
      await device.writer.update('epcrs', stub.id, (d) => ({ ...d, patient: { lastName: LAST } }));
      await eventually('the edit queued', async () => (await summarizeQueue(outbox)).total === 1);
      expect(await rawQueue(outbox)).not.toContain(LAST);

      // Another crew member fills in the times; the server state reaches this device.
      const times = epcr({ times: { unitEnRoute: '2026-11-22T10:01:00-05:00' } }, stub);
      expect((await push(stub, times)).status).toBe(200);
      await eventually('the times on the device', async () => (await local())?.times?.unitEnRoute);
      expect((await local())?.patient?.lastName, 'the sealed queued edit, replayed onto the server state').toBe(LAST);

      await deliverOutbox({ db: outbox });
      const final = await serverEpcr(stub.id);
      expect([final?.patient?.lastName, final?.times?.unitEnRoute]).toEqual([LAST, '2026-11-22T10:01:00-05:00']);
    } finally {
      await device.close();
      outbox.close();
    }
  });

  it('a sealed replay that conflicts with a newer server state is merged by the server; from a server that does not merge, the row waits unopened', async () => {
    const medic = await signInAs('medic-a', 'tab-seal-3');
    const protection = await sealedWith(medic);
    const outbox = await queueFor(medic);
    const original = epcr({ patient: { firstName: 'Ana' } });
    await enqueueSealed(outbox, protection, medic.userId, [{ newDocumentState: original }]);
    expect((await deliverOutbox({ db: outbox })).delivered).toBe(1);
    // Someone else's edit reaches the server first.
    const theirs = epcr({ narrative: { text: 'their narrative' } }, original);
    const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'POST', headers: { authorization: `Bearer ${medic.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ assumedMasterState: original, newDocumentState: theirs }]),
    });
    expect(response.status).toBe(200);
    // This device edited another section offline, on the original.
    const mine = epcr({ patient: { firstName: 'Ana', lastName: 'Reyes' } }, original);
    await enqueueSealed(outbox, protection, medic.userId, [{ assumedMasterState: original, newDocumentState: mine }]);
    const queued = (await outbox.get('rows', ['epcrs', original.id, medic.userId]))!;

    // A server without merge mode answers with its state: the service worker cannot open the
    // row to merge it, so it keeps it as it is, and does not send it again in this run.
    const noMerge: typeof fetch = (input, init) => fetch(String(input).replace('&conflicts=merge', ''), init);
    const old = await deliverOutbox({ db: outbox, fetch: noMerge });
    expect(old).toMatchObject({ requests: 1, delivered: 0, merged: 0, rejected: 0 });
    expect(await outbox.get('rows', ['epcrs', original.id, medic.userId])).toEqual(queued);
    expect(await rawQueue(outbox)).not.toContain('their narrative');

    const merged = await deliverOutbox({ db: outbox });
    expect(merged.delivered).toBe(1);
    const final = await serverEpcr(original.id);
    expect([final?.narrative?.text, final?.patient?.lastName]).toEqual(['their narrative', 'Reyes']);
    expect(final?.rev).toMatch(/^3-m/);
    expect((await summarizeQueue(outbox)).total).toBe(0);
  });

  it('rows sealed with an unknown key, another agency\'s key or a revoked key are refused (403), kept in quarantine, and nothing is written', async () => {
    const medic = await signInAs('medic-a', 'tab-seal-4');
    const outbox = await queueFor(medic);
    const unknown: RawTransportKey = { kid: 'tk_never-issued-0001', key: toBase64url(crypto.getRandomValues(new Uint8Array(32))) };
    const foreign = await signInAs('medic-c', 'tab-seal-4', B);
    // A key revoked with its device; the device, enabled again, signs in with a new one.
    const before = await signInAs('medic-a', 'tab-seal-5');
    const admin = { tenantId: A, role: 'admin' as const, deviceId: 'console', userId: 'admin-1' };
    await server.app.auth.setDeviceRevoked(A, 'tab-seal-5', true, admin);
    await server.app.auth.setDeviceRevoked(A, 'tab-seal-5', false, admin);
    const after = await signInAs('medic-a', 'tab-seal-5');
    expect(after.transportKey.kid).not.toBe(before.transportKey.kid);
    await setSession(outbox, { serverUrl: server.url, token: after.accessToken, deviceId: after.deviceId });

    const cases = [
      { key: unknown, code: 'KEY_UNKNOWN', reason: /never issued/ },
      { key: foreign.transportKey, code: 'KEY_OTHER_AGENCY', reason: /another agency/ },
      { key: before.transportKey, code: 'KEY_REVOKED', reason: /revoked/ },
    ];
    for (const { key, code, reason } of cases) {
      const doc = epcr({ patient: { lastName: LAST } });
      await enqueueSealed(outbox, await sealedWith(key), after.userId, [{ newDocumentState: doc }]);
      const statuses: number[] = [];
      const result = await deliverOutbox({ db: outbox, fetch: recordingFetch(statuses) });
      expect(statuses, code).toEqual([403]);
      expect(result.rejected).toBe(1);
      expect(await serverEpcr(doc.id), 'nothing written').toBeUndefined();
      const refused = (await summarizeQueue(outbox)).rejected.find((r) => r.id === doc.id);
      expect(refused).toMatchObject({ code, rev: doc.rev });
      expect(refused?.reason).toMatch(reason);
      expect(JSON.stringify(refused), 'still sealed on the device').not.toContain(LAST);
      const kept = await server.app.store.findQuarantine({ tenantId: A, documentIds: [doc.id], limit: 5 });
      expect(kept, `${code} quarantined`).toHaveLength(1);
      expect(rejectionText(readRejection(kept[0]!.reason))).toMatch(new RegExp(`^${code}: `));
      // A revoked key still opens what it sealed: the administrator can read the refused change.
      expect(kept[0]!.json.includes(LAST)).toBe(code === 'KEY_REVOKED');
    }
    // Another agency's quarantine got nothing.
    expect(await server.app.store.listQuarantine(B, 50)).toHaveLength(0);
    expect((await summarizeQueue(outbox)).total).toBe(0);
    outbox.close();
  });

  it('a change queued by one user and sent with another user\'s token is refused and quarantined, naming who wrote it; that user\'s own changes go through', async () => {
    // A shared tablet: medic-a queues a change, signs out; medic-b signs in on the same device.
    const first = await signInAs('medic-a', 'tab-shared');
    const outbox = await queueFor(first);
    const theirs = epcr({ patient: { lastName: LAST } });
    await enqueueSealed(outbox, await sealedWith(first), first.userId, [{ newDocumentState: theirs }]);
    const second = await signInAs('medic-b', 'tab-shared');
    await setSession(outbox, { serverUrl: server.url, token: second.accessToken, deviceId: second.deviceId });
    const mine = epcr({ narrative: { text: 'medic-b was here' } });
    await enqueueSealed(outbox, await sealedWith(second), second.userId, [{ newDocumentState: mine }]);

    const statuses: number[] = [];
    const result = await deliverOutbox({ db: outbox, fetch: recordingFetch(statuses) });
    expect(statuses).toEqual([403, 200]);
    expect(result).toMatchObject({ rejected: 1, delivered: 1 });
    expect(await serverEpcr(theirs.id), 'not written under medic-b\'s name').toBeUndefined();
    expect((await serverEpcr(mine.id))?.narrative?.text).toBe('medic-b was here');
    const refused = (await summarizeQueue(outbox)).rejected.find((r) => r.id === theirs.id);
    expect(refused).toMatchObject({ code: 'WRITER_MISMATCH', writer: { userId: first.userId } });
    expect(refused?.reason).toContain('medic-a');
    const [kept] = await server.app.store.findQuarantine({ tenantId: A, documentIds: [theirs.id], limit: 5 });
    expect(rejectionText(readRejection(kept?.reason ?? ''))).toMatch(/^WRITER_MISMATCH: it was written by medic-a \(user [0-9a-f-]+\) on device tab-shared/);
    expect(kept?.actor).toMatchObject({ userId: second.userId, deviceId: 'tab-shared' });
    expect(kept?.json).toContain(LAST);
    outbox.close();
  });

  it('an envelope moved onto another document, or altered, does not open: 400, quarantined, nothing written', async () => {
    const medic = await signInAs('medic-a', 'tab-seal-6');
    const protection = await sealedWith(medic);
    const doc = epcr({ patient: { lastName: LAST } });
    const [row] = await protectRows('epcrs', [{ newDocumentState: doc }], protection);
    const victim = epcr();
    const moved = { ...row!.newDocumentState, id: victim.id };
    const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}&conflicts=merge`, {
      method: 'POST', headers: { authorization: `Bearer ${medic.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ newDocumentState: moved }]),
    });
    expect(response.status).toBe(400);
    const body = await response.json() as { error: { code: string; details: { id: string }[] } };
    expect(body.error.code).toBe('BAD_ENVELOPE');
    expect(body.error.details[0]!.id).toBe(victim.id);
    expect(await serverEpcr(victim.id)).toBeUndefined();
    expect(await serverEpcr(doc.id)).toBeUndefined();
    expect(await server.app.store.findQuarantine({ tenantId: A, documentIds: [victim.id], limit: 5 })).toHaveLength(1);
  });

  it('the same user signing in again on the same device gets the same key; another device, another user or a revoked device get another', async () => {
    const one = await signInAs('medic-a', 'tab-keys-1');
    const again = await signInAs('medic-a', 'tab-keys-1');
    const elsewhere = await signInAs('medic-a', 'tab-keys-2');
    const colleague = await signInAs('medic-b', 'tab-keys-1');
    expect(again.transportKey).toEqual(one.transportKey);
    expect(new Set([one, elsewhere, colleague].map((s) => s.transportKey.kid)).size).toBe(3);
    expect(one.transportKey.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // A user disabled by the administrator: the key is refused at once, even though it was never revoked itself.
    const protection = await sealedWith(one);
    await server.app.auth.setUserRevoked(A, one.userId, true, { tenantId: A, role: 'admin', deviceId: 'console', userId: 'admin-1' });
    try {
      const keys = server.app.auth.transportKeys;
      const found = await keys.lookup(one.transportKey.kid);
      expect(found.kind === 'known' && found.revoked).toMatch(/revoked|disabled/);
      expect(protection.kind).toBe('sealed');
    } finally {
      await server.app.auth.setUserRevoked(A, one.userId, false, { tenantId: A, role: 'admin', deviceId: 'console', userId: 'admin-1' });
    }
  });
});

describe('delivering with the push-only device credential (DPoP)', () => {
  /** The credential an unlocked page asks for (client/session/device-credential.ts), for `who`. */
  async function credentialOf(who: SignedIn) {
    return issueDeviceCredential({ kind: 'password', accessToken: who.accessToken, user: { tenantId: A, role: 'crew', userId: who.userId, deviceId: who.deviceId, unitId: 'M1' } }, server.url);
  }

  it('delivers sealed reports with no access token in the queue; a device clock 20 minutes off is corrected from the server\'s Date', async () => {
    const medic = await signInAs('medic-a', 'tab-dpop-1');
    const outbox = await openOutboxDb(`sealed-queue-${++dbCount}`);
    const credential = await credentialOf(medic);
    expect(credential.keys.privateKey.extractable).toBe(false);
    await setSession(outbox, { serverUrl: server.url, deviceId: medic.deviceId, credential });
    const report = epcr({ patient: { lastName: LAST } } as Partial<Epcr>);
    await enqueueSealed(outbox, await sealedWith(medic), medic.userId, [{ newDocumentState: report }]);
    const statuses: number[] = [];
    const skewed = () => Date.now() - 20 * 60_000;
    const result = await deliverOutbox({ db: outbox, fetch: recordingFetch(statuses), now: skewed });
    expect(result).toMatchObject({ delivered: 1, rejected: 0 });
    expect(result.stoppedBy).toBeUndefined();
    expect(statuses).toEqual([401, 200]);
    expect((await serverEpcr(report.id))?.patient?.lastName).toBe(LAST);
    const stored = await outbox.get('meta', 'session') as OutboxSession;
    expect(stored.clockOffsetMs).toBeGreaterThan(19 * 60_000);
    expect(JSON.stringify(stored)).not.toContain(medic.accessToken);
    // The next run makes its proof with the corrected time at once.
    await enqueueSealed(outbox, await sealedWith(medic), medic.userId, [{ newDocumentState: epcr({}, report) }]);
    statuses.length = 0;
    expect(await deliverOutbox({ db: outbox, fetch: recordingFetch(statuses), now: skewed })).toMatchObject({ delivered: 1 });
    expect(statuses).toEqual([200]);
    outbox.close();
  });

  it('stops, signed out, when the device is revoked: the changes wait, nothing is dropped', async () => {
    const medic = await signInAs('medic-b', 'tab-dpop-2');
    const outbox = await openOutboxDb(`sealed-queue-${++dbCount}`);
    await setSession(outbox, { serverUrl: server.url, deviceId: medic.deviceId, credential: await credentialOf(medic) });
    await server.app.auth.setDeviceRevoked(A, 'tab-dpop-2', true, { tenantId: A, role: 'admin', deviceId: 'console', userId: 'admin-1' });
    await enqueueSealed(outbox, await sealedWith(medic), medic.userId, [{ newDocumentState: epcr() }]);
    const result = await deliverOutbox({ db: outbox });
    expect(result).toMatchObject({ delivered: 0, stoppedBy: 'auth' });
    expect((await summarizeQueue(outbox)).total).toBe(1);
    outbox.close();
  });
});
