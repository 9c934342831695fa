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
import { ATTACHMENT_LANE, OutboxConnection, readOverview, STATUS_CHANNEL, UNKNOWN_WRITER, writerKeyOf, type OutboxDb } from '../queue/index.ts';
import type { QueuedRejection, QueueView } from './api.ts';
import { throttle } from './throttle.ts';

export interface OutboxSnapshot {
  /** Per collection, the ids of the documents with a change of this user waiting in the queue. */
  ids: Map<string, Set<string>>;
  /** Per `collection|id`, the newest refusal of this user's change. */
  rejectedByDoc: Map<string, QueuedRejection>;
  /** Per `collection|id`, this user's attachments of the document still waiting for their upload. */
  attachmentsByDoc: Map<string, number>;
  view: Omit<QueueView, 'mode'>;
}

const MAX_REJECTED_SHOWN = 50;

/** `userId`: the user of the database worker reading it (undefined: a session without one). */
export async function readOutbox(db: OutboxDb, userId?: string): Promise<OutboxSnapshot> {
  const own = writerKeyOf(userId ? { userId } : undefined);
  const mine = (writerKey: string) => writerKey === own || writerKey === UNKNOWN_WRITER;
  const { keys, uploads, oldestQueuedAt, rejected: rejectedRows, status } = await readOverview(db);

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
  // Attachments waiting for their upload count as changes of their own ("2 attachments" in the
  // outbox line) and keep their document's badge at "saved on device" until they are uploaded.
  const attachmentsByDoc = new Map<string, number>();
  let attachmentBytes = 0;
  let total = keys.length;
  for (const upload of uploads) {
    if (upload.refused) continue;
    attachmentBytes += upload.size;
    // A photo's thumbnail travels with it: one attachment to a person (its document still waits for it).
    if (!upload.thumbnail) {
      waiting[ATTACHMENT_LANE] = (waiting[ATTACHMENT_LANE] ?? 0) + 1;
      total++;
    }
    if (!mine(upload.writerKey)) continue;
    let set = ids.get(upload.collection);
    if (!set) ids.set(upload.collection, (set = new Set()));
    set.add(upload.docId);
    const key = `${upload.collection}|${upload.docId}`;
    if (!upload.thumbnail) attachmentsByDoc.set(key, (attachmentsByDoc.get(key) ?? 0) + 1);
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
    attachmentsByDoc,
    view: {
      waiting, total, ...(attachmentBytes > 0 ? { attachmentBytes } : {}),
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

export interface OutboxWatchOptions {
  /** The user of this database worker: the per-document state is this user's rows only. */
  userId?: string;
  /** Collections with per-document badges: a change of their queued ids changes badges. */
  badgeCollections: readonly string[];
  /** The worker closed: no more reads. */
  closed: () => boolean;
  /** The queued ids or refusals of badge collections changed. */
  onBadges: () => void;
  /** A read finished (the status shows the queue). */
  onRead: () => void;
  /** The connection was given up for a newer version of the queue's database (a new service worker). */
  onLost: () => void;
}

/**
 * Every tab's view of the queue, kept current: read again whenever the service worker announces a
 * delivery run, every 2 s, and on demand (badges must not say "synced" while a change waits there).
 */
export class OutboxWatch {
  /** Per collection, the ids of this user's documents waiting in the queue. */
  ids = new Map<string, Set<string>>();
  /** Per `collection|id`, the newest refusal of this user's change. */
  rejectedByDoc = new Map<string, QueuedRejection>();
  /** Per `collection|id`, this user's attachments of the document waiting for their upload. */
  attachmentsByDoc = new Map<string, number>();
  /** Where this tab's pushes go: the service worker's queue, or straight to the server. */
  mode: QueueView['mode'] = 'direct';
  /** Reads the queue soon (at most every 150 ms). */
  readonly refreshSoon: () => void;
  private readonly connection: OutboxConnection;
  private view: OutboxSnapshot['view'] | undefined;
  private badgeKey = '';
  private refresh: Promise<void> | undefined;
  private again = false;
  /** The service worker's queue announces every delivery run here (sw/queue/sw-runtime.ts). */
  private channel: BroadcastChannel | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: OutboxWatchOptions) {
    this.connection = new OutboxConnection(() => options.onLost());
    this.refreshSoon = throttle(() => this.refreshNow(), 150);
  }

  /** Starts listening to the service worker and reading on a timer. */
  start(): void {
    this.channel = new BroadcastChannel(STATUS_CHANNEL);
    this.channel.onmessage = () => this.refreshSoon();
    this.timer = setInterval(() => this.refreshSoon(), 2000);
  }

  /** The queue's database, for queuing pushes into it. */
  database(): Promise<OutboxDb> {
    return this.connection.get();
  }

  /** Reads the queue now; concurrent calls share one read and trigger one more after it. */
  refreshNow(): Promise<void> {
    if (this.refresh) {
      this.again = true;
      return this.refresh;
    }
    this.refresh = (async () => {
      try {
        do {
          this.again = false;
          await this.apply();
        } while (this.again && !this.options.closed());
      } finally {
        this.refresh = undefined;
      }
    })();
    return this.refresh;
  }

  /** Resolves when the read going on now (if any) is done. */
  async idle(): Promise<void> {
    await this.refresh?.catch(() => {});
  }

  /** What the status shows (undefined until read once). */
  snapshot(): QueueView | undefined {
    return this.view ? { mode: this.mode, ...this.view } : undefined;
  }

  /** The number of waiting changes the last read saw. */
  get total(): number {
    return this.view?.total ?? 0;
  }

  private async apply(): Promise<void> {
    if (this.options.closed()) return;
    let snapshot: OutboxSnapshot;
    try {
      snapshot = await readOutbox(await this.connection.get(), this.options.userId);
    } catch {
      return; // no IndexedDB here, or the queue is being migrated: try again on the next trigger
    }
    this.ids = snapshot.ids;
    this.rejectedByDoc = snapshot.rejectedByDoc;
    this.attachmentsByDoc = snapshot.attachmentsByDoc;
    this.view = snapshot.view;
    const key = this.options.badgeCollections
      .map((name) => `${name}:${[...(snapshot.ids.get(name) ?? [])].sort().join(',')}`)
      .concat([...snapshot.rejectedByDoc].map(([k, r]) => `${k}@${r.rev ?? ''}`))
      .concat([...snapshot.attachmentsByDoc].map(([k, n]) => `${k}#${n}`))
      .join('|');
    if (key !== this.badgeKey) {
      this.badgeKey = key;
      this.options.onBadges();
    }
    this.options.onRead();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.channel?.close();
    await this.connection.close();
  }
}
