/**
 * Attachments in the database worker: keeping a captured signature or photo with its report, and
 * reading an attachment's bytes back for the screen.
 *
 * Keeping one: the bytes (and the thumbnail's) go into the outbound queue's `uploads`
 * (client/queue/uploads.ts), sealed with the transport key for collections sealed on the device
 * (ePCRs), in one transaction; then the document gets the attachment's metadata (an `append` to
 * `attachments`), which replicates like any edit. Bytes first: a document never names bytes the
 * device did not keep. The service worker uploads them after the reports (sw/queue/).
 *
 * Reading one: from the queue while it waits there (opened with the transport key, in this
 * worker's memory only), otherwise from the server (`ATTACHMENTS.read`, the user's access token),
 * which is how another device that opens the report gets them: on demand, thumbnail first.
 * Nothing read is stored: the server answers `Cache-Control: no-store`.
 */
import { sealedOnDevice } from '../../shared/access/policy.ts';
import { sha256HexOf } from '../../shared/crypto/sealed-bytes.ts';
import { ApiClient, ATTACHMENTS, readApiError } from '../../shared/protocol/index.ts';
import type { CollectionName } from '../../shared/schemas/index.ts';
import { enqueueUploads, queuedUpload, type OutboxDb, type QueuedUpload, type QueueWriter } from '../queue/index.ts';
import type { QueueProtection } from '../sync/queue-seal.ts';
import type { AttachmentBytes, CapturedAttachment, JsonDoc, Op } from './api.ts';

export interface WorkerAttachmentsContext {
  outbox: () => Promise<OutboxDb>;
  protection: () => QueueProtection;
  userId: () => string | undefined;
  serverUrl: () => string;
  getToken: () => Promise<string>;
  mutate: (collection: CollectionName, id: string, ops: Op[]) => Promise<JsonDoc>;
  /** The queue got new work: wake the service worker, read the queue for the status. */
  queued: () => void;
}

/** This device cannot keep an attachment of a sealed collection sealed (signed in before transport keys existed). */
export class AttachmentNotKeptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachmentNotKeptError';
  }
}

export class WorkerAttachments {
  constructor(private readonly context: WorkerAttachmentsContext) {}

  async attach(collection: CollectionName, docId: string, captured: CapturedAttachment): Promise<JsonDoc> {
    const protection = this.context.protection();
    const sealed = sealedOnDevice(collection);
    if (sealed && protection.kind === 'direct') {
      throw new AttachmentNotKeptError('This device has no key to keep attachments sealed. Sign in again while online (once), then capture it again.');
    }
    const userId = this.context.userId();
    const prepare = async (bytes: Uint8Array<ArrayBuffer>, contentType: string, thumbnailOf?: string): Promise<Omit<QueuedUpload, 'order' | 'queuedAt'>> => {
      const sha256 = await sha256HexOf(bytes);
      const seal = sealed && protection.kind === 'sealed' ? protection.key : undefined;
      const stored = seal ? await seal.sealBytes({ collection, docId, sha256 }, bytes) : bytes;
      const writer: QueueWriter | undefined = userId ? { userId, ...(seal ? { kid: seal.kid } : {}) } : undefined;
      return {
        collection, docId, sha256, contentType, size: bytes.byteLength, bytes: new Blob([stored]),
        ...(seal ? { kid: seal.kid } : {}), ...(thumbnailOf ? { thumbnailOf } : {}), ...(writer ? { writer } : {}),
      };
    };
    const original = await prepare(captured.bytes, captured.contentType);
    const thumbnail = captured.thumbnail ? await prepare(captured.thumbnail.bytes, captured.thumbnail.contentType, original.sha256) : undefined;
    await enqueueUploads(await this.context.outbox(), thumbnail ? [original, thumbnail] : [original]);
    const item: JsonDoc = {
      ...captured.item, sha256: original.sha256, contentType: captured.contentType, size: original.size,
      ...(thumbnail ? { thumbnail: { sha256: thumbnail.sha256, contentType: thumbnail.contentType, size: thumbnail.size } } : {}),
    };
    await this.context.mutate(collection, docId, [{ op: 'append', path: ['attachments'], value: item }]);
    this.context.queued();
    return item;
  }

  /** The bytes of an attachment (or thumbnail) of a document: from this device while they wait here, else from the server. */
  async bytes(collection: CollectionName, docId: string, sha256: string): Promise<AttachmentBytes> {
    const waiting = await queuedUpload(await this.context.outbox(), [collection, docId, sha256]).catch(() => undefined);
    if (waiting) {
      const raw = new Uint8Array(await waiting.bytes.arrayBuffer());
      const protection = this.context.protection();
      if (!waiting.kid) return { bytes: raw, contentType: waiting.contentType, source: 'device' };
      if (protection.kind === 'sealed') {
        const clear = await protection.key.openBytes({ kid: waiting.kid, collection, docId, sha256 }, raw).catch(() => undefined);
        if (clear) return { bytes: clear, contentType: waiting.contentType, source: 'device' };
      }
      // Sealed under an earlier sign-in's key: only the server can show it, once it is uploaded.
    }
    const api = new ApiClient({ serverUrl: this.context.serverUrl() });
    const response = await api.send(ATTACHMENTS.read, { params: { collection, docId, sha256 }, token: await this.context.getToken() });
    if (!response.ok) throw await readApiError(response);
    return { bytes: new Uint8Array(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'application/octet-stream', source: 'server' };
  }
}
