/**
 * An app update must not strand what a device recorded. A tablet's database written by the
 * previous build (commit 6fec2ed, whose schemas test/fixtures/schemas-6fec2ed.json holds, made by
 * scripts/old-schemas.ts) opens with this build: RxDB migrates every collection whose schema
 * changed (shared/schemas/migrations.ts), the ePCR's PHI stays encrypted and readable with the
 * same key, changes the old build had not pushed yet are pushed, and a change the old build had
 * already handed to the service worker's queue (at schema version 0) reaches the server too.
 *
 * Before the version bumps, the reopen failed with RxDB's DB6 (same version, other schema), and
 * the queued row was refused with 426 forever.
 */
import 'fake-indexeddb/auto';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { createRxDatabase, type RxCollectionCreator, type RxDatabase, type RxStorage } from 'rxdb';
import { fieldsyncDexieStorage } from '../../client/sync/dexie-storage.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { createFieldsyncDatabase, fieldsyncStorage } from '../../client/sync/database.ts';
import { startSync, type SyncEngine } from '../../client/sync/sync-engine.ts';
import { conflictHandlerFor } from '../../shared/merge/index.ts';
import { collectionSchemas, type CollectionName, type Epcr } from '../../shared/schemas/index.ts';
import { protectRows, writerOf } from '../../client/sync/queue-seal.ts';
import { enqueueRows, getStatus, openOutboxDb, setSession } from '../../client/queue/index.ts';
import { deliverOutbox } from '../../sw/queue/index.ts';
import { eventually } from '../helpers/device.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { PASSWORD, sealedWith, signIn } from '../sw/support.ts';

const OLD = JSON.parse(readFileSync(new URL('../fixtures/schemas-6fec2ed.json', import.meta.url), 'utf8')) as {
  collections: Record<string, RxCollectionCreator['schema']>;
};
const TENANT = 'agency-upgrade';
const UNIT = 'MEDIC7';
const KEY = '7e'.repeat(32);
const COLLECTIONS: CollectionName[] = ['epcrs', 'gps_points'];
const NARRATIVE = 'Pt found seated, diaphoretic, c/o crushing chest pain radiating to L arm';
const LATER = `${NARRATIVE}. 324 mg aspirin chewed, 12-lead sent to St. Agnes.`;

const storage = () => fieldsyncDexieStorage({ indexedDB, IDBKeyRange });
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-upgrade', subject: UNIT });
const rev = (n: number) => `${n}-tablet.${randomUUID().slice(0, 8)}`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** The database as the previous build created it: same storage stack and key, its own (version 0) schemas. */
async function openWithOldBuild(name: string): Promise<RxDatabase> {
  const db = await createRxDatabase({ name, storage: fieldsyncStorage(storage(), true), password: KEY, multiInstance: false, closeDuplicates: false });
  await db.addCollections(Object.fromEntries(COLLECTIONS.map((c) => [c, {
    schema: OLD.collections[c]!,
    conflictHandler: conflictHandlerFor(c) as RxCollectionCreator['conflictHandler'],
  }])));
  return db;
}

function sync(db: RxDatabase): SyncEngine {
  return startSync(db, { serverUrl: server.url, getToken: () => token, collections: COLLECTIONS, replicationId: 'tablet-upgrade', retryTimeMs: 200 });
}

async function onServer(collection: CollectionName, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await server.app.store.getDocuments(collection, TENANT, [id]);
  return row ? (JSON.parse(row.json) as Record<string, unknown>) : undefined;
}

describe('a device database from the previous build, after the app update', () => {
  it('the bumped collections are the ones whose schema changed, and the fixture is that build\'s', () => {
    expect(OLD.collections['epcrs']!.version).toBe(0);
    expect(collectionSchemas.epcrs.version).toBeGreaterThan(0);
    expect(collectionSchemas.gps_points.version).toBe(0);
  });

  it('opens with every document, its PHI readable with the same key, and delivers the changes it had not sent', async () => {
    const name = `fs-upgrade-${Date.now()}`;
    const synced = randomUUID();
    const unsent = randomUUID();
    const queued = randomUUID();
    const point = randomUUID();

    // The previous build: a report and a position synced, then, out of coverage, the narrative
    // edited and a second report started; a third report already handed to the service worker's
    // queue, at schema version 0 (what that build's database worker wrote there).
    const old = await openWithOldBuild(name);
    await old.collections['epcrs']!.insert({
      id: synced, tenantId: TENANT, rev: rev(1), status: 'draft', unitId: UNIT,
      patient: { firstName: 'Ignatius', lastName: 'Okonkwo-Brandt', dateOfBirth: '1949-08-30' },
      narrative: { text: NARRATIVE },
      conflicts: [{ path: 'patient.firstName', keptRev: '2-a.b', lostRev: '2-a.c', lostValueJson: '"Ignatio"' }],
    });
    await old.collections['gps_points']!.insert({
      id: point, tenantId: TENANT, rev: rev(1), sourceType: 'unit', sourceId: UNIT, lat: 39.95, lng: -75.16, recordedAt: '2026-12-06T09:00:00-05:00',
    });
    const first = sync(old);
    await first.awaitInSync();
    await first.stop();
    expect((await onServer('epcrs', synced))?.['narrative']).toEqual({ text: NARRATIVE });

    const doc = await old.collections['epcrs']!.findOne(synced).exec();
    await doc!.incrementalPatch({ narrative: { text: LATER }, rev: rev(2) });
    await old.collections['epcrs']!.insert({
      id: unsent, tenantId: TENANT, rev: rev(1), status: 'draft', unitId: UNIT, patient: { lastName: 'Vasquez-Thorne' },
    });
    const outbox = await openOutboxDb(`outbox-upgrade-${Date.now()}`);
    await setSession(outbox, { serverUrl: server.url, token });
    await enqueueRows(outbox, 'epcrs', 0, [{
      newDocumentState: { id: queued, tenantId: TENANT, rev: rev(1), status: 'draft', unitId: UNIT, patient: { lastName: 'Abernathy' }, _deleted: false },
    }]);
    await old.close();

    // This build opens the same database.
    const db = await createFieldsyncDatabase({ name, collections: COLLECTIONS, storage: storage(), password: KEY, multiInstance: false });
    try {
      const report = (await db.collections['epcrs']!.findOne(synced).exec())?.toJSON() as Epcr | undefined;
      expect(report?.narrative?.text).toBe(LATER);
      expect(report?.patient?.lastName).toBe('Okonkwo-Brandt');
      expect(report?.conflicts?.[0]?.lostValueJson).toBe('"Ignatio"');
      expect((await db.collections['epcrs']!.findOne(unsent).exec())?.toJSON()).toMatchObject({ patient: { lastName: 'Vasquez-Thorne' } });
      expect((await db.collections['gps_points']!.findOne(point).exec())?.toJSON()).toMatchObject({ lat: 39.95, lng: -75.16 });

      // The two changes the old build never pushed reach the server.
      const engine = sync(db);
      await engine.awaitInSync();
      await engine.stop();
      expect((await onServer('epcrs', synced))?.['narrative']).toEqual({ text: LATER });
      expect((await onServer('epcrs', synced))?.['rev']).toBe(report?.rev);
      expect((await onServer('epcrs', unsent))?.['patient']).toEqual({ lastName: 'Vasquez-Thorne' });

      // The queued row, still at version 0, is delivered by this build's service worker.
      const delivery = await deliverOutbox({ db: outbox });
      expect(delivery.stoppedBy, delivery.error).toBeUndefined();
      expect((await onServer('epcrs', queued))?.['patient']).toEqual({ lastName: 'Abernathy' });
      expect((await getStatus(outbox)).updateRequired).toBeFalsy();
    } finally {
      await db.close();
    }
  });

  it('an app still on the previous build is told to update when it pushes directly; only a queue replay may be older', async () => {
    const doc = { id: randomUUID(), tenantId: TENANT, rev: rev(1), status: 'draft', unitId: UNIT, _deleted: false };
    const push = (query: string) => fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=0${query}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify([{ newDocumentState: doc }]),
    });
    expect((await push('')).status).toBe(426);
    expect(await onServer('epcrs', doc.id)).toBeUndefined();
    expect((await push('&conflicts=merge')).status).toBe(200);
    expect((await onServer('epcrs', doc.id))?.['rev']).toBe(doc.rev);
  });

  it('a queue replay of the previous build that the rules refuse is answered with no document to store; the change is kept in quarantine', async () => {
    const locked = { id: randomUUID(), tenantId: TENANT, rev: rev(1), status: 'finalized', unitId: UNIT, lockedAt: '2026-11-22T14:02:10-05:00', finalizeErrors: [], _deleted: false };
    await server.app.store.writeBatch({
      collection: 'epcrs', tenantId: TENANT, actor: { kind: 'system', tenantId: TENANT },
      requests: [{ id: locked.id, incoming: locked, decide: () => ({ action: 'write', doc: locked }) }],
    });
    const changed = { ...locked, rev: rev(2), status: 'draft' };
    const r = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=0&conflicts=merge`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify([{ assumedMasterState: locked, newDocumentState: changed }]),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([]);
    expect(JSON.parse(r.headers.get('x-fieldsync-rejections') ?? '[]')).toMatchObject([{ id: locked.id }]);
    expect((await onServer('epcrs', locked.id))?.['status']).toBe('finalized');
    const kept = await server.app.store.findQuarantine({ tenantId: TENANT, collection: 'epcrs', documentIds: [locked.id], limit: 10 });
    expect(kept.map((q) => (JSON.parse(q.json) as { rev?: string }).rev)).toContain(changed.rev);
  });

  it('a sealed ePCR change the previous build queued (version 0) is opened, migrated and stored by the server', async () => {
    await server.app.auth.createUser(TENANT, { username: 'medic-upgrade', password: PASSWORD, role: 'crew', unitId: UNIT });
    const medic = await signIn(server, TENANT, 'medic-upgrade', 'tablet-sealed-upgrade');
    const outbox = await openOutboxDb(`outbox-upgrade-sealed-${Date.now()}`);
    await setSession(outbox, { serverUrl: server.url, token: medic.accessToken, deviceId: medic.deviceId });
    const protection = await sealedWith(medic);
    const doc = { id: randomUUID(), tenantId: TENANT, rev: rev(1), status: 'draft', unitId: UNIT, patient: { lastName: 'Ferreira-Lindqvist' }, _deleted: false };
    const sealed = await protectRows('epcrs', [{ newDocumentState: doc }], protection);
    expect(JSON.stringify(sealed)).not.toContain('Ferreira');
    await enqueueRows(outbox, 'epcrs', 0, sealed, Date.now(), writerOf(medic.userId, protection, 'epcrs'));

    const delivery = await deliverOutbox({ db: outbox });
    expect(delivery.stoppedBy, delivery.error).toBeUndefined();
    expect(delivery).toMatchObject({ delivered: 1, rejected: 0 });
    expect((await onServer('epcrs', doc.id))?.['patient']).toEqual({ lastName: 'Ferreira-Lindqvist' });
  });

  it('keeps the PHI encrypted on disk after the migration', async () => {
    const name = `fs-upgrade-disk-${Date.now()}`;
    const old = await openWithOldBuild(name);
    await old.collections['epcrs']!.insert({ id: randomUUID(), tenantId: TENANT, rev: rev(1), status: 'draft', unitId: UNIT, patient: { lastName: 'Szczepanska-Holloway' } });
    await old.close();
    const db = await createFieldsyncDatabase({ name, collections: COLLECTIONS, storage: storage(), password: KEY, multiInstance: false });
    await db.close();
    const onDisk = await eventually('the migrated database on disk', async () => {
      const records: string[] = [];
      for (const { name: dbName } of await indexedDB.databases()) {
        if (!dbName?.includes(name)) continue;
        const idb = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open(dbName);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        for (const store of Array.from(idb.objectStoreNames)) {
          const values = await new Promise<unknown[]>((resolve, reject) => {
            const request = idb.transaction(store, 'readonly').objectStore(store).getAll();
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
          records.push(...values.map((v) => JSON.stringify(v)));
        }
        idb.close();
      }
      return records.length > 0 ? records : undefined;
    });
    expect(onDisk.some((r) => r.includes(UNIT))).toBe(true);
    expect(onDisk.filter((r) => r.includes('Szczepanska'))).toEqual([]);
  });
});
