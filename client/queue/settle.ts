/** What happens to rows once the server answered: delivered, kept for later, queued again merged, or set aside as refused. */
import type { OutboxDb } from './database.ts';
import { rowKeyOf, type JsonDoc, type QueuedRow, type RejectedRow } from './rows.ts';

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
  for (const row of sent) {
    const current = await tx.store.get(rowKeyOf(row));
    if (!current) continue;
    const settlement = settle(row, current);
    switch (settlement.kind) {
      case 'held':
        break;
      case 'requeue':
        await tx.store.put({ ...current, base: settlement.base, state: settlement.state, version: current.version + 1 });
        break;
      case 'delivered':
        if (current.version === row.version) await tx.store.delete(rowKeyOf(row));
        else await tx.store.put({ ...current, base: row.state });
        break;
    }
  }
  await tx.done;
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
