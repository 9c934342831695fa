import type { OutboxDb } from './database.ts';

/** How delivery went, kept beside the queue for the apps to show and for the backoff. */
export interface OutboxStatus {
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** Consecutive failed deliveries; drives the backoff. */
  failures: number;
  nextAttemptAt?: number;
  updateRequired?: boolean;
  signedOut?: boolean;
}

export async function getStatus(db: OutboxDb): Promise<OutboxStatus> {
  return ((await db.get('meta', 'status')) as OutboxStatus | undefined) ?? { failures: 0 };
}

export async function updateStatus(db: OutboxDb, patch: Partial<OutboxStatus>): Promise<OutboxStatus> {
  const tx = db.transaction('meta', 'readwrite');
  const current = ((await tx.store.get('status')) as OutboxStatus | undefined) ?? { failures: 0 };
  const next = { ...current, ...patch };
  await tx.store.put(next, 'status');
  await tx.done;
  return next;
}
