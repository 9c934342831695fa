/** Queuing changes (`enqueueRows`) and looking up the queued rows of given documents (`queuedRows`). */
import type { OutboxDb } from './database.ts';
import { laneOf } from './lanes.ts';
import { writerKeyOf, type PushRowInput, type QueuedRow, type QueueWriter } from './rows.ts';

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
