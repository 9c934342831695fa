/**
 * A shared tablet: the service worker's queue is the browser profile's, every user who signs in
 * on it queues into it. Medic A edits a report offline and signs out before the change is
 * delivered; medic B signs in and edits the same report. Both changes wait, each under its
 * writer (sealed with its writer's key); neither replaces the other. Real server, real sealing,
 * fake-indexeddb for the queue.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protectRows, QueueKey } from '../../client/sync/queue-seal.ts';
import { rebaseOnQueue } from '../../client/sync/queue-rebase.ts';
import { readOutbox } from '../../client/worker/outbox-view.ts';
import { devToken } from '../../server/auth/identity.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, queuedRows, setSession, summarizeQueue, type OutboxDb, type PushRowInput, type QueueWriter } from '../../client/queue/index.ts';
import { deliverOutbox } from '../../sw/queue/index.ts';
import { newEpcr } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { PASSWORD, sealedWith, serverEpcr as serverEpcrOf, signIn, type SignedIn } from './support.ts';
import { readRejection, rejectionText } from '../../server/replication/rejection-record.ts';

const A = 'agency-a';

let server: TestServer;
let dbCount = 0;
let writes = 0;

beforeAll(async () => {
  server = await startTestServer();
  for (const username of ['medic-a', 'medic-b']) await server.app.auth.createUser(A, { username, password: PASSWORD, role: 'crew', unitId: 'M1' });
}, 60_000);
afterAll(async () => { await server.close(); });

const signInAs = (username: string, deviceId: string): Promise<SignedIn> => signIn(server, A, username, deviceId);

/** The session the service worker delivers with: whoever signed in last on the tablet. */
const signedInOn = (db: OutboxDb, who: SignedIn) =>
  setSession(db, { serverUrl: server.url, token: who.accessToken, deviceId: who.deviceId });

/** A device write: every write gets its own revision tag, as DocumentWriter does. */
function epcr(extra: Partial<Epcr> = {}, prev?: Epcr): Epcr {
  const base = prev ?? ({ ...newEpcr(A, 'M1'), rev: '' } as Epcr);
  return { ...base, ...extra, _deleted: false, rev: nextRevision(prev?.rev, `tab.sd${++writes}`) } as Epcr;
}

/** What a user's database worker hands the queue for one change: sealed with that user's key, with that user as writer. */
async function enqueueAs(db: OutboxDb, who: SignedIn, rows: PushRowInput[]): Promise<void> {
  const protection = await sealedWith(who);
  const sealed = await protectRows('epcrs', rows, protection);
  await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), sealed, Date.now(), { userId: who.userId, kid: who.transportKey.kid });
}

/** The report on the server first, as both medics' devices pulled it. */
async function reportOnServer(who: SignedIn, doc: Epcr): Promise<void> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
    method: 'POST', headers: { authorization: `Bearer ${who.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ newDocumentState: doc }]),
  });
  expect(response.status).toBe(200);
}

const serverEpcr = (id: string): Promise<Epcr | undefined> => serverEpcrOf(server, A, id);

/** Real fetch, remembering each push's status and the ids of the rows it carried. */
function recordingFetch(requests: { status: number; ids: string[] }[]): typeof fetch {
  return async (input, init) => {
    const gzipped = new Headers(init?.headers).get('content-encoding') === 'gzip';
    const raw = new Blob([init?.body as BlobPart]);
    const text = gzipped ? await new Response(raw.stream().pipeThrough(new DecompressionStream('gzip'))).text() : await raw.text();
    const response = await fetch(input, init);
    requests.push({ status: response.status, ids: (JSON.parse(text) as { newDocumentState: { id: string } }[]).map((r) => r.newDocumentState.id) });
    return response;
  };
}

describe('two users\' changes to one document on a shared device', () => {
  it('both wait as separate rows, are delivered one per request in queue order, and both edits end up on the server', async () => {
    const medicA = await signInAs('medic-a', 'tab-shared-1');
    const medicB = await signInAs('medic-b', 'tab-shared-1');
    const outbox = await openOutboxDb(`shared-device-${++dbCount}`);
    const report = epcr();
    await reportOnServer(medicA, report);

    // A edits the patient section offline, twice (one row: newest state, oldest base), and signs out.
    await signedInOn(outbox, medicA);
    const a1 = epcr({ patient: { lastName: 'Okafor' } }, report);
    await enqueueAs(outbox, medicA, [{ assumedMasterState: report, newDocumentState: a1 }]);
    const a2 = epcr({ patient: { lastName: 'Okafor', firstName: 'Chidi' } }, a1);
    await enqueueAs(outbox, medicA, [{ assumedMasterState: a1, newDocumentState: a2 }]);
    // B signs in on the same tablet; B's database has the report as the server had it.
    await signedInOn(outbox, medicB);
    const b1 = epcr({ narrative: { text: 'Handed over at the ED, stable.' } }, report);
    await enqueueAs(outbox, medicB, [{ assumedMasterState: report, newDocumentState: b1 }]);

    expect((await summarizeQueue(outbox)).total, 'a row per writer').toBe(2);
    const rows = (await queuedRows(outbox, 'epcrs', [report.id])).get(report.id) ?? [];
    expect(rows.map((r) => [r.writer?.userId, r.rev, r.version]), 'A\'s row untouched by B\'s change').toEqual([
      [medicA.userId, a2.rev, 2],
      [medicB.userId, b1.rev, 1],
    ]);
    expect(rows[0]!.state).toMatchObject({ $enc: { kid: medicA.transportKey.kid } });
    expect(rows[1]!.state).toMatchObject({ $enc: { kid: medicB.transportKey.kid } });
    const keyA = await QueueKey.import(medicA.transportKey);
    expect((await keyA.open('epcrs', rows[0]!.base!))?.rev, 'A\'s oldest base kept').toBe(report.rev);

    // A signs in again; the service worker's wake-up ends after one request (its request limit).
    await signedInOn(outbox, medicA);
    const requests: { status: number; ids: string[] }[] = [];
    const first = await deliverOutbox({ db: outbox, fetch: recordingFetch(requests), maxRequests: 1 });
    expect(first).toMatchObject({ delivered: 1, rejected: 0, stoppedBy: 'limit' });
    expect(requests, 'A\'s row first (queued first), alone').toEqual([{ status: 200, ids: [report.id] }]);
    expect((await serverEpcr(report.id))?.patient).toEqual({ lastName: 'Okafor', firstName: 'Chidi' });

    // B signs in again; B's row conflicts with A's on the server and is merged there.
    await signedInOn(outbox, medicB);
    const second = await deliverOutbox({ db: outbox, fetch: recordingFetch(requests) });
    expect(second).toMatchObject({ delivered: 1, rejected: 0 });
    expect(requests.slice(1)).toEqual([{ status: 200, ids: [report.id] }]);
    const final = await serverEpcr(report.id);
    expect([final?.patient, final?.narrative?.text]).toEqual([{ lastName: 'Okafor', firstName: 'Chidi' }, 'Handed over at the ED, stable.']);
    expect(final?.conflicts ?? [], 'different fields: nothing lost, nothing in conflict').toEqual([]);
    expect((await summarizeQueue(outbox)).total).toBe(0);
    outbox.close();
  });

  it('in one delivery, the two rows of one document never share a request; the same field edited by both keeps the loser in the conflict history', async () => {
    const medicA = await signInAs('medic-a', 'tab-shared-2');
    const medicB = await signInAs('medic-b', 'tab-shared-2');
    const outbox = await openOutboxDb(`shared-device-${++dbCount}`);
    const report = epcr();
    const other = epcr();
    await reportOnServer(medicA, report);
    // Written without sealing (a developer session keeps rows in clear), so one session can deliver both writers' rows.
    const writerA: QueueWriter = { userId: medicA.userId };
    const writerB: QueueWriter = { userId: medicB.userId };
    const a1 = epcr({ narrative: { text: 'A: patient refused transport.' } }, report);
    await enqueueRows(outbox, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: report, newDocumentState: a1 }], Date.now(), writerA);
    const b1 = epcr({ narrative: { text: 'B: transported to St. Luke\'s.' } }, report);
    await enqueueRows(outbox, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: report, newDocumentState: b1 }, { newDocumentState: other }], Date.now(), writerB);
    await setSession(outbox, { serverUrl: server.url, token: devToken({ tenantId: A, role: 'crew', deviceId: 'tab-shared-2', subject: 'M1' }) });

    const requests: { status: number; ids: string[] }[] = [];
    const result = await deliverOutbox({ db: outbox, fetch: recordingFetch(requests) });
    expect(result).toMatchObject({ delivered: 3, rejected: 0 });
    // B's row of the report waits for the next request; B's other document does not.
    expect(requests).toEqual([{ status: 200, ids: [report.id, other.id] }, { status: 200, ids: [report.id] }]);
    const final = await serverEpcr(report.id);
    // Free text loses neither side (issue 14): the narrative holds both, marked, A's first (it
    // reached the server first), and an open conflict asks the crew to choose or combine.
    const text = final?.narrative?.text ?? '';
    expect(text.indexOf('A: patient refused transport.')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('B: transported to St. Luke\'s.')).toBeGreaterThan(text.indexOf('A: patient refused transport.'));
    expect(final?.conflicts?.find((c) => c.path === 'narrative.text')).toMatchObject({ bothKept: true });
    expect(JSON.stringify(final?.conflicts)).toContain('B: transported to St. Luke');
    expect(await serverEpcr(other.id)).toBeDefined();
    outbox.close();
  });

  it('A\'s change sent while only B is signed in is refused (WRITER_MISMATCH), kept in the queue\'s refused list and shown, never overwritten; B\'s change goes through', async () => {
    const medicA = await signInAs('medic-a', 'tab-shared-3');
    const medicB = await signInAs('medic-b', 'tab-shared-3');
    const outbox = await openOutboxDb(`shared-device-${++dbCount}`);
    const report = epcr();
    await reportOnServer(medicA, report);
    const a1 = epcr({ patient: { lastName: 'Lindqvist' } }, report);
    await enqueueAs(outbox, medicA, [{ assumedMasterState: report, newDocumentState: a1 }]);
    await signedInOn(outbox, medicB);
    const b1 = epcr({ narrative: { text: 'B took over the report.' } }, report);
    await enqueueAs(outbox, medicB, [{ assumedMasterState: report, newDocumentState: b1 }]);

    // What B's apps show before delivery: two changes wait on the device; B's own document is pending.
    const before = await readOutbox(outbox, medicB.userId);
    expect(before.view.total).toBe(2);
    expect([...before.ids.get('epcrs') ?? []]).toEqual([report.id]);

    const requests: { status: number; ids: string[] }[] = [];
    const result = await deliverOutbox({ db: outbox, fetch: recordingFetch(requests) });
    expect(requests).toEqual([{ status: 403, ids: [report.id] }, { status: 200, ids: [report.id] }]);
    expect(result).toMatchObject({ rejected: 1, delivered: 1 });
    const final = await serverEpcr(report.id);
    expect([final?.narrative?.text, final?.patient?.lastName]).toEqual(['B took over the report.', undefined]);

    // A's change is kept on the device as it was queued: A's revision, sealed with A's key.
    const summary = await summarizeQueue(outbox);
    expect(summary.total).toBe(0);
    expect(summary.rejected).toHaveLength(1);
    expect(summary.rejected[0]).toMatchObject({
      id: report.id, code: 'WRITER_MISMATCH', rev: a1.rev, writer: { userId: medicA.userId, kid: medicA.transportKey.kid },
      state: { $enc: { kid: medicA.transportKey.kid } },
    });
    expect(summary.rejected[0]!.reason).toContain('medic-a');
    // Shown to B in the outbox's refused list, naming its writer; not B's badge (it is not B's change).
    const after = await readOutbox(outbox, medicB.userId);
    expect(after.view.rejected).toEqual([expect.objectContaining({ id: report.id, code: 'WRITER_MISMATCH', rev: a1.rev, writerUserId: medicA.userId })]);
    expect(after.view.rejectedTotal).toBe(1);
    expect(after.rejectedByDoc.size).toBe(0);
    expect((await readOutbox(outbox, medicA.userId)).rejectedByDoc.get(`epcrs|${report.id}`)).toMatchObject({ rev: a1.rev });
    // And on the server, in quarantine with A's content, for the administrator.
    const kept = await server.app.store.findQuarantine({ tenantId: A, documentIds: [report.id], limit: 5 });
    expect(kept).toHaveLength(1);
    expect(rejectionText(readRejection(kept[0]!.reason))).toMatch(/^WRITER_MISMATCH: /);
    expect(kept[0]!.json).toContain('Lindqvist');
    outbox.close();
  });

  it('a pulled server state is replayed with the signed-in user\'s own waiting change only, never another user\'s', async () => {
    const outbox = await openOutboxDb(`shared-device-${++dbCount}`);
    const report = epcr();
    const writerA: QueueWriter = { userId: 'crew@tab-a' };
    const writerB: QueueWriter = { userId: 'crew@tab-b' };
    const a1 = epcr({ patient: { lastName: 'Brennan' } }, report);
    await enqueueRows(outbox, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: report, newDocumentState: a1 }], Date.now(), writerA);
    const b1 = epcr({ narrative: { text: 'B was here.' } }, report);
    await enqueueRows(outbox, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: report, newDocumentState: b1 }], Date.now(), writerB);
    // Someone else fills in the times on the server; the state reaches each user's database.
    const pulled = epcr({ times: { unitEnRoute: '2026-11-22T10:01:00-05:00' } }, report);

    const [forA] = await rebaseOnQueue(outbox, 'epcrs', [pulled], { kind: 'clear' }, writerA.userId);
    const [forB] = await rebaseOnQueue(outbox, 'epcrs', [pulled], { kind: 'clear' }, writerB.userId);
    expect([forA?.patient?.lastName, forA?.narrative, forA?.times?.unitEnRoute]).toEqual(['Brennan', undefined, '2026-11-22T10:01:00-05:00']);
    expect([forB?.patient, forB?.narrative?.text, forB?.times?.unitEnRoute]).toEqual([undefined, 'B was here.', '2026-11-22T10:01:00-05:00']);
    const [forC] = await rebaseOnQueue(outbox, 'epcrs', [pulled], { kind: 'clear' }, 'crew@tab-c');
    expect(forC).toEqual(pulled);
    outbox.close();
  });
});
