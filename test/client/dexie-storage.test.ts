/**
 * How a device's Dexie databases are laid out (client/sync/dexie-storage.ts): the tables RxDB
 * reads from have their indexes, the index only RxDB's cleanup() reads is not made, what RxDB
 * asks of the storage is answered as before (queries, the changes to push, cleanup), and a
 * database an earlier build made (with that index) opens and works.
 */
import { randomUUID } from 'node:crypto';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import type { RxDatabase, RxStorage } from 'rxdb';
import { afterEach, describe, expect, it } from 'vitest';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';
import { CLEANUP_INDEX, fieldsyncDexieStorage } from '../../client/sync/dexie-storage.ts';

const opened: RxDatabase[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close().catch(() => undefined);
});

async function open(name: string, storage: RxStorage<unknown, unknown>): Promise<RxDatabase> {
  const db = await createFieldsyncDatabase({ name, collections: ['gps_points'], storage: storage as never, multiInstance: false });
  opened.push(db);
  return db;
}

/** The index names of the IndexedDB table holding a collection's documents (and the database's version, with `withVersion`). */
async function indexNames(dbName: string, collection: string, withVersion = false): Promise<string[]> {
  const databases = await indexedDB.databases();
  const name = databases.map((d) => d.name!).find((n) => n.startsWith(`rxdb-dexie-${dbName}--`) && n.endsWith(`--${collection}`));
  if (!name) throw new Error(`no IndexedDB database for ${collection} of ${dbName}: ${databases.map((d) => d.name).join(', ')}`);
  const idb = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    const names = [...idb.transaction('docs').objectStore('docs').indexNames].sort();
    return withVersion ? [...names, `version ${idb.version}`] : names;
  } finally {
    idb.close();
  }
}

const point = (i: number) => ({
  id: randomUUID(), tenantId: 'agency-a', rev: `1-test${i}`, sourceType: 'unit', sourceId: 'B1',
  lat: 40 + i * 1e-4, lng: -75, recordedAt: '2026-11-22T10:00:00-05:00',
});

describe('the Dexie databases of a device', () => {
  it('makes each table with the indexes RxDB queries by, and without the one only its cleanup reads', async () => {
    const name = `layout${randomUUID().slice(0, 8)}`;
    // Written to: RxDB opens a collection's Dexie database when it is first used.
    await (await open(name, fieldsyncDexieStorage({ indexedDB, IDBKeyRange }))).collections['gps_points']!.insert(point(0));
    expect(await indexNames(name, 'gps_points')).toEqual(['[_deleted+id]', '[_meta.lwt+id]']);
    // What RxDB's own Dexie storage makes (the layout of earlier builds), for comparison.
    const plain = `plain${randomUUID().slice(0, 8)}`;
    await (await open(plain, getRxStorageDexie({ indexedDB, IDBKeyRange } as never) as RxStorage<unknown, unknown>)).collections['gps_points']!.insert(point(0));
    expect(await indexNames(plain, 'gps_points')).toEqual(['[_deleted+id]', '[_meta.lwt+id]', CLEANUP_INDEX]);
  });

  it('answers queries, the changes to push and cleanup as before', async () => {
    const db = await open(`answers${randomUUID().slice(0, 8)}`, fieldsyncDexieStorage({ indexedDB, IDBKeyRange }));
    const points = db.collections['gps_points']!;
    const docs = Array.from({ length: 40 }, (_, i) => point(i));
    await points.bulkInsert(docs);
    expect(await points.count().exec()).toBe(40);
    expect((await points.find({ sort: [{ id: 'asc' }], limit: 5 }).exec()).map((d) => d.primary)).toEqual(docs.map((d) => d.id).sort().slice(0, 5));
    // The changes to push, in write order, page by page (the [_meta.lwt+id] index).
    const instance = points.storageInstance;
    const first = await instance.getChangedDocumentsSince!(25);
    const rest = await instance.getChangedDocumentsSince!(25, first.checkpoint);
    expect(new Set([...first.documents, ...rest.documents].map((d) => d.id))).toEqual(new Set(docs.map((d) => d.id)));
    // cleanup(): Dexie reads `_meta.lwt` from the compound index; a deleted document is purged.
    await points.findOne(docs[0]!.id).exec().then((d) => d!.remove());
    await new Promise((r) => setTimeout(r, 5));
    await instance.cleanup(0);
    expect(await instance.findDocumentsById([docs[0]!.id], true)).toEqual([]);
    expect(await points.count().exec()).toBe(39);
  });

  it('opens a database an earlier build made (with the cleanup index) and goes on with it', async () => {
    const name = `earlier${randomUUID().slice(0, 8)}`;
    const earlier = await open(name, getRxStorageDexie({ indexedDB, IDBKeyRange } as never) as RxStorage<unknown, unknown>);
    const before = Array.from({ length: 10 }, (_, i) => point(i));
    await earlier.collections['gps_points']!.bulkInsert(before);
    await earlier.close();
    opened.splice(opened.indexOf(earlier), 1);

    const now = await open(name, fieldsyncDexieStorage({ indexedDB, IDBKeyRange }));
    const points = now.collections['gps_points']!;
    expect((await points.find().exec()).map((d) => d.primary).sort()).toEqual(before.map((d) => d.id).sort());
    const after = point(10);
    await points.insert(after);
    expect(await points.count().exec()).toBe(11);
    // Kept, and kept filled by IndexedDB: only new databases are made without it. No schema
    // change either (Dexie's version 1 is IndexedDB's 10): opened as it is, not upgraded.
    expect(await indexNames(name, 'gps_points', true)).toEqual(['[_deleted+id]', '[_meta.lwt+id]', CLEANUP_INDEX, 'version 10']);
    await points.findOne(after.id).exec().then((d) => d!.remove());
    await new Promise((r) => setTimeout(r, 5));
    await points.storageInstance.cleanup(0);
    expect(await points.storageInstance.findDocumentsById([after.id], true)).toEqual([]);
  });
});
