/**
 * Attachments waiting for their upload: the bytes of a signature or photo (and of its thumbnail)
 * captured on this device, kept in the queue's `uploads` store until the service worker has
 * uploaded them (tus, sw/queue/attachment-upload.ts). They are a lane of their own: after the
 * reports and statuses, before the GPS backlog (lanes.ts `DELIVERY_ORDER`).
 *
 * For collections that are sealed on the device (ePCRs) the bytes are sealed with the transport
 * key (shared/crypto/sealed-bytes.ts), as queued documents are: the service worker uploads them
 * with the app closed and locked and never holds a key, and nothing here is readable without the
 * user's unlock. The upload's URL and the offset the server confirmed are kept beside the bytes,
 * so an upload cut off by a lost connection, a closed app or a browser restart goes on from
 * there, never from byte zero.
 */
import type { OutboxDb } from './database.ts';
import { uploadKeyOf, type QueuedUpload, type UploadKey } from './rows.ts';

/**
 * Queues attachments in one transaction (an attachment and its thumbnail together); resolves once
 * committed. The same bytes queued again for the same document change nothing.
 */
export async function enqueueUploads(db: OutboxDb, uploads: Omit<QueuedUpload, 'order' | 'queuedAt'>[], now = Date.now()): Promise<void> {
  const tx = db.transaction(['uploads', 'meta'], 'readwrite');
  const meta = tx.objectStore('meta');
  let order = ((await meta.get('order')) as number | undefined) ?? 0;
  for (const upload of uploads) {
    if (await tx.objectStore('uploads').get(uploadKeyOf(upload))) continue;
    await tx.objectStore('uploads').put({ ...upload, order: ++order, queuedAt: now });
  }
  await meta.put(order, 'order');
  await tx.done;
}

/** The next attachment to upload, in queue order: not refused and not `skip`ped (failed in this run). */
export async function nextUpload(db: OutboxDb, skip: (upload: QueuedUpload) => boolean = () => false): Promise<QueuedUpload | undefined> {
  const tx = db.transaction('uploads');
  let cursor = await tx.store.index('by-order').openCursor();
  while (cursor) {
    if (!cursor.value.refused && !skip(cursor.value)) {
      const found = cursor.value;
      await tx.done;
      return found;
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  return undefined;
}

/** Records where the upload stands (its URL, the confirmed offset); nothing when it is gone meanwhile. */
export async function noteUploadProgress(db: OutboxDb, key: UploadKey, progress: { uploadUrl?: string; offset?: number }): Promise<void> {
  const tx = db.transaction('uploads', 'readwrite');
  const current = await tx.store.get(key);
  if (current) await tx.store.put({ ...current, ...progress });
  await tx.done;
}

/** The server holds the bytes: the upload leaves the queue. */
export async function uploadDone(db: OutboxDb, key: UploadKey): Promise<void> {
  await db.delete('uploads', key);
}

/**
 * The server refused the upload (a 4xx naming the problem): it stays, with the reason, and the
 * refusal is listed with the queue's refused changes for a person to see; it is not tried again.
 */
export async function refuseUpload(db: OutboxDb, key: UploadKey, code: string, reason: string, at = Date.now()): Promise<void> {
  const tx = db.transaction(['uploads', 'rejected'], 'readwrite');
  const current = await tx.objectStore('uploads').get(key);
  if (current) {
    await tx.objectStore('uploads').put({ ...current, refused: { code, reason, at } });
    await tx.objectStore('rejected').add({
      collection: current.collection, id: current.docId, code, reason: `Attachment ${current.sha256.slice(0, 12)}… (${current.contentType}, ${current.size} bytes): ${reason}`, at,
      state: { id: current.docId, attachment: current.sha256 }, ...(current.writer ? { writer: current.writer } : {}),
    });
  }
  await tx.done;
}

/** The attachments of one document waiting on this device (the device's own copy of their bytes). */
export async function uploadsOf(db: OutboxDb, collection: string, docId: string): Promise<QueuedUpload[]> {
  return db.getAll('uploads', IDBKeyRange.bound([collection, docId], [collection, docId, []]));
}

/** One waiting attachment, bytes included. */
export async function queuedUpload(db: OutboxDb, key: UploadKey): Promise<QueuedUpload | undefined> {
  return db.get('uploads', key);
}
