/** What happens to rows once the server answered: delivered, kept for later, queued again merged, or set aside as refused. */
import type { OutboxDb } from './database.ts';
import { rowKeyOf, type JsonDoc, type QueuedRow, type RejectedRow, type RowKey } from './rows.ts';

/**
 * The fate of one sent row, decided by the delivery from the server's answer and the row as it
 * is now (`current`: changed again while in flight when its version moved on):
 * - `delivered`: the server holds the sent state;
 * - `held`: left exactly as it is (for a later run);
 * - `requeue`: the server answered with its own state; the row waits again with it as base and
 *   `state` (a merge) as its newest state.
 */
export type Settlement = { kind: 'delivered' } | { kind: 'held' } | { kind: 'requeue'; base: JsonDoc; state: JsonDoc };

/**
 * Applies the settlements of `sent` in one transaction. A delivered row is removed, unless it
 * changed again while it was in flight: then it stays, with the sent state as its new base.
 * `settle` runs inside the transaction, so it must not wait for anything.
 */
export async function settleRows(db: OutboxDb, sent: readonly QueuedRow[], settle: (sent: QueuedRow, current: QueuedRow) => Settlement): Promise<void> {
  const tx = db.transaction('rows', 'readwrite');
  // One read for the rows as they are now, then every write issued at once (the transaction runs
  // them in order): awaiting a get and a delete per row cost two round trips to the IndexedDB
  // backend per row, seconds for a batch of 2,000 GPS points on a busy tablet. A batch holds each
  // row key at most once (client/queue/head.ts), so no write here depends on another row's.
  const currents = await currentRows(tx.store, sent);
  const writes: Promise<unknown>[] = [];
  sent.forEach((row) => {
    const current = currents.get(keyString(row));
    if (!current) return;
    const settlement = settle(row, current);
    switch (settlement.kind) {
      case 'held':
        break;
      case 'requeue':
        writes.push(tx.store.put({ ...current, base: settlement.base, state: settlement.state, version: current.version + 1 }));
        break;
      case 'delivered':
        if (current.version === row.version) writes.push(tx.store.delete(rowKeyOf(row)));
        else writes.push(tx.store.put({ ...current, base: row.state }));
        break;
    }
  });
  await Promise.all([...writes, tx.done]);
}

const keyString = (row: Pick<QueuedRow, 'collection' | 'id' | 'writerKey'>) => JSON.stringify(rowKeyOf(row));

/**
 * The rows as they are now, by key. A batch is one lane's rows in queue order, and a row keeps its
 * place (`order`) when it changes, so one read of that stretch of the lane finds them all (with
 * whatever else lies between, skipped here) instead of a read per row.
 */
async function currentRows(store: { index(name: 'by-lane'): { getAll(range: IDBKeyRange): Promise<QueuedRow[]> }; get(key: RowKey): Promise<QueuedRow | undefined> }, sent: readonly QueuedRow[]): Promise<Map<string, QueuedRow>> {
  const found = new Map<string, QueuedRow>();
  if (sent.length === 0) return found;
  const lane = sent[0]!.lane;
  if (sent.some((row) => row.lane !== lane)) {
    for (const row of sent) {
      const current = await store.get(rowKeyOf(row));
      if (current) found.set(keyString(current), current);
    }
    return found;
  }
  let low = Infinity;
  let high = -Infinity;
  for (const row of sent) {
    low = Math.min(low, row.order);
    high = Math.max(high, row.order);
  }
  const wanted = new Set(sent.map(keyString));
  for (const row of await store.index('by-lane').getAll(IDBKeyRange.bound([lane, low], [lane, high]))) {
    const key = keyString(row);
    if (wanted.has(key)) found.set(key, row);
  }
  return found;
}

/**
 * Sets refused rows aside with the server's reason (the `rejected` store, shown to a person),
 * never into the void. Returns how many were set aside.
 */
export async function rejectRows(db: OutboxDb, rows: readonly QueuedRow[], code: string, reason: string, at: number): Promise<number> {
  const tx = db.transaction(['rows', 'rejected'], 'readwrite');
  for (const row of rows) {
    const rejected: RejectedRow = {
      collection: row.collection, id: row.id, state: row.state, code, reason, at,
      ...(row.rev !== undefined ? { rev: row.rev } : {}), ...(row.writer ? { writer: row.writer } : {}),
    };
    await tx.objectStore('rejected').add(rejected);
    const current = await tx.objectStore('rows').get(rowKeyOf(row));
    // A newer edit of the same document by the same writer gets its own chance; only the refused
    // state is set aside. Another writer's row of the document is another key: never touched here.
    if (current && current.version === row.version) await tx.objectStore('rows').delete(rowKeyOf(row));
  }
  await tx.done;
  return rows.length;
}
