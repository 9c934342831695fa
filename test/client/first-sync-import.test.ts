/**
 * A new device's first sync imports its slice in large batches before RxDB's replication starts
 * (client/sync/first-sync-import.ts). What the crew writes before and during the import still
 * goes out, edits of imported reports reach the server as plain writes (no conflict recorded),
 * server changes of imported documents reach the device, a cut import goes on from its last page,
 * and patient data is never stored in clear. Real server, real RxDB clients (Dexie over
 * fake-indexeddb), small import pages so a slice of a few dozen documents takes several.
 */
import { randomUUID } from 'node:crypto';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { createRevision, now, type RxStorage } from 'rxdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import type { WireDocument } from '../../server/store/types.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { CollectionName, Epcr } from '../../shared/schemas/index.ts';
import { heldFromServer, IMPORT_WRITE_CONTEXT } from '../../client/sync/first-sync-import.ts';
import { createDevice, eventually, type TestDevice } from '../helpers/device.ts';
import { newEpcr, newGpsPoint, offsetTime } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-import';
const PAGE = 10;
let server: TestServer;
const devices: TestDevice[] = [];

const crewToken = (unit: string, device = `tablet-${unit}`) => devToken({ tenantId: TENANT, role: 'crew', deviceId: device, subject: unit });

/** Stores documents on the server as another writer (an integration) would, in one batch. */
async function seed(collection: CollectionName, docs: Record<string, unknown>[]): Promise<void> {
  await server.app.store.writeBatch({
    collection, tenantId: TENANT, actor: { kind: 'system', tenantId: TENANT, userId: 'seed' },
    requests: docs.map((doc) => ({
      id: String(doc['id']), incoming: { ...doc, _deleted: false } as WireDocument,
      decide: (master: { json: string } | undefined) => {
        const current = master ? (JSON.parse(master.json) as Record<string, unknown>) : undefined;
        return { action: 'write' as const, doc: { ...doc, _deleted: false, rev: nextRevision(current?.['rev'] as string | undefined, `seed.${Math.random().toString(36).slice(2, 8)}`) } as WireDocument };
      },
    })),
  } as never);
}

async function onServer<T>(collection: CollectionName, id: string): Promise<T | undefined> {
  const [row] = await server.app.store.getDocuments(collection, TENANT, [id]);
  return row ? JSON.parse(row.json) as T : undefined;
}

async function local<T>(device: TestDevice, collection: CollectionName, id: string): Promise<T | undefined> {
  return (await device.db.collections[collection]!.findOne(id).exec())?.toJSON() as T | undefined;
}

const count = (device: TestDevice, collection: CollectionName) => device.db.collections[collection]!.count().exec();

/** A gate on the pull requests of one collection: the nth (0-based) waits until opened. */
function pullGate(collection: string) {
  const waiting = new Map<number, () => void>();
  const opened = new Set<number>();
  const urls: string[] = [];
  const fetchThrough: typeof fetch = async (input, init) => {
    const url = String(input);
    if (url.includes(`/${collection}/pull`)) {
      const n = urls.push(url) - 1;
      if (!opened.has(n) && held.has(n)) await new Promise<void>((resolve) => waiting.set(n, resolve));
    }
    return fetch(input, init);
  };
  const held = new Set<number>();
  return {
    fetch: fetchThrough,
    urls,
    hold: (n: number) => held.add(n),
    open(n: number) {
      opened.add(n);
      waiting.get(n)?.();
    },
    isWaiting: (n: number) => waiting.has(n),
  };
}

/**
 * The storage over fake IndexedDB with the import's page writes into one collection passed
 * through `before` first (told the write's number, from 1): a page held, or failed, on purpose.
 */
function importWritesOf(collection: string, before: (n: number) => Promise<void> | void) {
  let writes = 0;
  const wrap = (storage: RxStorage<any, any>): RxStorage<any, any> => ({
    ...storage,
    async createStorageInstance(params) {
      const instance = await storage.createStorageInstance(params);
      if (params.collectionName !== collection) return instance;
      const bulkWrite = instance.bulkWrite.bind(instance);
      instance.bulkWrite = async (rows, context) => {
        if (context === IMPORT_WRITE_CONTEXT) await before(++writes);
        return bulkWrite(rows, context);
      };
      return instance;
    },
  });
  return { wrap, writes: () => writes };
}

async function initialDone(device: TestDevice): Promise<void> {
  for (const replication of device.sync.replications.values()) await replication.awaitInitialReplication();
  await device.sync.awaitInSync();
}

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await Promise.all(devices.map((d) => d.close().catch(() => {})));
  await server?.close();
});

describe('a new device\'s first-sync import', () => {
  it('pushes what the crew wrote before and during the import, edits of imported reports included, with no conflict recorded', async () => {
    const unit = 'I1';
    const reports = Array.from({ length: 25 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `seeded report ${i}` } }));
    await seed('epcrs', reports);
    const gate = pullGate('epcrs');
    gate.hold(0);
    gate.hold(1);
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: gate.fetch });
    devices.push(device);

    // Before the first page arrives: a report written on the new tablet (offline, say).
    await eventually('the first import pull sent', () => gate.isWaiting(0));
    const before = await device.writer.insert('epcrs', newEpcr(TENANT, unit, { narrative: { text: 'typed before the first sync' } }) as never);
    gate.open(0);

    // The first page stored, the second held: the crew writes a new report and edits an imported one.
    await eventually('the first page imported', async () => (await count(device, 'epcrs')) >= PAGE + 1 && gate.isWaiting(1));
    const imported = (await device.db.collections['epcrs']!.find().exec()).map((d) => d.primary as string).find((id) => id !== before.id)!;
    const during = await device.writer.insert('epcrs', newEpcr(TENANT, unit, { narrative: { text: 'typed during the first sync' } }) as never);
    await device.writer.update('epcrs', imported, (doc) => ({ ...doc, narrative: { text: 'edited during the first sync' } }));
    gate.open(1);

    await eventually('every report on the device', async () => (await count(device, 'epcrs')) === reports.length + 2);
    await initialDone(device);
    await eventually('both new reports on the server', async () => !!(await onServer('epcrs', before.id)) && !!(await onServer('epcrs', during.id)));
    expect((await onServer<Epcr>('epcrs', before.id))?.narrative?.text).toBe('typed before the first sync');
    expect((await onServer<Epcr>('epcrs', during.id))?.narrative?.text).toBe('typed during the first sync');
    const edited = await eventually('the edit on the server', async () => {
      const doc = await onServer<Epcr>('epcrs', imported);
      return doc?.narrative?.text === 'edited during the first sync' ? doc : undefined;
    });
    // Pushed built on the server state the import kept: a plain write, not a conflict merged without its base.
    expect(edited.conflicts ?? []).toEqual([]);
    expect((await local<Epcr>(device, 'epcrs', imported))?.narrative?.text).toBe('edited during the first sync');
    expect((await device.sync.pending())['epcrs']).toBe(0);
    // Imported in pages of PAGE: the replication began where the import stopped.
    expect(gate.urls.filter((u) => u.includes(`limit=${PAGE}&`)).length).toBe(Math.ceil(reports.length / PAGE) + (reports.length % PAGE === 0 ? 1 : 0));
  });

  it('pushes a report the collection stamped before the import began and stored after the import chose its write time', async () => {
    const unit = 'I8';
    await seed('epcrs', Array.from({ length: 12 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `seeded ${i}` } })));
    const gate = pullGate('epcrs');
    gate.hold(0);
    // RxDB's collection stamps a write's time (now()) before it validates, seals and stores it: a
    // report saved as the app opens is stamped here and may be stored only after the import read
    // the write times the collection holds (a slow tablet, a busy database worker).
    const stampedAt = now();
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: gate.fetch });
    devices.push(device);
    await eventually('the first import pull sent', () => gate.isWaiting(0));
    // The report stored now with the time it was stamped with, as RxDB's collection stores it.
    const report = { ...newEpcr(TENANT, unit, { narrative: { text: 'stamped before the import, stored after' } }), rev: nextRevision(undefined, 'inflight.a1b2c3') };
    const stored = await device.db.collections['epcrs']!.internalStorageInstance.bulkWrite([{
      document: { ...report, _deleted: false, _attachments: {}, _rev: createRevision(device.db.token), _meta: { lwt: stampedAt } } as never,
    }], 'test');
    expect(stored.error).toEqual([]);
    gate.open(0);
    await initialDone(device);
    const pushed = await eventually('the report on the server', async () => onServer<Epcr>('epcrs', report.id));
    expect(pushed.narrative?.text).toBe('stamped before the import, stored after');
    expect((await device.sync.pending())['epcrs']).toBe(0);
  });

  it('a report changed on the server between two pages ends in its newer state, however the two pages\' writes overlap', async () => {
    const unit = 'I11';
    // 19: the second page (the nine left and the changed one) is full, so the import asks for a
    // third as soon as it has the second in hand: the signal that it has it.
    const reports = Array.from({ length: 19 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `overlap ${i}` } }));
    await seed('epcrs', reports);
    const gate = pullGate('epcrs');
    gate.hold(1);
    gate.hold(2);
    // The first page's write is held until the second page is in hand: the import hands a page
    // to storage while the one before commits, and the second page must not be stored first
    // when both carry the same report.
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => { releaseFirst = resolve; });
    let secondWriteCalled = false;
    const pages = importWritesOf('epcrs', async (n) => {
      if (n === 1) await firstHeld;
      if (n === 2) secondWriteCalled = true;
    });
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: gate.fetch, wrapStorage: pages.wrap });
    devices.push(device);
    await eventually('the first page in storage\'s hands and the second asked for', () => pages.writes() >= 1 && gate.isWaiting(1));
    // The server changes a report of the first page: the second page (the nine left and this one) carries it again.
    const changed = reports[0]!;
    await seed('epcrs', [{ ...changed, narrative: { text: 'changed on the server during the import' } }]);
    gate.open(1);
    // The second page arrives; its write is either called (then the first page must not be stored
    // over it) or waits for the first. The clock only bounds how long a waiting write is given to
    // show itself: it cannot make a correct import fail.
    await eventually('the second page in hand', () => gate.isWaiting(2));
    const inHand = Date.now();
    await eventually('the second page\'s write called, or held back', () => secondWriteCalled || Date.now() - inHand > 2000);
    releaseFirst();
    gate.open(2);
    await initialDone(device);
    expect(await count(device, 'epcrs')).toBe(reports.length);
    expect((await local<Epcr>(device, 'epcrs', changed.id))?.narrative?.text).toBe('changed on the server during the import');
    expect((await device.sync.pending())['epcrs']).toBe(0);
  });

  it('a page that cannot be stored ends the import only once the page after it is written: nothing imported is pushed back, every report counted', async () => {
    const unit = 'I12';
    const reports = Array.from({ length: 30 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `failing page ${i}` } }));
    await seed('epcrs', reports);
    // The first page's write fails (a full disk, say) while the second page's write is under way.
    let secondStarted!: () => void;
    const second = new Promise<void>((resolve) => { secondStarted = resolve; });
    let firstFailed!: () => void;
    const failed = new Promise<void>((resolve) => { firstFailed = resolve; });
    const pages = importWritesOf('epcrs', async (n) => {
      if (n === 1) {
        await second;
        firstFailed();
        throw new Error('QuotaExceededError: the disk is full');
      }
      if (n === 2) {
        secondStarted();
        await failed;
        // A broken import ends now and RxDB's replication starts and asks for its first page:
        // this write then lands under a running replication. A correct one waits for this
        // write (the clock only bounds how long it is given to show it does not).
        const since = Date.now();
        while (!gate.isWaiting(3) && Date.now() - since < 2000) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    // Pulls 0-2 are the import's (the third asked for when the second page arrived); 3 is RxDB's first.
    const gate = pullGate('epcrs');
    gate.hold(3);
    const pushed: string[] = [];
    const countingPushes: typeof fetch = async (input, init) => {
      if (String(input).includes('/epcrs/push') && typeof init?.body === 'string') {
        const body = JSON.parse(init.body) as { changes?: { newDocumentState?: { id?: string } }[] } | { newDocumentState?: { id?: string } }[];
        const rows = Array.isArray(body) ? body : body.changes ?? [];
        for (const row of rows) if (row.newDocumentState?.id) pushed.push(row.newDocumentState.id);
      }
      return gate.fetch(input, init);
    };
    let received = 0;
    const device = await createDevice({
      serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: countingPushes, wrapStorage: pages.wrap,
      onReceived: (_c, n) => { received += n; },
    });
    devices.push(device);
    await second;
    await failed;
    await eventually('the first pull after the import asked for, or the import still waiting', () => gate.isWaiting(3) || pages.writes() >= 2);
    // Let the second page's write finish, then RxDB's pull go on.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    gate.open(3);
    await eventually('every report on the device', async () => (await count(device, 'epcrs')) === reports.length);
    await initialDone(device);
    await device.sync.awaitInSync();
    expect(pushed, 'imported reports pushed back to the server').toEqual([]);
    // The second page was stored and not noted: RxDB's pull brings it again and counts it again.
    expect(received).toBeGreaterThanOrEqual(reports.length);
    for (const report of reports) expect((await onServer<Epcr>('epcrs', report.id))?.conflicts ?? []).toEqual([]);
    expect((await device.sync.pending())['epcrs']).toBe(0);
  });

  it('after the import, server changes of imported documents reach the device and crew edits reach the server as plain writes', async () => {
    const unit = 'I2';
    const reports = Array.from({ length: 15 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `report ${i}` } }));
    const points = Array.from({ length: 23 }, (_, i) => newGpsPoint(TENANT, unit, i));
    await seed('epcrs', reports);
    await seed('gps_points', points);
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs', 'gps_points'], importPageSize: PAGE });
    devices.push(device);
    await initialDone(device);
    expect(await count(device, 'epcrs')).toBe(reports.length);
    expect(await count(device, 'gps_points')).toBe(points.length);
    // Nothing imported counts as waiting to be sent.
    expect(await device.sync.pending()).toEqual({ epcrs: 0, gps_points: 0 });

    // The server changes an imported report: the device shows it.
    const [first, second] = [reports[0]!, reports[1]!];
    await seed('epcrs', [{ ...first, narrative: { text: 'changed on the server' } }]);
    await eventually('the server change on the device', async () => (await local<Epcr>(device, 'epcrs', first.id))?.narrative?.text === 'changed on the server');

    // The crew edits an imported report, and the one the server changed.
    await device.writer.update('epcrs', second.id, (doc) => ({ ...doc, narrative: { text: 'crew edit' } }));
    await device.writer.update('epcrs', first.id, (doc) => ({ ...doc, disposition: { ...(doc as Epcr).disposition } as never, narrative: { text: 'crew edit after the server change' } }));
    for (const [id, text] of [[second.id, 'crew edit'], [first.id, 'crew edit after the server change']] as const) {
      const doc = await eventually(`the edit of ${id} on the server`, async () => {
        const d = await onServer<Epcr>('epcrs', id);
        return d?.narrative?.text === text ? d : undefined;
      });
      expect(doc.conflicts ?? []).toEqual([]);
    }
    await device.sync.awaitInSync();
    expect((await device.sync.pending())['epcrs']).toBe(0);
  });

  it('without the import (firstSyncImport: false), RxDB\'s own pull brings the whole slice in pages and pushes none of it back', async () => {
    const unit = 'I9';
    const reports = Array.from({ length: 25 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `rx pull ${i}` } }));
    const points = Array.from({ length: 33 }, (_, i) => newGpsPoint(TENANT, unit, i));
    await seed('epcrs', reports);
    await seed('gps_points', points);
    const pulls: string[] = [];
    const pushes: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.includes('/pull')) pulls.push(url);
      if (url.includes('/push')) pushes.push(url);
      return fetch(input, init);
    };
    const received: Record<string, number> = {};
    const device = await createDevice({
      serverUrl: server.url, token: crewToken(unit), collections: ['epcrs', 'gps_points'], firstSyncImport: false, pullBatchSize: PAGE, fetch: counting,
      onReceived: (collection, n) => { received[collection] = (received[collection] ?? 0) + n; },
    });
    devices.push(device);
    await initialDone(device);
    const held = async (collection: CollectionName) => (await device.db.collections[collection]!.find().exec()).map((d) => d.primary as string).sort();
    expect(await held('epcrs')).toEqual(reports.map((r) => r.id).sort());
    expect(await held('gps_points')).toEqual(points.map((p) => p.id).sort());
    // RxDB's pull, in pages of PAGE (the import asks for pages of its own size, default the server's largest).
    expect(pulls.filter((u) => u.includes('/gps_points/pull')).length).toBeGreaterThanOrEqual(Math.ceil(points.length / PAGE));
    expect(pulls.every((u) => !/[?&]limit=/.test(u) || u.includes(`limit=${PAGE}`))).toBe(true);
    expect(received).toEqual({ epcrs: reports.length, gps_points: points.length });
    expect(pushes).toEqual([]);
    expect(await device.sync.pending()).toEqual({ epcrs: 0, gps_points: 0 });
  });

  it('a cut import goes on from its last page: nothing lost, nothing pulled from the start again', async () => {
    const unit = 'I3';
    const reports = Array.from({ length: 35 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `cut ${i}` } }));
    await seed('epcrs', reports);
    const dbName = `fs-cut-${Date.now()}`;
    const gate = pullGate('epcrs');
    gate.hold(2);
    const first = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: gate.fetch, dbName, deviceId: 'cut-tablet' });
    await eventually('two pages imported, the third held', async () => gate.isWaiting(2) && (await count(first, 'epcrs')) === 2 * PAGE);
    // The app is closed in the middle of its first sync.
    await first.close();
    gate.open(2);

    const again = pullGate('epcrs');
    const second = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: again.fetch, dbName, deviceId: 'cut-tablet' });
    devices.push(second);
    await initialDone(second);
    const ids = (await second.db.collections['epcrs']!.find().exec()).map((d) => d.primary as string);
    expect(ids.sort()).toEqual(reports.map((r) => r.id).sort());
    expect(again.urls[0], 'the reopened device starts from the checkpoint of its last stored page').toContain('checkpoint=');
    expect((await second.sync.pending())['epcrs']).toBe(0);
  });

  it('a reload between a page\'s write and its progress note pulls that page again and does not count it again', async () => {
    const unit = 'I10';
    const reports = Array.from({ length: 35 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `recount ${i}` } }));
    await seed('epcrs', reports);
    const dbName = `fs-recount-${Date.now()}`;
    let received = 0;
    const onReceived = (_collection: string, n: number) => { received += n; };
    // The app dies right after the second page is stored, before its progress note is written:
    // that note's write never returns (the pages after it may be stored meanwhile, unnoted).
    let notes = 0;
    let died!: () => void;
    const dead = new Promise<void>((resolve) => { died = resolve; });
    const dyingAtSecondNote = (storage: RxStorage<any, any>): RxStorage<any, any> => ({
      ...storage,
      async createStorageInstance(params) {
        const instance = await storage.createStorageInstance(params);
        if (!params.collectionName.startsWith('rx-replication-meta-')) return instance;
        const bulkWrite = instance.bulkWrite.bind(instance);
        instance.bulkWrite = (rows, context) => {
          // Notes: the first (before any page), then one after each page.
          if (context === IMPORT_WRITE_CONTEXT && rows.some((r) => (r.document as { itemId?: string }).itemId === 'first-sync-import') && notes++ === 2) {
            died();
            return new Promise(() => {});
          }
          return bulkWrite(rows, context);
        };
        return instance;
      },
    });
    const first = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, dbName, deviceId: 'recount-tablet', onReceived, wrapStorage: dyingAtSecondNote });
    await dead;
    await first.close();

    let pulledAgain = 0;
    const countingPulls: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).includes('/epcrs/pull')) pulledAgain += ((await response.clone().json()) as { documents: unknown[] }).documents.length;
      return response;
    };
    const second = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, fetch: countingPulls, dbName, deviceId: 'recount-tablet', onReceived });
    devices.push(second);
    await initialDone(second);
    expect(await count(second, 'epcrs')).toBe(reports.length);
    // Pages two to four: the second page was stored, its note was not.
    expect(pulledAgain, 'the reopened device pulls the page whose note was not saved again').toBe(reports.length - PAGE);
    expect(received, 'documents counted as received, over both runs').toBe(reports.length);
    // What a reloaded app counts as received (client/worker/engine.ts): from the server only, not the crew's own reports.
    await second.writer.insert('epcrs', newEpcr(TENANT, unit, { narrative: { text: 'written on the tablet' } }));
    expect(await count(second, 'epcrs')).toBe(reports.length + 1);
    expect(await heldFromServer(second.db.collections['epcrs']!)).toBe(reports.length);
  });

  it('a reload between RxDB\'s two checkpoint writes after an import pushes none of the imported documents', async () => {
    const unit = 'I5';
    const points = Array.from({ length: 24 }, (_, i) => newGpsPoint(TENANT, unit, i));
    await seed('gps_points', points);
    const dbName = `fs-checkpoints-${Date.now()}`;
    const first = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['gps_points'], importPageSize: PAGE, dbName, deviceId: 'cp-tablet' });
    await initialDone(first);
    // As if the app closed after RxDB stored its pull checkpoint and before its push checkpoint.
    const meta = first.sync.replications.get('gps_points')!.metaInstance!;
    const [up] = await meta.findDocumentsById(['up|1'], false);
    expect(up).toBeDefined();
    const removed = await meta.bulkWrite([{ previous: up!, document: { ...up!, _deleted: true, _rev: `${Number(up!._rev.split('-')[0]) + 1}-x`, _meta: { lwt: Date.now() } } }], 'test');
    expect(removed.error).toEqual([]);
    await first.close();

    const pushes: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      if (String(input).includes('/push')) pushes.push(String(input));
      return fetch(input, init);
    };
    const second = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['gps_points'], importPageSize: PAGE, dbName, deviceId: 'cp-tablet', fetch: counting });
    devices.push(second);
    await initialDone(second);
    expect(await count(second, 'gps_points')).toBe(points.length);
    expect(pushes, 'imported GPS points pushed back to the server').toEqual([]);
    // Still pushes what is new.
    await second.writer.insert('gps_points', newGpsPoint(TENANT, unit, 99) as never);
    await eventually('the new point pushed', () => pushes.length > 0);
  });

  it('a document imported by the first sync that leaves the device\'s slice is removed by the scope check', async () => {
    const unit = 'I6';
    const incident = { id: randomUUID(), tenantId: TENANT, incidentNumber: '2026-00611', status: 'dispatched', complaint: 'fall', assignedUnitId: unit, address: { street: '1 Main St', city: 'Danbury', zip: '06810' } };
    await seed('incidents', [incident]);
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['incidents'], importPageSize: PAGE, scopeCheckIntervalMs: 0 });
    devices.push(device);
    await initialDone(device);
    expect(await local(device, 'incidents', incident.id)).toBeDefined();
    await seed('incidents', [{ ...incident, assignedUnitId: 'I7' }]);
    // The reassignment itself is not pulled (no longer the crew's to read): the scope check asks.
    expect(await device.sync.checkScope()).toBe(1);
    await eventually('the incident gone from the device', async () => (await local(device, 'incidents', incident.id)) === undefined);
  });

  it('an imported unit status event (no one may change it) that leaves the device\'s slice is removed by the scope check', async () => {
    const unit = 'I9';
    const event = { id: randomUUID(), tenantId: TENANT, unitId: unit, status: 'en_route', recordedAt: offsetTime() };
    await seed('unit_status_events', [event]);
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['unit_status_events'], importPageSize: PAGE, scopeCheckIntervalMs: 0 });
    devices.push(device);
    await initialDone(device);
    expect(await local(device, 'unit_status_events', event.id)).toBeDefined();
    // Corrected on the server to another unit (an integration's fix): no longer this crew's to read.
    await seed('unit_status_events', [{ ...event, unitId: 'I10' }]);
    expect(await device.sync.checkScope()).toBe(1);
    await eventually('the event gone from the device', async () => (await local(device, 'unit_status_events', event.id)) === undefined);
  });

  it('stores the imported reports\' patient data sealed, in the documents and in the server states kept beside them', async () => {
    const unit = 'I4';
    const marker = `Marker${randomUUID().slice(0, 8)}`;
    const reports = Array.from({ length: 12 }, (_, i) => newEpcr(TENANT, unit, { narrative: { text: `${marker} patient said ${i}` } }));
    await seed('epcrs', reports);
    const dbName = `fs-sealed-${Date.now()}`;
    const device = await createDevice({ serverUrl: server.url, token: crewToken(unit), collections: ['epcrs'], importPageSize: PAGE, dbName, password: 'a-device-key-of-32-characters-xx' });
    devices.push(device);
    await initialDone(device);
    expect((await local<Epcr>(device, 'epcrs', reports[3]!.id))?.narrative?.text).toBe(`${marker} patient said 3`);

    // Every record of every IndexedDB database of this device, as stored.
    let records = 0;
    let sealed = 0;
    for (const info of await indexedDB.databases()) {
      if (!info.name?.includes(dbName)) continue;
      const handle = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(info.name!);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of [...handle.objectStoreNames]) {
        const all = await new Promise<unknown[]>((resolve, reject) => {
          const request = handle.transaction(store, 'readonly').objectStore(store).getAll(IDBKeyRange.lowerBound(''));
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        for (const record of all) {
          const text = JSON.stringify(record);
          records++;
          expect(text, `${info.name}/${store} holds patient data in clear`).not.toContain(marker);
          if (text.includes('fs1:')) sealed++;
        }
      }
      handle.close();
    }
    // The 12 reports and the 12 server states kept for them, all sealed.
    expect(records).toBeGreaterThan(0);
    expect(sealed).toBeGreaterThanOrEqual(2 * reports.length);
  });
});
