import type { Dexie, Table } from 'dexie';
import { now, type RxStorage, type RxStorageInstance, type RxStorageInstanceCreationParams } from 'rxdb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { useBatchedGetMany } from './dexie-get-many.ts';

/**
 * RxDB's Dexie storage as fieldsync lays it out in IndexedDB: the one place a device's Dexie
 * databases are made, in the apps and in the tests that run a device (with fake-indexeddb).
 *
 * Each documents table gets the indexes RxDB reads: the primary key, `[_deleted+id]` (queries)
 * and `[_meta.lwt+id]` (the changes to push, client/sync/changes-since.ts). RxDB's Dexie storage
 * also gives every table a `_meta.lwt` index that only its `cleanup()` reads (purging deleted
 * documents; fieldsync does not run it today). Here `cleanup()` reads the leading part of
 * `[_meta.lwt+id]` instead (`cleanupByCompoundIndex`). IndexedDB writes an entry into
 * every index of a table for every document stored, so that index cost every write its share
 * for nothing: in Chromium, IndexedDB's own work on a new tablet's first sync (22,000 documents
 * and 2,000 server-state copies) took 6 % and 12 % less without it in two runs of five rounds
 * each (medians 6.13 → 5.75 s and 5.99 → 5.24 s; `npm run bench:browser -- --only=idb-layout`).
 *
 * A database made by an earlier build keeps the index: Dexie opens a database holding more
 * indexes than declared as it is (only a missing one makes it upgrade), and IndexedDB goes on
 * filling it. Only new databases are made without it. The other way round, an earlier build
 * opening a database this one made (a rollback) finds the index missing and adds it (Dexie's
 * schema patch: a version change that builds it over every document), which closes the
 * connections of tabs of this build open on that database at that moment until they reload;
 * nothing stored is lost.
 */
export function fieldsyncDexieStorage(settings: { indexedDB?: unknown; IDBKeyRange?: unknown } = {}): RxStorage<unknown, unknown> {
  const storage = getRxStorageDexie({
    ...settings,
    onCreate: (db: Dexie) => {
      useBatchedGetMany(db);
      withoutCleanupIndex(db);
    },
  } as never) as RxStorage<unknown, unknown>;
  return {
    ...storage,
    async createStorageInstance<RxDocType>(params: RxStorageInstanceCreationParams<RxDocType, unknown>): Promise<RxStorageInstance<RxDocType, unknown, unknown>> {
      const instance = await storage.createStorageInstance(params);
      instance.cleanup = (minimumDeletedTime) => cleanupByCompoundIndex(instance as never, minimumDeletedTime);
      return instance;
    },
  };
}

/**
 * RxDB's Dexie `cleanup()` (purge the deleted documents written before `minimumDeletedTime` ago)
 * reading `[_meta.lwt+id]`: RxDB's own asks `where('_meta.lwt').below(t)`, which Dexie 4 cannot
 * answer from a compound index (its virtual index makes an invalid lower bound: DataError), so
 * RxDB's own works only with the standalone index left out above. `between(-Infinity, t)` is the
 * same range, answered from the compound index's leading part.
 */
async function cleanupByCompoundIndex(instance: { internals: Promise<{ dexieDb: Dexie; dexieTable: Table }>; primaryPath: string }, minimumDeletedTime: number): Promise<boolean> {
  const { dexieDb, dexieTable } = await instance.internals;
  await dexieDb.transaction('rw', dexieTable, async () => {
    const maxDeletionTime = now() - minimumDeletedTime;
    const written = await dexieTable.where(CLEANUP_INDEX).between(-Infinity, maxDeletionTime, true, false).toArray();
    // Stored booleans are '1' and '0' in RxDB's Dexie tables (IndexedDB cannot index booleans).
    await dexieTable.bulkDelete(written.filter((doc) => doc._deleted === '1').map((doc) => doc[instance.primaryPath]));
  });
  return true;
}

/** The index RxDB's Dexie storage adds to every table for its cleanup() alone (rxdb/plugins/storage-dexie getDexieStoreSchema). */
export const CLEANUP_INDEX = '_meta.lwt';

/**
 * Leaves `CLEANUP_INDEX` out of the tables RxDB declares on this Dexie database. RxDB calls
 * `onCreate` before it declares its tables (`db.version(1).stores(...)`): the declaration passes
 * through here.
 */
function withoutCleanupIndex(db: Dexie): void {
  const version = db.version.bind(db);
  db.version = (versionNumber: number) => {
    const declared = version(versionNumber);
    const stores = declared.stores.bind(declared);
    declared.stores = (schema: { [table: string]: string | null }) => stores(Object.fromEntries(Object.entries(schema).map(([table, spec]) => [
      table,
      typeof spec === 'string' ? spec.split(',').filter((part) => part.trim() !== CLEANUP_INDEX).join(',') : spec,
    ])));
    return declared;
  };
}
