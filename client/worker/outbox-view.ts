/**
 * The database worker's read-only view of the service worker's outbound queue (IndexedDB
 * `fieldsync-outbox`, sw/queue/outbox-db.ts): which documents still wait there (for badges and
 * the pending count), how many per kind, since when, the last error and the refused changes.
 *
 * Reads keys and the head of each lane only, never every queued state: a backlog of thousands of
 * GPS fixes costs a key scan, not a copy of every document. Nothing shown here needs a row's
 * content (collection, id, writer, revision, code, reason), so sealed rows are never opened for it.
 *
 * The queue is the device's, shared by everyone who signs in on it; the database worker is one
 * user's. Counts and the refused list cover the whole queue (nothing waiting on the device is
 * hidden, another user's refused change included); the per-document state behind badges and
 * pending counts is this user's own rows only (and rows with no recorded writer, which could be).
 */
import { LANES } from '../../sw/queue/lanes.ts';
import { getStatus, openOutboxDb, UNKNOWN_WRITER, writerKeyOf, type OutboxDb, type RejectedRow } from '../../sw/queue/outbox-db.ts';
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
  const tx = db.transaction(['rows', 'rejected', 'meta']);
  const rows = tx.objectStore('rows');
  const keys = await rows.getAllKeys();
  // The first row of each lane (by enqueue order) is that lane's oldest.
  let oldestQueuedAt: number | undefined;
  for (const lane of Object.values(LANES)) {
    const cursor = await rows.index('by-lane').openCursor(IDBKeyRange.bound([lane, 0], [lane, Number.MAX_SAFE_INTEGER]));
    const queuedAt = cursor?.value.queuedAt;
    if (queuedAt !== undefined && (oldestQueuedAt === undefined || queuedAt < oldestQueuedAt)) oldestQueuedAt = queuedAt;
  }
  const rejectedRows = (await tx.objectStore('rejected').getAll()) as RejectedRow[];
  await tx.done;
  const status = await getStatus(db);

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

/**
 * One connection to the outbound queue's database, given up when a newer version of it is opened
 * elsewhere (a new service worker migrating the queue must never be blocked by an open tab), and
 * opened again on the next read.
 */
export class OutboxConnection {
  private db: Promise<OutboxDb> | undefined;

  /** `onLost`: the connection was closed for a newer version of the queue's database. */
  constructor(private readonly onLost: () => void = () => {}) {}

  get(): Promise<OutboxDb> {
    this.db ??= openOutboxDb().then((db) => {
      db.addEventListener('versionchange', () => {
        db.close();
        this.db = undefined;
        this.onLost();
      });
      return db;
    }, (error: unknown) => {
      this.db = undefined;
      throw error;
    });
    return this.db;
  }

  async close(): Promise<void> {
    const pending = this.db;
    this.db = undefined;
    (await pending?.catch(() => undefined))?.close();
  }
}
