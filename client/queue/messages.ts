/**
 * What pages and the service worker say to each other about the queue (sw/queue/sw-runtime.ts
 * answers; client/ui/sw-queue.ts and client/session/handover.ts ask).
 */
import type { OutboxSession } from './session.ts';
import type { PushRowInput } from './rows.ts';

/** The Background Sync (and Periodic Background Sync) tag that wakes the service worker to deliver. */
export const SYNC_TAG = 'fieldsync-outbox';
/** The BroadcastChannel on which the service worker announces every delivery run. */
export const STATUS_CHANNEL = 'fieldsync-outbox';

export type OutboxMessage =
  | { type: 'fieldsync:session'; session: OutboxSession }
  | { type: 'fieldsync:kick' }
  | { type: 'fieldsync:status' }
  | { type: 'fieldsync:enqueue'; collection: string; schemaVersion: number; rows: PushRowInput[] };
