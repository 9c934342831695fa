import type { Lane } from '../../client/queue/index.ts';

/** Rows per push request in each lane (client/queue/lanes.ts): few urgent rows, GPS in bulk. */
export const BATCH_SIZE: Record<Lane, number> = { 0: 100, 1: 200, 2: 2000 };

/** Bodies larger than this are gzip-compressed. */
export const COMPRESS_ABOVE_BYTES = 1024;
