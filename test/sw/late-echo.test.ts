/**
 * A device typing through the service worker's queue while the server's copies of its own
 * earlier versions are still on their way back (the change stream echoes every write it commits).
 *
 * Handing a push to the queue makes RxDB treat the handed-over state as the server's. A server
 * state pulled before the person's next edit reached the queue, but stored after it did, is older
 * than what the device holds: it must not replace it (the typed value would vanish from the
 * screen), and the edit typed next must not replace the one still waiting in the queue (the value
 * would never reach the server). The ordering that the browser hits by chance while a person types
 * (the echo is read while the push is being queued) is made here on purpose: a pull held open
 * keeps RxDB's downstream busy, so the echo waits between its look at the queue and its storing.
 *
 * Real parts: the real server, a real RxDB database (Dexie on fake-indexeddb), the real replication
 * and queue code; the change stream is fed by the test with the server's own pull answers.
 */
import 'fake-indexeddb/auto';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';
import type { PullStreamItem } from '../../client/sync/change-stream.ts';
import { countPendingDocuments } from '../../client/sync/pending.ts';
import { replicateCollection } from '../../client/sync/replication.ts';
import { SyncTransport } from '../../client/sync/transport.ts';
import { DocumentWriter } from '../../client/sync/writes.ts';
import { openConflicts } from '../../shared/merge/index.ts';
import { nextRevision } from '../../shared/revision.ts';
import { schemaVersionOf, type Epcr } from '../../shared/schemas/index.ts';
import { openOutboxDb, setSession, summarizeQueue } from '../../client/queue/index.ts';
import { deliverOutbox } from '../../sw/queue/index.ts';
import { eventually } from '../helpers/device.ts';
import { PASSWORD, sealedWith, signIn } from './support.ts';
import { newEpcr } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const crewToken = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-echo', subject: 'M1' });
const otherToken = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-other', subject: 'M1' });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.app.auth.createUser(TENANT, { username: 'medic-late', password: PASSWORD, role: 'crew', unitId: 'M1' });
}, 60_000);
afterAll(async () => { await server.close(); });

async function serverEpcr(id: string): Promise<Epcr | undefined> {
  const [row] = await server.app.store.getDocuments('epcrs', TENANT, [id]);
  return row ? JSON.parse(row.json) as Epcr : undefined;
}

async function pushAsOther(assumed: Epcr | undefined, next: Epcr): Promise<void> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
    method: 'POST', headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ ...(assumed ? { assumedMasterState: { ...assumed, _deleted: false } } : {}), newDocumentState: { ...next, _deleted: false } }]),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual([]);
}

/** What the change stream would carry for this report now: the server's state and checkpoint. */
async function echoOf(id: string, token = crewToken): Promise<PullStreamItem> {
  const page = await new SyncTransport({ serverUrl: server.url, getToken: () => token }).pull<Record<string, unknown>>('epcrs', schemaVersionOf('epcrs'), undefined, 1000);
  const doc = page.documents.find((d) => d['id'] === id);
  if (!doc) throw new Error(`report ${id} is not on the server`);
  return { documents: [doc as never], checkpoint: page.checkpoint as never };
}

interface Scenario {
  /** After the last name was delivered: what the stream carries late (read before the next edit was queued). */
  lateItem: (stub: Epcr, token: string) => Promise<PullStreamItem>;
  /** Whether the late state must leave the first name on the screen (a copy of the device's own version must). */
  keepsScreen: boolean;
  /** What the server must hold at the end besides the typed patient values. */
  alsoOnServer?: (report: Epcr | undefined) => unknown;
  expectedAlso?: unknown;
  /** The first name typed again with the date of birth (the person carries on in the same field). */
  retypedFirstName?: string;
  /** A signed-in user whose queued copies are sealed (what a crew tablet does), instead of a developer session in clear. */
  sealed?: boolean;
}

async function typeThroughLateState(name: string, scenario: Scenario): Promise<void> {
    const who = scenario.sealed ? await signIn(server, TENANT, 'medic-late', `tablet-${name}`) : undefined;
    const token = who?.accessToken ?? crewToken;
    const outbox = await openOutboxDb(name);
    await setSession(outbox, { serverUrl: server.url, token });
    const stub = { ...newEpcr(TENANT, 'M1'), rev: nextRevision(undefined, 'server.stub') } as Epcr;
    await pushAsOther(undefined, stub);

    // Pulls pass until the test holds them (a slow link), then wait for release.
    let holdPulls = false;
    let heldPull: (() => void) | undefined;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const gatedFetch: typeof fetch = async (input, init) => {
      if (holdPulls && String(input).includes('/pull')) {
        heldPull?.();
        await released;
      }
      return fetch(input, init);
    };

    const db = await createFieldsyncDatabase({
      name: `fs-${name}-${Date.now()}`, collections: ['epcrs'],
      storage: getRxStorageDexie({ indexedDB, IDBKeyRange }) as never, multiInstance: false,
    });
    const stream$ = new Subject<PullStreamItem>();
    const replication = replicateCollection({
      collection: db.collections['epcrs']!, name: 'epcrs', schemaVersion: schemaVersionOf('epcrs'),
      transport: new SyncTransport({ serverUrl: server.url, getToken: () => token, fetch: gatedFetch }),
      replicationIdentifier: `${name}-${Date.now()}`, live: true, stream$,
      pushBatchSize: 100, pullBatchSize: 100, retryTimeMs: 200,
      outbox: { db: outbox, protection: who ? await sealedWith(who) : { kind: 'clear' }, ...(who ? { userId: who.userId } : {}) },
    });
    const writer = new DocumentWriter(db, 'tablet-echo');
    const local = async () => (await db.collections['epcrs']!.findOne(stub.id).exec())?.toJSON() as Epcr | undefined;
    const setPatient = (patch: Partial<NonNullable<Epcr['patient']>>) =>
      writer.update('epcrs', stub.id, (doc) => ({ ...doc, patient: { ...doc.patient, ...patch } }));
    const queuedAndSettled = async (check: (doc: Epcr) => boolean) =>
      check((await local())!) && (await summarizeQueue(outbox)).total === 1 && await countPendingDocuments(replication) === 0;
    try {
      await eventually('the stub on the device', local);

      // The crew types the last name; the service worker delivers it.
      await setPatient({ lastName: 'Quintavalle' });
      await eventually('the last name queued', () => queuedAndSettled((d) => d.patient?.lastName === 'Quintavalle'));
      await deliverOutbox({ db: outbox });
      expect((await serverEpcr(stub.id))?.patient?.lastName).toBe('Quintavalle');
      const late = await scenario.lateItem(stub, token);

      // The link slows down: a re-read is under way when the late state arrives on the stream.
      holdPulls = true;
      const pullHeld = new Promise<void>((resolve) => { heldPull = resolve; });
      stream$.next('RESYNC');
      await pullHeld;
      const tasksBefore = replication.internalReplicationState!.stats.down.addNewTask;
      stream$.next(late);
      await eventually('the late state waiting behind the re-read', () => replication.internalReplicationState!.stats.down.addNewTask > tasksBefore);

      // Meanwhile the crew types the first name; it is queued (not yet delivered).
      await setPatient({ firstName: 'Philomena' });
      await eventually('the first name queued', () => queuedAndSettled((d) => d.patient?.firstName === 'Philomena'));

      // The link recovers: the re-read and the late state are stored.
      holdPulls = false;
      release();
      await replication.awaitInSync();
      if (scenario.keepsScreen) expect.soft((await local())?.patient?.firstName, 'the first name on the screen after the late state').toBe('Philomena');

      // The crew types the date of birth, and everything is delivered.
      await setPatient({ dateOfBirth: '1951-03-09', ...(scenario.retypedFirstName ? { firstName: scenario.retypedFirstName } : {}) });
      await eventually('the date of birth on the device', async () => (await local())?.patient?.dateOfBirth === '1951-03-09'
        && await countPendingDocuments(replication) === 0);
      await eventually('the queue delivered', async () => {
        await deliverOutbox({ db: outbox });
        return (await summarizeQueue(outbox)).total === 0 && await countPendingDocuments(replication) === 0;
      });

      const firstName = scenario.retypedFirstName ?? 'Philomena';
      const report = await serverEpcr(stub.id);
      const onServer = report?.patient;
      expect([onServer?.lastName, onServer?.firstName, onServer?.dateOfBirth], 'the report on the server').toEqual(['Quintavalle', firstName, '1951-03-09']);
      // The person's own earlier keystrokes are not a conflict for the crew to settle.
      expect(openConflicts(report), 'open conflicts on the report').toEqual([]);
      if (scenario.alsoOnServer) expect(scenario.alsoOnServer(report), 'the other writer\'s change on the server').toEqual(scenario.expectedAlso);
      const mine = (await local())?.patient;
      expect([mine?.lastName, mine?.firstName, mine?.dateOfBirth], 'the report on the device').toEqual(['Quintavalle', firstName, '1951-03-09']);
    } finally {
      release();
      await replication.cancel();
      await db.close();
      outbox.close();
    }
}

describe('late server states while the crew types, with the service-worker queue', () => {
  it('a late copy of the device\'s own version neither erases the next edit on the device nor keeps it from the server', async () => {
    await typeThroughLateState('late-own-copy', { lateItem: (stub) => echoOf(stub.id), keepsScreen: true });
  });

  it('another writer\'s change stored after the next edit was queued does not keep that edit from the server', async () => {
    const enRoute = '2026-11-22T10:01:00-05:00';
    await typeThroughLateState('late-other-writer', {
      lateItem: async (stub) => {
        const current = (await serverEpcr(stub.id))!;
        await pushAsOther(current, { ...current, times: { ...current.times, unitEnRoute: enRoute }, rev: nextRevision(current.rev, 'cad.times') } as Epcr);
        return echoOf(stub.id);
      },
      // RxDB stores a state it pulled over a change already handed to the queue: the screen may
      // lack the first name until the next edit or the server's merge; the server must not.
      keepsScreen: false,
      alsoOnServer: (report) => report?.times?.unitEnRoute,
      expectedAlso: enRoute,
    });
  });

  it('the person\'s later typing in the same field wins over their own queued value, with no conflict to settle', async () => {
    await typeThroughLateState('late-same-field', {
      lateItem: async (stub) => {
        const current = (await serverEpcr(stub.id))!;
        await pushAsOther(current, { ...current, times: { ...current.times, unitEnRoute: '2026-11-22T10:02:00-05:00' }, rev: nextRevision(current.rev, 'cad.times') } as Epcr);
        return echoOf(stub.id);
      },
      keepsScreen: false,
      retypedFirstName: 'Philomena Rose',
    });
  });

  it('with the queue sealed (a signed-in crew tablet), another writer\'s late change does not keep the queued edit from the server', async () => {
    await typeThroughLateState('late-sealed', {
      lateItem: async (stub, token) => {
        const current = (await serverEpcr(stub.id))!;
        await pushAsOther(current, { ...current, times: { ...current.times, unitEnRoute: '2026-11-22T10:03:00-05:00' }, rev: nextRevision(current.rev, 'cad.times') } as Epcr);
        return echoOf(stub.id, token);
      },
      keepsScreen: false,
      sealed: true,
      alsoOnServer: (report) => report?.times?.unitEnRoute,
      expectedAlso: '2026-11-22T10:03:00-05:00',
    });
  });
});
