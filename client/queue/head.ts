/** Reading the queue from its head: what is sent next, in queue order. */
import type { OutboxDb } from './database.ts';
import type { Lane } from './lanes.ts';
import type { QueuedRow } from './rows.ts';

export interface Batch {
  collection: string;
  rows: QueuedRow[];
}

/**
 * The next rows of `lane` to send in one request: up to `limit` rows of the collection (and
 * schema version) of the lane's first row that is not `held`, in enqueue order. A document has
 * at most one row in a batch: another writer's later row of it waits for a later request, so each
 * document's rows are sent in queue order.
 */
export async function readBatch(db: OutboxDb, lane: Lane, limit: number, held: (row: QueuedRow) => boolean = () => false): Promise<Batch | undefined> {
  const tx = db.transaction('rows');
  let cursor = await tx.store.index('by-lane').openCursor(IDBKeyRange.bound([lane, 0], [lane, Number.MAX_SAFE_INTEGER]));
  let collection: string | undefined;
  const rows: QueuedRow[] = [];
  // Documents met earlier in this lane (sent in this batch, held, or left for another request):
  // another writer's later row of one of them waits, so each document's rows go in queue order.
  const documents = new Set<string>();
  while (cursor && rows.length < limit) {
    const row = cursor.value;
    const document = `${row.collection}|${row.id}`;
    if (!documents.has(document)) {
      documents.add(document);
      if (!held(row)) {
        collection ??= row.collection;
        if (row.collection === collection && row.schemaVersion === (rows[0]?.schemaVersion ?? row.schemaVersion)) rows.push(row);
      }
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  return collection && rows.length > 0 ? { collection, rows } : undefined;
}
