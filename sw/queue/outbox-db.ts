import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { laneOf, type Lane } from './lanes.ts';

export const OUTBOX_DB_NAME = 'fieldsync-outbox';
/** Bump with a migration in `upgrade` below; a new service worker must take over the old queue. */
export const OUTBOX_DB_VERSION = 1;

export type JsonDoc = Record<string, unknown>;

/** Who queued a row: the signed-in user, and the transport key its states are sealed with. */
export interface QueueWriter {
  userId: string;
  /** Absent: the row is not sealed (a collection without patient data, or a developer session). */
  kid?: string;
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
  rows: { key: [string, string]; value: QueuedRow; indexes: { 'by-lane': [number, number] } };
  rejected: { key: number; value: RejectedRow };
  meta: { key: string; value: unknown };
}

export type OutboxDb = IDBPDatabase<OutboxSchema>;

export function openOutboxDb(name = OUTBOX_DB_NAME): Promise<OutboxDb> {
  return openDB<OutboxSchema>(name, OUTBOX_DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        const rows = db.createObjectStore('rows', { keyPath: ['collection', 'id'] });
        rows.createIndex('by-lane', ['lane', 'order']);
        db.createObjectStore('rejected', { keyPath: 'key', autoIncrement: true });
        db.createObjectStore('meta');
      }
      // Later versions add their migrations here, each guarded by `oldVersion < N`.
    },
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
 * when the caller may treat the change as handed over. Several changes to one document while it
 * waits become one row: the newest state with the oldest base, so the server can still merge.
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
    const existing = await rowStore.get([collection, id]);
    if (existing) {
      await rowStore.put({ ...existing, schemaVersion, state: row.newDocumentState, ...about, version: existing.version + 1, updatedAt: now });
    } else {
      await rowStore.put({
        collection, id, schemaVersion, lane: laneOf(collection),
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

/** The queued rows of these documents (one read transaction), by document id. */
export async function queuedRows(db: OutboxDb, collection: string, ids: readonly string[]): Promise<Map<string, QueuedRow>> {
  const tx = db.transaction('rows');
  const found = new Map<string, QueuedRow>();
  for (const id of ids) {
    const row = await tx.store.get([collection, id]);
    if (row) found.set(id, row);
  }
  await tx.done;
  return found;
}
