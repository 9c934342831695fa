/**
 * The device's outbound queue (IndexedDB `fieldsync-outbox`): changes that wait on this device for
 * the server, whoever delivers them. The only owner of its database: the database workers queue
 * into it (client/sync/queue-head.ts), the service worker delivers from it (sw/queue/), pages
 * hand it the session and show what waits; all through these functions.
 */
export { OUTBOX_DB_NAME, OUTBOX_DB_VERSION, openOutboxDb, OutboxConnection, peekOutboxCounts, withOutbox, type OutboxDb } from './database.ts';
export { ATTACHMENT_LANE, DELIVERY_ORDER, LANE_ORDER, LANES, laneOf, type Lane } from './lanes.ts';
export { enqueueUploads, nextUpload, noteUploadProgress, queuedUpload, refuseUpload, uploadDone, uploadsOf } from './uploads.ts';
export { enqueueRows, queuedRows } from './enqueue.ts';
export {
  rowKeyOf, UNKNOWN_WRITER, uploadKeyOf, writerKeyOf,
  type JsonDoc, type QueuedUpload, type UploadKey, type PushRowInput, type QueuedRow, type QueueWriter, type RejectedRow, type RowKey,
} from './rows.ts';
export { readBatch, type Batch } from './head.ts';
export { rejectRows, settleRows, type Settlement } from './settle.ts';
export { getStatus, updateStatus, type OutboxStatus } from './status.ts';
export { getSession, loadQueueSession, saveQueueSession, setSession, type OutboxSession, type QueueCredential } from './session.ts';
export { readOverview, summarizeQueue, type QueueOverview, type QueueSummary } from './summary.ts';
export { STATUS_CHANNEL, SYNC_TAG, type OutboxMessage } from './messages.ts';
export { postToQueue } from './page.ts';
