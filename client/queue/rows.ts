/**
 * The queue's rows: one document waiting to reach the server, per writer. Queuing (`enqueueRows`)
 * and looking up the rows of given documents (`queuedRows`).
 */
import type { OutboxDb } from './database.ts';
import { laneOf, type Lane } from './lanes.ts';

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
 * only the server and the database worker can open; the service worker sends them as they are.
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
