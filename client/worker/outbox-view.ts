/**
 * The database worker's read-only view of the device's outbound queue (client/queue/): which
 * documents still wait there (for badges and the pending count), how many per kind, since when,
 * the last error and the refused changes.
 *
 * Built from the queue's overview (keys and the head of each lane, client/queue/summary.ts), never
 * from every queued state. Nothing shown here needs a row's content (collection, id, writer,
 * revision, code, reason), so sealed rows are never opened for it.
 *
 * The queue is the device's, shared by everyone who signs in on it; the database worker is one
 * user's. Counts and the refused list cover the whole queue (nothing waiting on the device is
 * hidden, another user's refused change included); the per-document state behind badges and
 * pending counts is this user's own rows only (and rows with no recorded writer, which could be).
 */
import { readOverview, UNKNOWN_WRITER, writerKeyOf, type OutboxDb } from '../queue/index.ts';
import type { QueuedRejection, QueueView } from './api.ts';

export interface OutboxSnapshot {
  /** Per collection, the ids of the documents with a change of this user waiting in the queue. */
  ids: Map<string, Set<string>>;
  /** Per `collection|id`, the newest refusal of this user's change. */
  rejectedByDoc: Map<string, QueuedRejection>;
  view: Omit<QueueView, 'mode'>;
}

const MAX_REJECTED_SHOWN = 50;

/** `userId`: the user of the database worker reading it (undefined: a session without one). */
export async function readOutbox(db: OutboxDb, userId?: string): Promise<OutboxSnapshot> {
  const own = writerKeyOf(userId ? { userId } : undefined);
  const mine = (writerKey: string) => writerKey === own || writerKey === UNKNOWN_WRITER;
  const { keys, oldestQueuedAt, rejected: rejectedRows, status } = await readOverview(db);

  const ids = new Map<string, Set<string>>();
  const waiting: Record<string, number> = {};
  for (const [collection, id, writerKey] of keys) {
    // Every row is a change waiting on this device, whoever made it.
    waiting[collection] = (waiting[collection] ?? 0) + 1;
    if (!mine(writerKey)) continue;
    let set = ids.get(collection);
    if (!set) ids.set(collection, (set = new Set()));
    set.add(id);
  }
  const rejectedByDoc = new Map<string, QueuedRejection>();
  const rejected: QueuedRejection[] = [];
  for (const row of [...rejectedRows].sort((a, b) => b.at - a.at)) {
    // Sealed states are not opened for this: the revision is kept in clear beside them.
    const rev = row.rev ?? row.state?.['rev'];
    const entry: QueuedRejection = {
      collection: row.collection, id: row.id, code: row.code, reason: row.reason, at: row.at,
      ...(typeof rev === 'string' ? { rev } : {}), ...(row.writer ? { writerUserId: row.writer.userId } : {}),
    };
    const key = `${row.collection}|${row.id}`;
    if (!rejectedByDoc.has(key) && mine(writerKeyOf(row.writer))) rejectedByDoc.set(key, entry);
    if (rejected.length < MAX_REJECTED_SHOWN) rejected.push(entry);
  }
  return {
    ids,
    rejectedByDoc,
    view: {
      waiting, total: keys.length,
      ...(oldestQueuedAt !== undefined ? { oldestQueuedAt } : {}),
      ...(status.lastError ? { lastError: status.lastError } : {}),
      ...(status.lastError && status.lastErrorAt !== undefined ? { lastErrorAt: status.lastErrorAt } : {}),
      ...(status.lastSuccessAt !== undefined ? { lastSuccessAt: status.lastSuccessAt } : {}),
      ...(status.signedOut ? { signedOut: true } : {}),
      ...(status.updateRequired ? { updateRequired: true } : {}),
      rejected, rejectedTotal: rejectedRows.length,
    },
  };
}
