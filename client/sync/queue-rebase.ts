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
 * Only this user's rows are replayed. The queue is the device's: on a shared device it can also
 * hold another user's change to the same document (queued before they signed out), which is not
 * this database's change and reaches the server on its own. Rows are told apart by the writer
 * recorded beside them, and sealed rows must also open with this database's transport key: a row
 * that does not (another user's key, however it came to be recorded) changes nothing here either.
 * Rows with no recorded writer (queued before writers were recorded) are replayed when they open.
 */
import { looksSealed } from '../../shared/crypto/envelope.ts';
import { deepEqual, merge } from '../../shared/merge/index.ts';
import { isCollectionName } from '../../shared/schemas/index.ts';
import { queuedRows, UNKNOWN_WRITER, writerKeyOf, type OutboxDb, type QueuedRow } from '../queue/index.ts';
import type { QueueProtection } from './queue-seal.ts';

type Doc = Record<string, unknown>;

/**
 * `userId`: the user whose database this is (the writer recorded on their queued rows).
 * `onReplayed`: told of each document replayed onto a queued head (the state handed on, the head's
 * revision, and whether the state is one computed here rather than the server's own), so a later
 * push built on that state counts as built on the head (queue-head.ts).
 */
export async function rebaseOnQueue<D extends Doc>(
  db: OutboxDb, collection: string, documents: D[], protection: QueueProtection = { kind: 'clear' }, userId?: string,
  onReplayed?: (id: string, rev: unknown, headRev: unknown, computed: boolean) => void,
): Promise<D[]> {
  if (documents.length === 0 || !isCollectionName(collection)) return documents;
  const rows = await queuedRows(db, collection, documents.map((d) => String(d['id'])));
  if (rows.size === 0) return documents;
  const own = writerKeyOf(userId ? { userId } : undefined);
  const opened = new Map<string, { base?: Doc; state: Doc }>();
  for (const [id, all] of rows) {
    // This writer's row if there is one (at most one: rows coalesce per writer), else one from
    // before writers were recorded.
    const row = all.find((r) => r.writerKey === own) ?? all.find((r) => r.writerKey === UNKNOWN_WRITER);
    const readable = row ? await openRow(collection, row, protection) : undefined;
    if (readable) opened.set(id, readable);
  }
  return documents.map((master) => {
    const row = opened.get(String(master['id']));
    if (!row) return master;
    const merged = merge(collection, { ...(row.base ? { base: row.base } : {}), master, incoming: row.state }) as D;
    // The server already holds the queued change (delivered, answer not yet settled): keep its
    // revision rather than invent one it will never have.
    const handedOn = sameContent(merged, master) ? master : merged;
    onReplayed?.(String(master['id']), handedOn['rev'], row.state['rev'], handedOn !== master);
    return handedOn;
  });
}

export async function openRow(collection: string, row: QueuedRow, protection: QueueProtection): Promise<{ base?: Doc; state: Doc } | undefined> {
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
