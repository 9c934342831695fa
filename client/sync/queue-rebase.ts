/**
 * Server states arriving while this device's own changes wait in the service worker's queue.
 *
 * Handing a push to the queue makes RxDB assume the server already has it, so RxDB would let a
 * server state pulled in the meantime (a hook filling the times, another tablet's edit) replace
 * the device's copy: what the person typed would vanish from the screen, and the next edit,
 * built on that copy, would carry the loss to the server. Instead each such document is
 * replayed onto the server state with the shared merge function, exactly as the server will
 * merge the queued row when it arrives (same inputs, so the same document and revision).
 *
 * Sealed rows are opened with this device's transport key first. A row this key cannot open
 * (another user's, queued on this device before they signed out) is not this database's change:
 * the server state is taken as it is.
 */
import { looksSealed } from '../../shared/crypto/envelope.ts';
import { deepEqual, merge } from '../../shared/merge/index.ts';
import { isCollectionName } from '../../shared/schemas/index.ts';
import { queuedRows, type OutboxDb, type QueuedRow } from '../../sw/queue/outbox-db.ts';
import type { QueueProtection } from './queue-seal.ts';

type Doc = Record<string, unknown>;

export async function rebaseOnQueue<D extends Doc>(db: OutboxDb, collection: string, documents: D[], protection: QueueProtection = { kind: 'clear' }): Promise<D[]> {
  if (documents.length === 0 || !isCollectionName(collection)) return documents;
  const rows = await queuedRows(db, collection, documents.map((d) => String(d['id'])));
  if (rows.size === 0) return documents;
  const opened = new Map<string, { base?: Doc; state: Doc }>();
  for (const [id, row] of rows) {
    const readable = await openRow(collection, row, protection);
    if (readable) opened.set(id, readable);
  }
  return documents.map((master) => {
    const row = opened.get(String(master['id']));
    if (!row) return master;
    const merged = merge(collection, { ...(row.base ? { base: row.base } : {}), master, incoming: row.state }) as D;
    // The server already holds the queued change (delivered, answer not yet settled): keep its
    // revision rather than invent one it will never have.
    return sameContent(merged, master) ? master : merged;
  });
}

async function openRow(collection: string, row: QueuedRow, protection: QueueProtection): Promise<{ base?: Doc; state: Doc } | undefined> {
  const open = async (value: Doc) => (protection.kind === 'sealed' ? protection.key.open(collection, value) : value);
  try {
    const state = await open(row.state);
    const base = row.base ? await open(row.base) : undefined;
    if (!state || looksSealed(state) || (row.base && (!base || looksSealed(base)))) return undefined;
    return { state, ...(base ? { base } : {}) };
  } catch {
    // Altered or unreadable: the server will refuse it when it arrives; here it changes nothing.
    return undefined;
  }
}

function sameContent(a: Doc, b: Doc): boolean {
  const { rev: _a, ...restA } = a;
  const { rev: _b, ...restB } = b;
  return deepEqual(restA, restB);
}
