/**
 * Server states arriving while this device's own changes wait in the service worker's queue.
 *
 * Handing a push to the queue makes RxDB assume the server already has it, so RxDB would let a
 * server state pulled in the meantime (a hook filling the times, another tablet's edit) replace
 * the device's copy: what the person typed would vanish from the screen, and the next edit,
 * built on that copy, would carry the loss to the server. Instead each such document is
 * replayed onto the server state with the shared merge function, exactly as the server will
 * merge the queued row when it arrives (same inputs, so the same document and revision).
 */
import { deepEqual, merge } from '../../shared/merge/index.ts';
import { isCollectionName } from '../../shared/schemas/index.ts';
import { queuedRows, type OutboxDb } from '../../sw/queue/outbox-db.ts';

type Doc = Record<string, unknown>;

export async function rebaseOnQueue<D extends Doc>(db: OutboxDb, collection: string, documents: D[]): Promise<D[]> {
  if (documents.length === 0 || !isCollectionName(collection)) return documents;
  const rows = await queuedRows(db, collection, documents.map((d) => String(d['id'])));
  if (rows.size === 0) return documents;
  return documents.map((master) => {
    const row = rows.get(String(master['id']));
    if (!row) return master;
    const merged = merge(collection, { ...(row.base ? { base: row.base } : {}), master, incoming: row.state }) as D;
    // The server already holds the queued change (delivered, answer not yet settled): keep its
    // revision rather than invent one it will never have.
    return sameContent(merged, master) ? master : merged;
  });
}

function sameContent(a: Doc, b: Doc): boolean {
  const { rev: _a, ...restA } = a;
  const { rev: _b, ...restB } = b;
  return deepEqual(restA, restB);
}
