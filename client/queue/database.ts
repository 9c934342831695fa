/**
 * The device's outbound queue database (IndexedDB `fieldsync-outbox`): its name, version, stores
 * and migrations, and the only code that opens it. The database workers of the apps queue into
 * it, the service worker delivers from it (sw/queue/), pages hand it the session; all of them go
 * through this folder's functions, never through the stores themselves.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import type { QueuedRow, QueuedUpload, RejectedRow, RowKey, UploadKey } from './rows.ts';
import { writerKeyOf } from './rows.ts';

export const OUTBOX_DB_NAME = 'fieldsync-outbox';
/**
 * Bump with a migration in `upgrade` below; a new service worker must take over the old queue.
 * 1: rows keyed by `[collection, id]`. 2: by `[collection, id, writerKey]` (a row per writer).
 * 3: `uploads`, the attachments' bytes waiting for their upload (uploads.ts).
 */
export const OUTBOX_DB_VERSION = 3;

export interface OutboxSchema extends DBSchema {
  rows: { key: RowKey; value: QueuedRow; indexes: { 'by-lane': [number, number] } };
  rejected: { key: number; value: RejectedRow };
  meta: { key: string; value: unknown };
  uploads: { key: UploadKey; value: QueuedUpload; indexes: { 'by-order': number } };
}

export type OutboxDb = IDBPDatabase<OutboxSchema>;

export function openOutboxDb(name = OUTBOX_DB_NAME): Promise<OutboxDb> {
  return openDB<OutboxSchema>(name, OUTBOX_DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) {
        db.createObjectStore('rejected', { keyPath: 'key', autoIncrement: true });
        db.createObjectStore('meta');
        createRowStore(db);
      } else if (oldVersion < 2) {
        migrateRowsToV2(db, transaction);
      }
      if (oldVersion < 3) {
        // Attachments (signatures, photos) wait here, sealed, until the service worker uploads them.
        db.createObjectStore('uploads', { keyPath: ['collection', 'docId', 'sha256'] }).createIndex('by-order', 'order');
      }
      // Later versions add their migrations here, each guarded by `oldVersion < N`.
    },
  });
}

/** Opens the queue for one piece of work and closes it after (a page or a locked app, which hold no connection). */
export async function withOutbox<T>(work: (db: OutboxDb) => Promise<T>): Promise<T> {
  const db = await openOutboxDb();
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

function createRowStore(db: IDBPDatabase<OutboxSchema>) {
  const rows = db.createObjectStore('rows', { keyPath: ['collection', 'id', 'writerKey'] });
  rows.createIndex('by-lane', ['lane', 'order']);
  return rows;
}

/** A row as version 1 stored it (no writer in its key). */
type V1Row = Omit<QueuedRow, 'writerKey'>;

/**
 * Version 1 → 2: the writer joins the rows' key. A key path cannot be changed in place, so the
 * rows are read, the store is made again, and every row is put back. All of it happens in the
 * upgrade transaction: a failure (quota, a crash) aborts the upgrade and leaves version 1 with
 * every row, and the next start tries again. `rejected` and `meta` stay as they are.
 */
function migrateRowsToV2(db: IDBPDatabase<OutboxSchema>, transaction: IDBPTransaction<OutboxSchema, ('rows' | 'rejected' | 'meta' | 'uploads')[], 'versionchange'>): void {
  void transaction.objectStore('rows').getAll().then((found) => {
    db.deleteObjectStore('rows');
    const rows = createRowStore(db);
    // Version 1 held at most one row per document, so no two rows meet under a new key. Order,
    // version, base and state stay as they were: delivery goes on where it stopped.
    return Promise.all((found as V1Row[]).map((row) => rows.put({ ...row, writerKey: writerKeyOf(row.writer) })));
  }).catch(() => {
    try {
      transaction.abort();
    } catch {
      // already aborted by the request that failed
    }
  });
}

/**
 * One connection to the outbound queue's database, given up when a newer version of it is opened
 * elsewhere (a new service worker migrating the queue must never be blocked by an open tab), and
 * opened again on the next read.
 */
export class OutboxConnection {
  private db: Promise<OutboxDb> | undefined;

  /** `onLost`: the connection was closed for a newer version of the queue's database. */
  constructor(private readonly onLost: () => void = () => {}) {}

  get(): Promise<OutboxDb> {
    this.db ??= openOutboxDb().then((db) => {
      db.addEventListener('versionchange', () => {
        db.close();
        this.db = undefined;
        this.onLost();
      });
      return db;
    }, (error: unknown) => {
      this.db = undefined;
      throw error;
    });
    return this.db;
  }

  async close(): Promise<void> {
    const pending = this.db;
    this.db = undefined;
    (await pending?.catch(() => undefined))?.close();
  }
}

/**
 * What the queue holds, without creating or upgrading it (a page deciding whether erasing a
 * user's data would lose changes; the queue's schema is the service worker's to create).
 */
export async function peekOutboxCounts(): Promise<{ waiting: number; rejected: number } | undefined> {
  // (`waiting` counts queued rows and attachments waiting for their upload alike: either is a change not yet on the server.)
  if (typeof indexedDB === 'undefined') return undefined;
  const db = await new Promise<IDBDatabase | undefined>((resolve, reject) => {
    const request = indexedDB.open(OUTBOX_DB_NAME);
    let created = false;
    request.onupgradeneeded = () => {
      // It did not exist: do not create it (that is the service worker's job, with its schema).
      created = true;
      request.transaction?.abort();
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => (created ? resolve(undefined) : reject(request.error));
    request.onblocked = () => resolve(undefined);
  });
  if (!db) return { waiting: 0, rejected: 0 };
  try {
    const stores = ['rows', 'rejected', 'uploads'].filter((name) => db.objectStoreNames.contains(name));
    if (stores.length === 0) return { waiting: 0, rejected: 0 };
    const tx = db.transaction(stores, 'readonly');
    const count = (name: string) => stores.includes(name)
      ? new Promise<number>((resolve, reject) => {
        const request = tx.objectStore(name).count();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      })
      : Promise.resolve(0);
    const [rows, rejected, uploads] = await Promise.all([count('rows'), count('rejected'), count('uploads')]);
    return { waiting: rows + uploads, rejected };
  } finally {
    db.close();
  }
}
