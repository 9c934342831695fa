/// <reference lib="webworker" />
/**
 * Uploading one waiting attachment (client/queue/uploads.ts) with tus 1.0 (docs/protocol.md
 * "Attachments"), from the service worker. The client is tus-js-client, the protocol's reference
 * client, given a fetch transport (fetch-http-stack.ts: a service worker has no XMLHttpRequest)
 * and none of its own storage or retries: the upload's URL and confirmed offset are kept in the
 * queue beside the bytes, and the queue's backoff decides when to try again. So a cut connection,
 * a closed app or a browser restart resumes at the offset the server confirms (tus HEAD), never
 * at byte zero.
 *
 * Every request carries the same credentials as a push: the push-only device credential with a
 * DPoP proof made for that very request (method and URL), or a bearer token in developer sessions.
 */
import { Upload, type DetailedError, type HttpRequest } from 'tus-js-client';
import { dpopProof } from '../../shared/crypto/dpop-proof.ts';
import { apiErrorOf, ATTACHMENTS, dpopAuthorization, HEADERS, pathOf } from '../../shared/protocol/index.ts';
import { noteUploadProgress, uploadKeyOf, type OutboxDb, type OutboxSession, type QueuedUpload } from '../../client/queue/index.ts';
import { COVERAGE_RETURNED } from './coverage-return.ts';
import { FetchHttpStack } from './fetch-http-stack.ts';

/**
 * Bytes per PATCH. Each chunk the server confirms is kept even when the connection drops inside
 * the next one, and each request's deadline stays short; 2 MiB is a few seconds on a weak
 * cellular link and a small share of a request's cost on a good one.
 */
export const UPLOAD_CHUNK_BYTES = 2 * 1024 * 1024;

export type UploadOutcome =
  | { kind: 'done' }
  /** The server refused these bytes for good (4xx): set aside with its reason. */
  | { kind: 'refused'; code: string; reason: string }
  | { kind: 'auth'; status: number; code: string; reason: string; serverDate?: number }
  | { kind: 'network'; reason: string }
  | { kind: 'server'; status: number; reason: string }
  /**
   * A request sent before the device went offline (or while it was), given up when the network
   * came back (coverage-return.ts): not a failure. The queue tries again at once, and that try
   * `HEAD`s the upload and goes on from the server's offset.
   */
  | { kind: 'abandoned' };

export interface UploadRun {
  outcome: UploadOutcome;
  /** Body bytes handed to the network in this run (PATCH bodies). */
  bytesSent: number;
  /** Where the server said the upload stood when this run began (0: a new upload). */
  resumedAt: number;
  requests: number;
}

export interface AttachmentUploadOptions {
  fetch?: typeof fetch;
  now?: () => number;
  chunkBytes?: number;
  /** How long one request may take for a body of `bytes`. */
  requestTimeoutMs: (bytes: number) => number;
}

export async function uploadAttachment(db: OutboxDb, upload: QueuedUpload, session: OutboxSession, options: AttachmentUploadOptions): Promise<UploadRun> {
  const key = uploadKeyOf(upload);
  const now = options.now ?? (() => Date.now());
  const endpoint = new URL(pathOf(ATTACHMENTS.createUpload), session.serverUrl).toString();
  let bytesSent = 0;
  let requests = 0;
  let resumedAt = 0;
  const stack = new FetchHttpStack({
    ...(options.fetch ? { fetch: options.fetch } : {}),
    timeoutMs: options.requestTimeoutMs,
    onSent: (bytes) => {
      bytesSent += bytes;
      requests++;
    },
  });
  const authorize = async (request: HttpRequest) => {
    if (session.credential) {
      const iat = Math.floor((now() + (session.clockOffsetMs ?? 0)) / 1000);
      request.setHeader(HEADERS.authorization, dpopAuthorization(session.credential.token));
      request.setHeader(HEADERS.dpop, await dpopProof({ keys: session.credential.keys, method: request.getMethod(), url: request.getURL(), credential: session.credential.token, iat }));
    } else if (session.token) {
      request.setHeader(HEADERS.authorization, `Bearer ${session.token}`);
    }
  };
  // Writes to the queue are chained: progress is recorded in the order the server confirmed it.
  let progress: Promise<void> = Promise.resolve();
  const note = (patch: { uploadUrl?: string; offset?: number }) => {
    progress = progress.then(() => noteUploadProgress(db, key, patch)).catch(() => {});
  };

  let uploadUrl = upload.uploadUrl;
  const attempt = () => new Promise<UploadOutcome | Gone | Busy>((resolve) => {
    const tus: Upload = new Upload(upload.bytes, {
      endpoint,
      ...(uploadUrl ? { uploadUrl } : {}),
      uploadSize: upload.bytes.size,
      metadata: {
        sha256: upload.sha256, contentType: upload.contentType, collection: upload.collection, docId: upload.docId,
        ...(upload.kid ? { kid: upload.kid } : {}),
      },
      chunkSize: options.chunkBytes ?? UPLOAD_CHUNK_BYTES,
      // The queue retries with its own backoff, and keeps the URL itself (no localStorage in a service worker).
      retryDelays: null,
      storeFingerprintForResuming: false,
      fingerprint: async () => `${upload.collection}/${upload.docId}/${upload.sha256}`,
      httpStack: stack,
      onBeforeRequest: authorize,
      onAfterResponse: (request, response) => {
        if (request.getMethod() === 'HEAD' && response.getStatus() < 300) resumedAt = Number(response.getHeader('Upload-Offset') ?? 0) || 0;
      },
      onUploadUrlAvailable: () => {
        if (tus.url && tus.url !== uploadUrl) {
          uploadUrl = tus.url;
          note({ uploadUrl: tus.url });
        }
      },
      onChunkComplete: (_chunk, accepted) => note({ offset: accepted }),
      onSuccess: () => resolve({ kind: 'done' }),
      onError: (error) => resolve(outcomeOf(error as DetailedError)),
    });
    tus.start();
  });
  let outcome = await attempt();
  // Every byte arrived and the server is storing them (423): asked again after its Retry-After, in
  // this run and at the same URL, so neither the queue's backoff (up to 30 s after a dead zone's
  // failures) nor a new upload comes in between. A finish longer than BUSY_WAITS is left to the queue.
  for (let waits = 0; outcome.kind === 'busy' && waits < BUSY_WAITS; waits++) {
    const { retryAfterMs } = outcome;
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    outcome = await attempt();
  }
  if (outcome.kind === 'busy') {
    await progress;
    return { outcome: { kind: 'server', status: 423, reason: outcome.reason }, bytesSent, resumedAt, requests };
  }
  if (outcome.kind === 'gone') {
    // The server no longer knows the upload (expired, or its data lost): the next try creates it anew.
    note({ uploadUrl: undefined, offset: 0 });
    await progress;
    return { outcome: { kind: 'server', status: outcome.status, reason: outcome.reason }, bytesSent, resumedAt, requests };
  }
  await progress;
  return { outcome, bytesSent, resumedAt, requests };
}

/** The upload's URL is not known (any more) to the server. */
interface Gone { kind: 'gone'; status: number; reason: string }
/** Every byte arrived and the server is storing them now (423 UPLOAD_BEING_STORED): ask again after `retryAfterMs`. */
interface Busy { kind: 'busy'; retryAfterMs: number; reason: string }

/** 423s waited out in one run (each its Retry-After, about a second) before the queue's backoff takes over. */
const BUSY_WAITS = 10;

/** What the queue does with a failed upload, from the server's answer (or its absence). */
function outcomeOf(error: DetailedError): UploadOutcome | Gone | Busy {
  const response = error.originalResponse;
  if (!response) {
    const cause = error.causingError ?? error;
    if (cause === COVERAGE_RETURNED) return { kind: 'abandoned' };
    return { kind: 'network', reason: `server unreachable (${cause instanceof Error ? cause.message : String(cause)})` };
  }
  const status = response.getStatus();
  const problem = apiErrorOf(status, response.getBody());
  if ((status === 404 || status === 410) && error.originalRequest?.getMethod() !== 'POST') {
    return { kind: 'gone', status, reason: `the server no longer has the upload (${status}); it starts again` };
  }
  if (status === 423) {
    const seconds = Number(response.getHeader('retry-after'));
    const retryAfterMs = Number.isFinite(seconds) ? Math.min(5_000, Math.max(250, seconds * 1000)) : 1_000;
    return { kind: 'busy', retryAfterMs, reason: `the server is still storing the attachment (${status}: ${problem.message})` };
  }
  if (status === 401 || status === 426) {
    const serverDate = Date.parse(response.getHeader('date') ?? '');
    return { kind: 'auth', status, code: problem.code, reason: problem.message, ...(Number.isFinite(serverDate) ? { serverDate } : {}) };
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 423 && status !== 429) {
    return { kind: 'refused', code: problem.code, reason: problem.message };
  }
  return { kind: 'server', status, reason: `the server could not take the attachment (${status}: ${problem.message})` };
}
