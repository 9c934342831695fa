/**
 * The service worker's side of the device's outbound queue: delivering it (lanes first, batches,
 * backoff, wake-ups). The queue's database and its rows are client/queue/'s.
 */
export { BATCH_SIZE, COMPRESS_ABOVE_BYTES } from './batching.ts';
export { deliverOutbox, type DeliveryOptions, type DeliveryResult } from './delivery.ts';
export { NETWORK_RETRY_CAP_MS, RETRY_BASE_MS, retryDelayMs } from './queue-status.ts';
export { COVERAGE_PROBE_MS, OutboundQueue, type OutboundQueueOptions } from './outbound-queue.ts';
export { installOutboundQueue } from './sw-runtime.ts';
