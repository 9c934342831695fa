/** What the apps show about the queue even though the service worker holds it. */
import type { OutboxDb } from './database.ts';
import { ATTACHMENT_LANE, LANE_ORDER, LANES } from './lanes.ts';
import { writerKeyOf, type RejectedRow, type RowKey } from './rows.ts';
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
  /** Bytes of the attachments waiting for their upload (as uploaded: sealed ones are 28 bytes more). */
  attachmentBytes: number;
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
  let attachmentBytes = 0;
  for (const upload of await db.getAll('uploads')) {
    if (upload.refused) continue;
    attachmentBytes += upload.bytes.size;
    // A photo's thumbnail travels with it: one attachment to a person.
    if (upload.thumbnailOf !== undefined) continue;
    waiting[ATTACHMENT_LANE] = (waiting[ATTACHMENT_LANE] ?? 0) + 1;
    total++;
    if (oldestQueuedAt === undefined || upload.queuedAt < oldestQueuedAt) oldestQueuedAt = upload.queuedAt;
  }
  return {
    waiting, total, urgentWaiting, attachmentBytes, ...(oldestQueuedAt === undefined ? {} : { oldestQueuedAt }),
    rejected: await db.getAll('rejected'), status: await getStatus(db),
  };
}

/** The queue by keys: what a frequent reader (the database worker's badges) needs, without any row's content. */
export interface QueueOverview {
  /** The key of every waiting row. */
  keys: RowKey[];
  /** Every attachment waiting for its upload (refused ones too, marked), without its bytes. */
  uploads: { collection: string; docId: string; sha256: string; size: number; queuedAt: number; refused: boolean; writerKey: string; thumbnail: boolean }[];
  oldestQueuedAt?: number;
  rejected: RejectedRow[];
  status: OutboxStatus;
}

/**
 * Reads keys and the head of each lane only, never every queued state: a backlog of thousands of
 * GPS fixes costs a key scan, not a copy of every document.
 */
export async function readOverview(db: OutboxDb): Promise<QueueOverview> {
  const tx = db.transaction(['rows', 'rejected', 'meta', 'uploads']);
  const rows = tx.objectStore('rows');
  const keys = await rows.getAllKeys();
  // Few (a report's signatures and photos): their values hold the bytes as a Blob, which is a handle, not a copy.
  const uploads = (await tx.objectStore('uploads').getAll()).map((u) => ({
    collection: u.collection, docId: u.docId, sha256: u.sha256, size: u.bytes.size, queuedAt: u.queuedAt, refused: !!u.refused, writerKey: writerKeyOf(u.writer), thumbnail: u.thumbnailOf !== undefined,
  }));
  // The first row of each lane (by enqueue order) is that lane's oldest.
  let oldestQueuedAt: number | undefined;
  for (const lane of LANE_ORDER) {
    const cursor = await rows.index('by-lane').openCursor(IDBKeyRange.bound([lane, 0], [lane, Number.MAX_SAFE_INTEGER]));
    const queuedAt = cursor?.value.queuedAt;
    if (queuedAt !== undefined && (oldestQueuedAt === undefined || queuedAt < oldestQueuedAt)) oldestQueuedAt = queuedAt;
  }
  for (const upload of uploads) {
    if (!upload.refused && (oldestQueuedAt === undefined || upload.queuedAt < oldestQueuedAt)) oldestQueuedAt = upload.queuedAt;
  }
  const rejected = (await tx.objectStore('rejected').getAll()) as RejectedRow[];
  await tx.done;
  const status = await getStatus(db);
  return { keys, uploads, ...(oldestQueuedAt !== undefined ? { oldestQueuedAt } : {}), rejected, status };
}
