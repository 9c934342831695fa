export { BATCH_SIZE, COMPRESS_ABOVE_BYTES, LANES, laneOf, type Lane } from './lanes.ts';
export {
  enqueueRows, getSession, getStatus, openOutboxDb, OUTBOX_DB_NAME, OUTBOX_DB_VERSION, queuedRows, rowKeyOf, setSession, UNKNOWN_WRITER,
  updateStatus, writerKeyOf,
  type OutboxDb, type OutboxSession, type OutboxStatus, type PushRowInput, type QueuedRow, type QueueWriter, type RejectedRow, type RowKey,
} from './outbox-db.ts';
export { deliverOutbox, type DeliveryOptions, type DeliveryResult } from './delivery.ts';
export { retryDelayMs, summarizeQueue, type QueueSummary } from './queue-status.ts';
export { OutboundQueue, type OutboundQueueOptions } from './outbound-queue.ts';
export { installOutboundQueue, STATUS_CHANNEL, SYNC_TAG, type OutboxMessage } from './sw-runtime.ts';
export { refreshQueueSession, SESSION_REFRESH_LOCK, type QueueRefreshOptions } from './session-refresh.ts';
