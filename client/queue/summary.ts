/** What the apps show about the queue even though the service worker holds it. */
import type { OutboxDb } from './database.ts';
import { LANE_ORDER, LANES } from './lanes.ts';
import type { RejectedRow, RowKey } from './rows.ts';
import { getStatus, type OutboxStatus } from './status.ts';

export interface QueueSummary {
  /**
   * Changes waiting, per collection: one per document and writer, so on a shared device one
   * document changed by two users counts twice (two changes, each sent and answered on its own).
   */
  waiting: Record<string, number>;
  total: number;
  /** When the oldest waiting change was made (device clock, for display). */
  oldestQueuedAt?: number;
  urgentWaiting: number;
  rejected: RejectedRow[];
  status: OutboxStatus;
}

/** Every row counted (the service worker's and the pages' status line). */
export async function summarizeQueue(db: OutboxDb): Promise<QueueSummary> {
  const waiting: Record<string, number> = {};
  let total = 0;
  let urgentWaiting = 0;
  let oldestQueuedAt: number | undefined;
  for (const row of await db.getAll('rows')) {
    waiting[row.collection] = (waiting[row.collection] ?? 0) + 1;
    total++;
    if (row.lane === LANES.urgent) urgentWaiting++;
    if (oldestQueuedAt === undefined || row.queuedAt < oldestQueuedAt) oldestQueuedAt = row.queuedAt;
  }
  return {
    waiting, total, urgentWaiting, ...(oldestQueuedAt === undefined ? {} : { oldestQueuedAt }),
    rejected: await db.getAll('rejected'), status: await getStatus(db),
  };
}

/** The queue by keys: what a frequent reader (the database worker's badges) needs, without any row's content. */
export interface QueueOverview {
  /** The key of every waiting row. */
  keys: RowKey[];
  oldestQueuedAt?: number;
  rejected: RejectedRow[];
  status: OutboxStatus;
}

/**
 * Reads keys and the head of each lane only, never every queued state: a backlog of thousands of
 * GPS fixes costs a key scan, not a copy of every document.
 */
export async function readOverview(db: OutboxDb): Promise<QueueOverview> {
  const tx = db.transaction(['rows', 'rejected', 'meta']);
  const rows = tx.objectStore('rows');
  const keys = await rows.getAllKeys();
  // The first row of each lane (by enqueue order) is that lane's oldest.
  let oldestQueuedAt: number | undefined;
  for (const lane of LANE_ORDER) {
    const cursor = await rows.index('by-lane').openCursor(IDBKeyRange.bound([lane, 0], [lane, Number.MAX_SAFE_INTEGER]));
    const queuedAt = cursor?.value.queuedAt;
    if (queuedAt !== undefined && (oldestQueuedAt === undefined || queuedAt < oldestQueuedAt)) oldestQueuedAt = queuedAt;
  }
  const rejected = (await tx.objectStore('rejected').getAll()) as RejectedRow[];
  await tx.done;
  const status = await getStatus(db);
  return { keys, ...(oldestQueuedAt !== undefined ? { oldestQueuedAt } : {}), rejected, status };
}
