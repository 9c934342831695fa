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
 *
 * `after`: read only rows queued after that place in the lane (`order`), not from its head: a
 * delivery that sends a backlog batch after batch reads on from where its last batch ended
 * instead of reading again, and skipping, the rows still on the wire or not yet removed. Rows it
 * passed over that way are found when it reads from the head again.
 */
export async function readBatch(db: OutboxDb, lane: Lane, limit: number, held: (row: QueuedRow) => boolean = () => false, after?: number): Promise<Batch | undefined> {
  const tx = db.transaction('rows');
  const index = tx.store.index('by-lane');
  let collection: string | undefined;
  const rows: QueuedRow[] = [];
  // Documents met earlier in this lane (sent in this batch, held, or left for another request):
  // another writer's later row of one of them waits, so each document's rows go in queue order.
  const documents = new Set<string>();
  // Read in chunks with getAll, not a cursor: a cursor costs one round trip to the IndexedDB
  // backend per row, which for a batch of 2,000 GPS points was most of the idle time between two
  // pushes (1.3-2.9 s on a busy tablet, bench:browser's shift backlog). `order` is unique, so a
  // chunk starts just after the last row of the previous one.
  for (;;) {
    const range = IDBKeyRange.bound([lane, after ?? 0], [lane, Number.MAX_SAFE_INTEGER], after !== undefined);
    const want = Math.max(limit - rows.length, MIN_CHUNK);
    const chunk = await index.getAll(range, want);
    for (const row of chunk) {
      if (rows.length >= limit) break;
      const document = `${row.collection}|${row.id}`;
      if (documents.has(document)) continue;
      documents.add(document);
      if (held(row)) continue;
      collection ??= row.collection;
      if (row.collection === collection && row.schemaVersion === (rows[0]?.schemaVersion ?? row.schemaVersion)) rows.push(row);
    }
    if (rows.length >= limit || chunk.length < want) break;
    after = chunk[chunk.length - 1]!.order;
  }
  await tx.done;
  return collection && rows.length > 0 ? { collection, rows } : undefined;
}

/** The smallest chunk read when a batch is nearly full but rows of other collections or held rows are skipped. */
const MIN_CHUNK = 64;
