import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { laneOf, type Lane } from './lanes.ts';

export const OUTBOX_DB_NAME = 'fieldsync-outbox';
/**
 * Bump with a migration in `upgrade` below; a new service worker must take over the old queue.
 * 1: rows keyed by `[collection, id]`. 2: by `[collection, id, writerKey]` (a row per writer).
 */
export const OUTBOX_DB_VERSION = 2;

export type JsonDoc = Record<string, unknown>;

/** Who queued a row: the signed-in user, and the transport key its states are sealed with. */
export interface QueueWriter {
  userId: string;
  /** Absent: the row is not sealed (a collection without patient data, or a developer session). */
  kid?: string;
}

/**
 * The writer part of a row's key for rows queued without a writer (queued before writers were
 * recorded, a session without a user id, or a `fieldsync:enqueue` message). Parentheses never
 * occur in a user id (UUIDs, or `role@device` for developer tokens), so it cannot collide.
 */
export const UNKNOWN_WRITER = '(unknown)';

/** The writer part of a row's key: the user, not the key, so one person's edits still coalesce after a new sign-in brings a new transport key. */
export function writerKeyOf(writer: QueueWriter | undefined): string {
  return writer?.userId || UNKNOWN_WRITER;
}

/** The key of a queued row: one row per document and writer. */
export type RowKey = [collection: string, id: string, writerKey: string];

export function rowKeyOf(row: Pick<QueuedRow, 'collection' | 'id' | 'writerKey'>): RowKey {
  return [row.collection, row.id, row.writerKey];
}

/**
 * One document waiting to reach the server: the state the server last had, and the newest state.
 * For collections with patient data both are sealed envelopes (shared/crypto/envelope.ts) that
 * only the server and the database worker can open; this service worker sends them as they are.
 */
export interface QueuedRow {
  collection: string;
  id: string;
  schemaVersion: number;
  lane: Lane;
  /** What the device believed the server had when the first queued change was made (absent: new). */
  base?: JsonDoc;
  state: JsonDoc;
  /** The newest state's revision, in clear beside a sealed state (badges need it, not the content). */
  rev?: string;
  writer?: QueueWriter;
  /**
   * `writerKeyOf(writer)`, part of the key: on a shared device two users' changes to one document
   * are two rows, so a second user's edit never replaces the first user's waiting change.
   */
  writerKey: string;
  /** Enqueue order, for delivery order within a lane. */
  order: number;
  /** Bumped on every change to this row, so a delivery can tell whether it sent the latest state. */
  version: number;
  queuedAt: number;
  updatedAt: number;
}

export interface RejectedRow {
  key?: number;
  collection: string;
  id: string;
  /** As it was queued: sealed for collections with patient data. */
  state: JsonDoc;
  rev?: string;
  writer?: QueueWriter;
  code: string;
  reason: string;
  at: number;
}

export interface OutboxSession {
  serverUrl: string;
  token: string;
  refreshToken?: string;
  deviceId?: string;
}

export interface OutboxStatus {
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** Consecutive failed deliveries; drives the backoff. */
  failures: number;
  nextAttemptAt?: number;
  updateRequired?: boolean;
  signedOut?: boolean;
}

interface OutboxSchema extends DBSchema {
  rows: { key: RowKey; value: QueuedRow; indexes: { 'by-lane': [number, number] } };
  rejected: { key: number; value: RejectedRow };
  meta: { key: string; value: unknown };
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
      // Later versions add their migrations here, each guarded by `oldVersion < N`.
    },
  });
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
function migrateRowsToV2(db: IDBPDatabase<OutboxSchema>, transaction: IDBPTransaction<OutboxSchema, ('rows' | 'rejected' | 'meta')[], 'versionchange'>): void {
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

export interface PushRowInput {
  assumedMasterState?: JsonDoc;
  /** A document, or an envelope `{id, $enc}` of one. */
  newDocumentState: JsonDoc;
  /** The new state's revision when the state is sealed (read from the state otherwise). */
  rev?: string;
}

/**
 * Durably queues rows; resolves only after the IndexedDB transaction has committed, which is
 * when the caller may treat the change as handed over. Several changes to one document by one
 * writer while it waits become one row: the newest state with the oldest base, so the server can
 * still merge. Another writer's change to the same document (a shared device: the previous user
 * signed out before their change was delivered) gets a row of its own and never replaces it.
 */
export async function enqueueRows(
  db: OutboxDb, collection: string, schemaVersion: number, rows: PushRowInput[], now = Date.now(), writer?: QueueWriter,
): Promise<void> {
  const tx = db.transaction(['rows', 'meta'], 'readwrite');
  const rowStore = tx.objectStore('rows');
  const meta = tx.objectStore('meta');
  let order = ((await meta.get('order')) as number | undefined) ?? 0;
  for (const row of rows) {
    const id = String(row.newDocumentState['id']);
    const rev = row.rev ?? row.newDocumentState['rev'];
    const about = { ...(typeof rev === 'string' ? { rev } : {}), ...(writer ? { writer } : {}) };
    const writerKey = writerKeyOf(writer);
    const existing = await rowStore.get([collection, id, writerKey]);
    if (existing) {
      await rowStore.put({ ...existing, schemaVersion, state: row.newDocumentState, ...about, version: existing.version + 1, updatedAt: now });
    } else {
      await rowStore.put({
        collection, id, writerKey, schemaVersion, lane: laneOf(collection),
        ...(row.assumedMasterState ? { base: row.assumedMasterState } : {}),
        state: row.newDocumentState, ...about, order: ++order, version: 1, queuedAt: now, updatedAt: now,
      });
    }
  }
  await meta.put(order, 'order');
  await tx.done;
}

export async function getSession(db: OutboxDb): Promise<OutboxSession | undefined> {
  return (await db.get('meta', 'session')) as OutboxSession | undefined;
}

export async function setSession(db: OutboxDb, session: OutboxSession): Promise<void> {
  await db.put('meta', session, 'session');
}

export async function getStatus(db: OutboxDb): Promise<OutboxStatus> {
  return ((await db.get('meta', 'status')) as OutboxStatus | undefined) ?? { failures: 0 };
}

export async function updateStatus(db: OutboxDb, patch: Partial<OutboxStatus>): Promise<OutboxStatus> {
  const tx = db.transaction('meta', 'readwrite');
  const current = ((await tx.store.get('status')) as OutboxStatus | undefined) ?? { failures: 0 };
  const next = { ...current, ...patch };
  await tx.store.put(next, 'status');
  await tx.done;
  return next;
}

/**
 * The queued rows of these documents (one read transaction), by document id: every writer's
 * row, oldest first (enqueue order). Most documents have one; a shared device can have several.
 */
export async function queuedRows(db: OutboxDb, collection: string, ids: readonly string[]): Promise<Map<string, QueuedRow[]>> {
  const tx = db.transaction('rows');
  const found = new Map<string, QueuedRow[]>();
  // Runs for every pulled page: the usual answer is "nothing queued", so ask that first, and read
  // a short queue in one request rather than one per pulled document.
  // Arrays sort after strings in IndexedDB: `[collection, []]` is above every key of the collection.
  const inCollection = IDBKeyRange.bound([collection], [collection, []]);
  const waiting = await tx.store.count(inCollection);
  if (waiting > 0 && waiting <= ids.length) {
    const wanted = new Set(ids);
    for (const row of await tx.store.getAll(inCollection)) {
      if (wanted.has(row.id)) found.set(row.id, [...(found.get(row.id) ?? []), row]);
    }
  } else if (waiting > 0) {
    for (const id of ids) {
      const rows = await tx.store.getAll(IDBKeyRange.bound([collection, id], [collection, id, []]));
      if (rows.length > 0) found.set(id, rows);
    }
  }
  await tx.done;
  for (const rows of found.values()) rows.sort((a, b) => a.order - b.order);
  return found;
}
