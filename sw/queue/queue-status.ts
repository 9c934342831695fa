import { LANES } from './lanes.ts';
import { getStatus, type OutboxDb, type OutboxStatus, type RejectedRow } from './outbox-db.ts';

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

/** What the apps show about the queue even though the service worker holds it. */
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

/** Exponential backoff with jitter; never gives up, capped so a returning network is noticed. */
export function retryDelayMs(failures: number, random = Math.random, baseMs = 2000, capMs = 5 * 60_000): number {
  const delay = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(delay / 2 + random() * (delay / 2));
}
