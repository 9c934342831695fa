/**
 * `/api/attachments`: tus 1.0 uploads (OPTIONS, POST, HEAD, PATCH) and the read of stored bytes.
 *
 * The upload routes are Fastify routes, so authentication (a bearer token, or the service
 * worker's push-only device credential with a DPoP proof per request), the rate limits and the
 * error shape are the server's own; every check that can be made before bytes are accepted is
 * made here and answered in the protocol's error shape. Then the request goes, raw, to
 * @tus/server (tus-server.ts), which handles offsets, locking, expiry and storage of the bytes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Upload } from '@tus/utils';
import { ATTACHMENTS, ErrorCode, TUS_CONTENT_TYPE, TUS_HEADERS, TUS_VERSION, type Identity } from '../../shared/protocol/index.ts';
import { sealedOnDevice } from '../../shared/access/policy.ts';
import { isAttachmentCollection, SHA256_PATTERN } from '../../shared/schemas/attachments.ts';
import { UUID_V4_PATTERN } from '../../shared/schemas/common.ts';
import { actorOf } from '../auth/actor.ts';
import type { DeviceCredentials } from '../auth/device-credential.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { checkMayUpload, readableAttachment } from './access.ts';
import { appendUploadSchema, createUploadSchema, readAttachmentSchema, uploadOffsetSchema, uploadOptionsSchema } from './route-schemas.ts';
import type { AttachmentStorage, FinishedUpload } from './storage.ts';
import { BEING_STORED_MESSAGE, BEING_STORED_RETRY_AFTER_S, OWNER_TENANT, OWNER_USER, type AttachmentTus } from './tus-server.ts';
import { attachmentMetadataOf, decodeUploadMetadata } from './upload-metadata.ts';

export interface AttachmentRoutesOptions {
  auth: Authenticator;
  deviceCredentials: DeviceCredentials | undefined;
  storage: AttachmentStorage;
  tus: AttachmentTus;
  maxBytes: number;
}

const SHA256 = new RegExp(SHA256_PATTERN);
const DOC_ID = new RegExp(UUID_V4_PATTERN);
const WHOLE_NUMBER = /^[0-9]{1,15}$/;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function requireTusVersion(request: FastifyRequest): void {
  if (header(request, TUS_HEADERS.resumable) !== TUS_VERSION) {
    throw new HttpError(412, ErrorCode.TUS_VERSION_UNSUPPORTED, `Send ${TUS_HEADERS.resumable}: ${TUS_VERSION}; this server speaks tus ${TUS_VERSION} only.`);
  }
}

export async function attachmentRoutes(app: FastifyInstance, options: AttachmentRoutesOptions): Promise<void> {
  const { storage, tus, maxBytes } = options;
  await app.register(requireIdentity, { auth: options.auth, deviceCredentials: options.deviceCredentials });
  // The bytes are @tus/server's to read, straight from the socket: Fastify must not parse them.
  app.addContentTypeParser(TUS_CONTENT_TYPE, (_request, _payload, done) => done(null, undefined));

  const tooLarge = (bytes: number) => new HttpError(413, ErrorCode.ATTACHMENT_TOO_LARGE, `The attachment is ${bytes} bytes; this server takes at most ${maxBytes} (ATTACHMENT_MAX_BYTES). Compress or resize it on the device.`);

  /** The upload, if it is the caller's and still live; the same 404 for "none" and "another user's". */
  const ownUpload = async (request: FastifyRequest<{ Params: { uploadId: string } }>): Promise<Upload> => {
    const identity = request.identity;
    let upload: Upload | undefined;
    try {
      upload = await storage.uploads.getUpload(request.params.uploadId);
    } catch {
      upload = undefined;
    }
    if (!upload || upload.metadata?.[OWNER_TENANT] !== identity.tenantId || upload.metadata?.[OWNER_USER] !== identity.userId) {
      throw new HttpError(404, ErrorCode.UPLOAD_NOT_FOUND, `There is no upload ${request.params.uploadId.slice(0, 80)} of yours; create a new one (POST).`);
    }
    const created = upload.creation_date ? Date.parse(upload.creation_date) : Date.now();
    // Only an incomplete upload expires (as in the stores' sweeps): one holding every byte is
    // finished or being finished (settleComplete), and deleting it here would pull its bytes
    // from under a running finish and make the device send them all again.
    const complete = upload.size !== undefined && upload.offset === upload.size;
    if (!complete && created + storage.uploads.getExpiration() < Date.now()) {
      await storage.discardUpload(upload.id);
      throw new HttpError(410, ErrorCode.UPLOAD_EXPIRED, 'This incomplete upload expired and was deleted; create a new one (POST) and send the bytes again.');
    }
    return upload;
  };

  /**
   * The caller's upload if it finished (stored) within the upload expiry: its HEAD is then
   * answered "complete" (a device whose last PATCH answer was lost stops there, having sent every
   * byte once). Another user's finished upload is not theirs: they get ownUpload's 404.
   */
  const ownFinishedUpload = async (request: FastifyRequest<{ Params: { uploadId: string } }>): Promise<FinishedUpload | undefined> => {
    const finished = await storage.finishedUpload(request.params.uploadId, Date.now());
    const identity = request.identity;
    return finished && finished.tenantId === identity.tenantId && finished.userId === identity.userId ? finished : undefined;
  };

  const beingStored = (reply: FastifyReply): HttpError => {
    reply.header('retry-after', String(BEING_STORED_RETRY_AFTER_S));
    return new HttpError(423, ErrorCode.UPLOAD_BEING_STORED, BEING_STORED_MESSAGE);
  };

  /**
   * The caller's upload holding every byte but not finished: never handed to @tus/server, which
   * would answer "offset = length" (success, to tus-js-client) before the finish decides. Its
   * finish running (the last PATCH's, or the sweep's, anywhere), or no claim to be had within the
   * wait's bound: 423 and Retry-After. None running (a crash cut it short): run here, as the
   * caller (its uploader), and answered by its result. Undefined when bytes are still missing;
   * otherwise the finished upload, or throws the refusal.
   */
  const finishComplete = async (request: FastifyRequest, reply: FastifyReply, uploadId: string): Promise<FinishedUpload | undefined> => {
    const outcome = await tus.finish(uploadId, request.identity);
    switch (outcome.kind) {
      case 'incomplete':
        return undefined;
      case 'stored':
        return { uploadId, tenantId: request.identity.tenantId, userId: request.identity.userId, size: outcome.size, finishedAt: Date.now() };
      case 'refused':
        throw new HttpError(outcome.status, outcome.code, outcome.message);
      case 'busy':
        throw beingStored(reply);
      case 'gone':
        throw new HttpError(404, ErrorCode.UPLOAD_NOT_FOUND, `There is no upload ${uploadId.slice(0, 80)} of yours any more; create a new one (POST).`);
    }
  };

  const settleComplete = async (request: FastifyRequest, reply: FastifyReply, upload: Upload): Promise<FinishedUpload | undefined> =>
    upload.size === undefined || upload.offset !== upload.size ? undefined : finishComplete(request, reply, upload.id);

  /** 409 with the server's offset: a PATCH to an upload that is complete (stored). */
  const completeConflict = (reply: FastifyReply, finished: FinishedUpload): HttpError => {
    // A PATCH without the HEAD first (a client that trusted its own offset): nothing more to
    // take. 409 with the server's offset, as for any offset mismatch: tus-js-client (and the
    // service worker's queue) then asks with HEAD, is told it is complete, and sends nothing.
    reply.header(TUS_HEADERS.resumable, TUS_VERSION).header(TUS_HEADERS.uploadOffset, String(finished.size));
    return new HttpError(409, ErrorCode.UPLOAD_OFFSET_MISMATCH, `This upload is complete: the server stored all its ${finished.size} bytes. Send nothing more (HEAD answers ${TUS_HEADERS.uploadOffset} = ${TUS_HEADERS.uploadLength} = ${finished.size}).`);
  };

  const answerComplete = (reply: FastifyReply, finished: FinishedUpload) =>
    reply.status(200).header(TUS_HEADERS.resumable, TUS_VERSION).header(TUS_HEADERS.uploadOffset, String(finished.size))
      .header(TUS_HEADERS.uploadLength, String(finished.size)).header('cache-control', 'no-store').send();

  const handOver = async (request: FastifyRequest, reply: FastifyReply, identity?: Identity): Promise<void> => {
    if (identity) tus.rememberCaller(request.raw, identity);
    // Hijacked answers skip the onSend hooks: set what they would have.
    reply.raw.setHeader('cache-control', 'no-store');
    reply.raw.setHeader('x-request-id', String(request.id));
    reply.hijack();
    await tus.server.handle(request.raw, reply.raw);
  };

  app.options(ATTACHMENTS.uploadOptions.route, { schema: uploadOptionsSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => handOver(request, reply));

  app.post(ATTACHMENTS.createUpload.route, { schema: createUploadSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    requireTusVersion(request);
    const length = header(request, TUS_HEADERS.uploadLength);
    if (length === undefined || !WHOLE_NUMBER.test(length) || Number(length) === 0) {
      throw new HttpError(400, ErrorCode.BAD_UPLOAD_METADATA, `Send ${TUS_HEADERS.uploadLength}: the attachment's size in bytes (a whole number above 0); deferred lengths are not supported.`);
    }
    if (Number(length) > maxBytes) throw tooLarge(Number(length));
    const pairs = decodeUploadMetadata(header(request, TUS_HEADERS.uploadMetadata));
    const metadata = attachmentMetadataOf(pairs);
    // As for pushes (replication/envelopes.ts): the service worker's credential carries only what the
    // device sealed with its transport key for a collection sealed on the device, so clear bytes
    // of an ePCR from that credential are refused before any byte is accepted.
    if (request.pushOnly && sealedOnDevice(metadata.collection) && !pairs['kid']) {
      throw new HttpError(403, ErrorCode.PUSH_ONLY_CREDENTIAL, `An attachment of ${metadata.collection} is not sealed: with a device credential (Authorization: DPoP) only attachments sealed with the device's transport key (a kid in Upload-Metadata) are accepted. Nothing was stored.`);
    }
    await checkMayUpload(app.accessControl, app.store, request.identity, metadata.collection, metadata.docId, metadata.sha256);
    await handOver(request, reply, request.identity);
  });

  app.head<{ Params: { uploadId: string } }>(ATTACHMENTS.uploadOffset.route, { schema: uploadOffsetSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    requireTusVersion(request);
    const finished = await ownFinishedUpload(request);
    if (finished) return answerComplete(reply, finished);
    let upload: Upload;
    try {
      upload = await ownUpload(request);
    } catch (error) {
      // The last PATCH may have remembered and deleted the upload between the two reads: a device
      // told 404 would send the whole file again, so the finished row is asked once more first.
      if (error instanceof HttpError && error.statusCode === 404) {
        const finishedMeanwhile = await ownFinishedUpload(request);
        if (finishedMeanwhile) return answerComplete(reply, finishedMeanwhile);
      }
      throw error;
    }
    const settled = await settleComplete(request, reply, upload);
    if (settled) return answerComplete(reply, settled);
    // Still taking bytes when read above: @tus/server answers, after taking the upload's lock (a
    // PATCH cut at the socket is stopped first and its bytes counted, so the offset is exact).
    // Its answer is read before anything is sent: a PATCH may have written the last bytes since
    // the read above (on this process, or another), and @tus/server then says "offset = length",
    // which tus-js-client takes for success though the finish may not have claimed the upload yet,
    // let alone decided. So that answer is never passed on: the finished row or the finish decides.
    const answer = await tus.server.handleWeb(new Request(new URL(request.raw.url ?? '/', 'http://127.0.0.1'), {
      method: 'HEAD', headers: { [TUS_HEADERS.resumable]: TUS_VERSION },
    }));
    const offset = answer.headers.get(TUS_HEADERS.uploadOffset);
    if (answer.status === 200 && offset !== null && offset === answer.headers.get(TUS_HEADERS.uploadLength)) {
      const finishedMeanwhile = await ownFinishedUpload(request);
      if (finishedMeanwhile) return answerComplete(reply, finishedMeanwhile);
      const settledNow = await finishComplete(request, reply, upload.id);
      if (settledNow) return answerComplete(reply, settledNow);
      // Offsets only grow, so this is not expected; ask again rather than be told "complete".
      throw beingStored(reply);
    }
    if (answer.status !== 200) {
      // No such upload (404), expired (410), or any other refusal, read after the route's read
      // above: the last PATCH may have stored, remembered and deleted the upload in between (here
      // or on another process), and a device told 404 sends the whole file again (a second PHI
      // audit entry). So the finished row is asked again, and an upload holding every byte is
      // finished, before @tus/server's answer is passed on.
      const finishedMeanwhile = await ownFinishedUpload(request);
      if (finishedMeanwhile) return answerComplete(reply, finishedMeanwhile);
      const outcome = await tus.finish(upload.id, request.identity);
      if (outcome.kind === 'stored') return answerComplete(reply, { uploadId: upload.id, tenantId: request.identity.tenantId, userId: request.identity.userId, size: outcome.size, finishedAt: Date.now() });
      if (outcome.kind === 'refused') throw new HttpError(outcome.status, outcome.code, outcome.message);
      if (outcome.kind === 'busy') throw beingStored(reply);
      // Gone or still missing bytes: @tus/server's answer stands.
    }
    reply.status(answer.status).header('cache-control', 'no-store');
    answer.headers.forEach((value, name) => {
      if (name === 'content-length') return;
      // The server's own keys (the uploader it sealed, tus-server.ts) are not the device's to read.
      reply.header(name, name === 'upload-metadata' ? withoutServerKeys(value) : value);
    });
    return reply.send(await answer.text());
  });

  app.patch<{ Params: { uploadId: string } }>(ATTACHMENTS.appendUpload.route, { schema: appendUploadSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    requireTusVersion(request);
    const type = header(request, 'content-type');
    if (type?.split(';')[0]?.trim().toLowerCase() !== TUS_CONTENT_TYPE) {
      throw new HttpError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, `Send the bytes as Content-Type: ${TUS_CONTENT_TYPE}.`);
    }
    const finished = await ownFinishedUpload(request);
    if (finished) throw completeConflict(reply, finished);
    const upload = await ownUpload(request);
    const settled = await settleComplete(request, reply, upload);
    if (settled) throw completeConflict(reply, settled);
    const offset = header(request, TUS_HEADERS.uploadOffset);
    if (offset === undefined || !WHOLE_NUMBER.test(offset) || Number(offset) !== upload.offset) {
      throw new HttpError(409, ErrorCode.UPLOAD_OFFSET_MISMATCH, `${TUS_HEADERS.uploadOffset} must be the server's offset of this upload (${upload.offset}); ask with HEAD and resume from there.`);
    }
    const length = Number(header(request, 'content-length') ?? 0);
    if (upload.size !== undefined && upload.offset + length > upload.size) {
      throw new HttpError(400, ErrorCode.BAD_UPLOAD_METADATA, `This PATCH would take the upload past its ${TUS_HEADERS.uploadLength} (${upload.size} bytes).`);
    }
    await handOver(request, reply, request.identity);
  });

  app.get<{ Params: { collection: string; docId: string; sha256: string } }>(ATTACHMENTS.read.route, { schema: readAttachmentSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const { collection, docId, sha256 } = request.params;
    const identity = request.identity;
    const notFound = new HttpError(404, ErrorCode.ATTACHMENT_NOT_FOUND, 'There is no such attachment that you may read: the document is not one you may read, does not list it, or its bytes have not arrived yet.');
    if (!isAttachmentCollection(collection) || !DOC_ID.test(docId) || !SHA256.test(sha256)) throw notFound;
    const doc = await readableAttachment(app.accessControl, app.store, identity, collection, docId, sha256);
    if (!doc || !await storage.isLinked({ tenantId: identity.tenantId, collection, docId, sha256 })) throw notFound;
    const object = await storage.getObject(sha256);
    if (!object) throw notFound;
    if (app.accessControl.isPhi(collection)) {
      // A clinical image is PHI: every read is in the audit chain, like a report's.
      await app.store.appendAudit([{
        tenantId: identity.tenantId, action: 'attachment_read', actor: actorOf(identity), collection,
        documents: [{ id: docId }], details: { sha256, bytes: object.size, requestId: request.id },
      }]);
    }
    return reply.type(object.contentType).header('cache-control', 'no-store').header('content-length', object.size).send(object.bytes);
  });
}

/** An Upload-Metadata header without the pairs of the server's own `fieldsync…` keys. */
function withoutServerKeys(header: string): string {
  return header.split(',').map((pair) => pair.trim()).filter((pair) => pair && !pair.toLowerCase().startsWith('fieldsync')).join(',');
}
