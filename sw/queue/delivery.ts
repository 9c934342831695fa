import { dpopProof } from '../../shared/crypto/dpop-proof.ts';
import { looksSealed } from '../../shared/crypto/envelope.ts';
import { merge } from '../../shared/merge/index.ts';
import { isCollectionName } from '../../shared/schemas/index.ts';
import {
  ApiClient, apiErrorOf, CONFLICTS_MERGE, dpopAuthorization, ErrorCode, HEADERS, JSON_CONTENT_TYPE, NoticeCode, REJECTIONS_HEADER, SYNC, SYNC_QUERY,
  type ErrorDetail, type RejectionNotice,
} from '../../shared/protocol/index.ts';
import {
  ATTACHMENT_LANE, DELIVERY_ORDER, getSession, LANES, nextUpload, readBatch, refuseUpload, rejectRows, rowKeyOf, setSession, settleRows, updateStatus, uploadDone, uploadKeyOf,
  type Batch, type JsonDoc, type Lane, type OutboxDb, type OutboxSession, type QueuedRow, type QueuedUpload,
} from '../../client/queue/index.ts';
import { uploadAttachment } from './attachment-upload.ts';
import { BATCH_SIZE, COMPRESS_ABOVE_BYTES } from './batching.ts';
import { abortOnCoverageReturn, COVERAGE_RETURNED } from './coverage-return.ts';

export interface DeliveryOptions {
  db: OutboxDb;
  fetch?: typeof fetch;
  now?: () => number;
  /** Stops after this many requests (a service worker must not run forever in one wake-up). */
  maxRequests?: number;
  /** How long one push may take, answer included, for a body of `bytes`; defaults to `requestTimeoutMs`. */
  requestTimeoutMs?: (bytes: number) => number;
}

/**
 * How long a push may take before it counts as lost: 10 s, plus 1 s per 16 KB sent (a large GPS
 * batch on a slow link). In a dead zone (the device says "online", the connection opens or
 * hangs, no data comes back) the browser would wait minutes for an answer that never comes, and
 * the queue with it; a request that times out is retried like any failed one (pushes are
 * idempotent by revision, so a push that did arrive is only written once).
 */
export function requestTimeoutMs(bytes: number): number {
  return 10_000 + Math.ceil(bytes / 16_384) * 1000;
}

/** Why a push was aborted: its own time limit (or the network coming back after it was sent: coverage-return.ts). */
const TIMED_OUT = new Error('no answer in time');

export interface DeliveryResult {
  delivered: number;
  merged: number;
  rejected: number;
  requests: number;
  bytesSent: number;
  /** Attachments the server now holds (uploads finished in this run). */
  uploaded: number;
  /** Attachment bytes sent in this run (PATCH bodies; also counted in `bytesSent`). */
  uploadBytesSent: number;
  /**
   * Pushes and attachment upload requests given up when coverage returned, because they were
   * sent before the device went offline (or while it was), and sent again at once (pushes) or
   * resumed at once from the server's offset (uploads) (coverage-return.ts).
   */
  abandoned: number;
  /** Why delivery stopped before the queue was empty. */
  stoppedBy?: 'network' | 'server' | 'auth' | 'update' | 'limit';
  error?: string;
}

/**
 * Sends the queue to the server, most urgent lane first, one collection per request. Every
 * request is safe to repeat (push is idempotent), so a lost answer only costs a resend. Rows the
 * server refuses move to the rejected list with the reason, never into the void, and do not
 * block the rows behind them.
 *
 * A document has at most one row per request: on a shared device two users' changes to one
 * document are two rows, and the server's answer (conflicts, rejection notices, error details)
 * names documents by id, so it could not say which of two rows of one id it refused. The later
 * row waits for a later request, after the earlier one was settled (queue order per document).
 */
export async function deliverOutbox(options: DeliveryOptions): Promise<DeliveryResult> {
  const { db } = options;
  const now = options.now ?? (() => Date.now());
  const result: DeliveryResult = { delivered: 0, merged: 0, rejected: 0, requests: 0, bytesSent: 0, uploaded: 0, uploadBytesSent: 0, abandoned: 0 };
  const stored = await getSession(db);
  if (!stored || (!stored.credential && !stored.token)) return stop(result, 'auth', 'not signed in on this device yet');
  let session: OutboxSession = stored;
  // One clock correction per run: a proof refused for its time is made again with the server's.
  let clockCorrected = false;
  const batchCap = new Map<Lane, number>();
  // Sealed rows the server answered with a conflict: they wait for the next run, not resent in a loop.
  const held = new Set<string>();

  // The next batch, read while the previous push was on the wire (undefined: read it now).
  let batch: Batch | QueuedUpload | undefined;
  // The bookkeeping of the last delivered batch (rows removed, merges queued again), done while
  // the next push travels: a backlog's pushes follow one another without the queue's IndexedDB
  // work in between (bench:browser's shift backlog: 1-2.9 s of idle time between two GPS pushes
  // of 2,000 points on a busy tablet). Every way out of the loop waits for it first.
  let settling: Promise<void> = Promise.resolve();
  const isHeld = (row: QueuedRow) => held.has(rowKey(row));
  // The GPS backlog (the bulk lane) is settled later still: its answered batches wait here and
  // are removed in one go once the lane is read to its end (or on any way out of the loop), and
  // the next batch is read on from where the last one ended (`after`), skipping nothing. Removing
  // 2,000 rows and reading the next 2,000 are both IndexedDB work on the same store, which the
  // browser runs one transaction after the other: settling each batch before reading the next
  // kept 1-3 s of idle time between two GPS pushes on a busy tablet (bench:browser's shift
  // backlog). A batch answered but not yet removed is sent again only if the worker dies before
  // it is removed, and pushes are idempotent.
  const bulk: Bulk = { answered: [], documents: new Set(), after: undefined, readFrom: new WeakMap() };
  const settleBulk = async (): Promise<void> => {
    const answered = bulk.answered.splice(0);
    bulk.documents.clear();
    for (const { collection, rows, conflicts } of answered) {
      const settled = await settleDelivered(db, collection, rows, conflicts, held);
      result.merged += settled.merged;
      result.delivered += rows.length - settled.held;
    }
  };
  const settleAll = async (): Promise<void> => {
    await settling;
    await settleBulk();
  };
  const failAfterSettling = async (stoppedBy: NonNullable<DeliveryResult['stoppedBy']>, error: string): Promise<DeliveryResult> => {
    await settleAll();
    return fail(db, result, stoppedBy, error);
  };
  const readNext = (held: (row: QueuedRow) => boolean) => nextWork(db, batchCap, held, bulk, settleBulk);

  for (;;) {
    if (options.maxRequests !== undefined && result.requests >= options.maxRequests) {
      await settleAll();
      return stop(result, 'limit');
    }
    if (!batch) {
      await settling;
      batch = await readNext(isHeld);
    }
    if (!batch) {
      await settleAll();
      await updateStatus(db, { failures: 0, lastSuccessAt: now(), lastError: undefined, signedOut: false, updateRequired: false });
      return result;
    }
    const work = batch;
    batch = undefined;
    if ('sha256' in work) {
      // An attachment (client/queue/uploads.ts): one tus upload, resumed where the server has it.
      // (The last push's bookkeeping first: every way out of the loop waits for it.)
      await settling;
      const run = await uploadAttachment(db, work, session, {
        ...(options.fetch ? { fetch: options.fetch } : {}), now, requestTimeoutMs: options.requestTimeoutMs ?? requestTimeoutMs,
      });
      result.requests += Math.max(1, run.requests);
      result.bytesSent += run.bytesSent;
      result.uploadBytesSent += run.bytesSent;
      const { outcome } = run;
      switch (outcome.kind) {
        case 'done':
          await uploadDone(db, uploadKeyOf(work));
          result.uploaded++;
          continue;
        case 'refused':
          await refuseUpload(db, uploadKeyOf(work), outcome.code, outcome.reason, now());
          result.rejected++;
          continue;
        case 'auth':
          if (outcome.status === 426) {
            await updateStatus(db, { updateRequired: true });
            return failAfterSettling('update', outcome.reason);
          }
          if (session.credential && outcome.code === ErrorCode.BAD_DPOP_PROOF && !clockCorrected && outcome.serverDate !== undefined) {
            clockCorrected = true;
            session = { ...session, clockOffsetMs: outcome.serverDate - now() };
            await setSession(db, session);
            continue;
          }
          await updateStatus(db, { signedOut: true });
          return failAfterSettling('auth', 'signed out: open the app and unlock it (or sign in again) to send the changes waiting on this device');
        case 'abandoned':
          // Sent before the device went offline (coverage-return.ts): the same upload again at
          // once (nextWork reads it first again), resumed at the server's offset.
          result.abandoned++;
          continue;
        case 'network':
          return failAfterSettling('network', outcome.reason);
        case 'server':
          return failAfterSettling('server', outcome.reason);
      }
    }
    const { collection, rows } = work;
    const schemaVersion = rows[0]!.schemaVersion;
    const body = JSON.stringify(rows.map((r) => ({ ...(r.base ? { assumedMasterState: r.base } : {}), newDocumentState: r.state })));
    const headers: Record<string, string> = { [HEADERS.contentType]: JSON_CONTENT_TYPE };
    let payload: BodyInit = body;
    let size = body.length;
    if (body.length > COMPRESS_ABOVE_BYTES && typeof CompressionStream !== 'undefined') {
      const zipped = await gzip(body);
      payload = zipped as unknown as BodyInit;
      size = zipped.byteLength;
      headers[HEADERS.contentEncoding] = 'gzip';
    }
    const timeoutMs = (options.requestTimeoutMs ?? requestTimeoutMs)(size);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(TIMED_OUT), timeoutMs);
    const stopWatching = abortOnCoverageReturn(abort);
    result.requests++;
    result.bytesSent += size;
    const sending = (async (): Promise<{ response: Response; answer: string }> => {
      const api = new ApiClient({ serverUrl: session.serverUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
      const query = { [SYNC_QUERY.schemaVersion]: schemaVersion, [SYNC_QUERY.conflicts]: CONFLICTS_MERGE };
      const response = await api.send(SYNC.push, {
        params: { collection }, query,
        token: session.credential ? false : session.token,
        headers: session.credential ? { ...headers, ...await credentialHeaders(session, api.url(SYNC.push, { collection }, query), now()) } : headers,
        body: payload, signal: abort.signal,
      });
      return { response, answer: await response.text() };
    })();
    sending.catch(() => undefined);
    // While it travels: the previous batch's bookkeeping, then the next batch. The rows on the
    // wire count as held for that read, so a later row of one of their documents waits too (queue
    // order per document); a row this push does not settle (a merge queued again, a sealed
    // conflict, a refusal) is read again after it.
    const inFlight = new Set(rows.map(rowKey));
    const ahead = settling.then(() => readNext((row) => isHeld(row) || inFlight.has(rowKey(row))));
    ahead.catch(() => undefined);
    let response: Response;
    let answer: string;
    try {
      ({ response, answer } = await sending);
    } catch (error) {
      // Why it ended, read now: the watcher and the timer would otherwise go on while the
      // read-ahead finishes, and could relabel a request that failed on its own.
      const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
      clearTimeout(timer);
      stopWatching();
      const dropped = await ahead;
      if (reason === COVERAGE_RETURNED) {
        // Sent before the device went offline (or while it was): see coverage-return.ts. Sent again
        // now, from the queue, as a new request: its rows are still there (nothing was settled),
        // and the read-ahead is dropped like after a 413, the GPS lane read again from where
        // the first of the two was read.
        const reread = [work, dropped].find((b): b is Batch => b !== undefined && bulk.readFrom.has(b));
        if (reread) bulk.after = bulk.readFrom.get(reread);
        result.abandoned++;
        continue;
      }
      const why = reason === TIMED_OUT ? `no answer within ${+(timeoutMs / 1000).toFixed(1)} s` : error instanceof Error ? error.message : String(error);
      return failAfterSettling('network', `server unreachable (${why})`);
    } finally {
      clearTimeout(timer);
      stopWatching();
    }
    const next = await ahead;

    if (response.ok) {
      let conflicts: JsonDoc[];
      try {
        conflicts = JSON.parse(answer) as JsonDoc[];
      } catch {
        // A cut or garbled answer: the push may have been written; sending it again is safe.
        return failAfterSettling('network', 'server unreachable (the answer was cut off)');
      }
      // Rows an access rule refused come back as conflicts with a reason beside them: they are
      // set aside with that reason (the server kept them in quarantine), never merged and resent.
      const notices = rejectionNotices(response);
      const refused = rows.filter((r) => notices.has(r.id));
      if (refused.length > 0) {
        for (const row of refused) {
          const notice = notices.get(row.id)!;
          result.rejected += await reject(db, [row], notice.code, notice.reason, now());
        }
      }
      const refusedIds = new Set(refused.map((r) => r.id));
      const sent = rows.filter((r) => !refusedIds.has(r.id));
      const answered = conflicts.filter((c) => !refusedIds.has(String(c['id'])));
      if (rows[0]!.lane === LANES.bulk) {
        bulk.answered.push({ collection, rows: sent, conflicts: answered });
        for (const row of sent) bulk.documents.add(documentKey(row));
      } else {
        settling = settleDelivered(db, collection, sent, answered, held)
          .then((settled) => {
            result.merged += settled.merged;
            result.delivered += sent.length - settled.held;
          });
      }
      // Nothing to read ahead (or only rows of documents this push may still hand back): read
      // again once it is settled.
      batch = next;
      continue;
    }
    // Not taken (a 413, a refusal): this batch is split or set aside and the read-ahead (`next`)
    // is dropped, yet the bulk lane's read position had moved past both. The lane is read on
    // again from where the first of them was read (right after the last GPS row the server took),
    // or their points would reach the server only at the end of the run, after later ones, and
    // the server and dispatch take the last point received as the unit's position.
    const dropped = [work, next].find((b): b is Batch => b !== undefined && bulk.readFrom.has(b));
    if (dropped) bulk.after = bulk.readFrom.get(dropped);
    const error = apiErrorOf(response.status, answer);
    switch (response.status) {
      case 401: {
        // A proof refused for its time (a tablet's clock off by minutes): proofs carry the
        // server's time from now on, learned from this answer's Date. Once per run.
        const serverDate = Date.parse(response.headers.get('date') ?? '');
        if (session.credential && error.code === ErrorCode.BAD_DPOP_PROOF && !clockCorrected && Number.isFinite(serverDate)) {
          clockCorrected = true;
          session = { ...session, clockOffsetMs: serverDate - now() };
          await setSession(db, session);
          continue;
        }
        // The credential can not be renewed here (that needs the user's unlock): the page gets a
        // new one at the next unlock online; until then the changes wait, sealed.
        await updateStatus(db, { signedOut: true });
        return failAfterSettling('auth', 'signed out: open the app and unlock it (or sign in again) to send the changes waiting on this device');
      }
      case 413:
        if (rows.length > 1) {
          batchCap.set(rows[0]!.lane, Math.max(1, Math.floor(rows.length / 2)));
          continue;
        }
        result.rejected += await reject(db, rows, error.code, error.message, now());
        continue;
      case 426:
        await updateStatus(db, { updateRequired: true });
        return failAfterSettling('update', error.message);
      default:
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          result.rejected += await reject(db, refusedRows(rows, error), error.code, error.message, now());
          continue;
        }
        return failAfterSettling('server', `the server could not take the changes (${response.status}: ${error.message})`);
    }
  }
}

/** `Authorization: DPoP <credential>` and a proof made for this very call (RFC 9449; docs/protocol.md §3). */
async function credentialHeaders(session: OutboxSession, url: string, nowMs: number): Promise<Record<string, string>> {
  const credential = session.credential!;
  const iat = Math.floor((nowMs + (session.clockOffsetMs ?? 0)) / 1000);
  return {
    [HEADERS.authorization]: dpopAuthorization(credential.token),
    [HEADERS.dpop]: await dpopProof({ keys: credential.keys, method: SYNC.push.method, url, credential: credential.token, iat }),
  };
}

/** The bulk lane's answered batches not yet removed from the queue, and where its next read starts. */
interface Bulk {
  answered: { collection: string; rows: QueuedRow[]; conflicts: JsonDoc[] }[];
  /** Their documents: a later row of one of them waits until they are removed (queue order per document). */
  documents: Set<string>;
  /** The `order` of the last row read from the lane in this run (undefined: read from its head). */
  after: number | undefined;
  /** Where each batch read from the lane was read from (its `after`): where to read again if it is not taken. */
  readFrom: WeakMap<Batch | QueuedUpload, number | undefined>;
}

/** Answered bulk rows removed at the latest when this many wait (what a long backlog keeps in memory). */
const BULK_SETTLE_EVERY = 10_000;

/**
 * What is sent next, in delivery order (client/queue/lanes.ts): the most urgent lane's next batch
 * (client/queue/head.ts, at most its batch size, halved after a 413), or, once reports, statuses
 * and jobs are out, the next attachment, before the GPS backlog. The backlog is read on from
 * where its last batch ended; at its end, the answered batches are removed and it is read once
 * more from its head, for the rows passed over (changed while in flight, queued again after a
 * merge, another writer's row of a document that was on the wire).
 */
async function nextWork(
  db: OutboxDb, caps: Map<Lane, number>, held: (row: QueuedRow) => boolean, bulk: Bulk, settleBulk: () => Promise<void>,
): Promise<Batch | QueuedUpload | undefined> {
  for (const lane of DELIVERY_ORDER) {
    if (lane === ATTACHMENT_LANE) {
      const upload = await nextUpload(db);
      if (upload) return upload;
      continue;
    }
    const limit = caps.get(lane) ?? BATCH_SIZE[lane];
    if (lane !== LANES.bulk) {
      const batch = await readBatch(db, lane, limit, held);
      if (batch) return batch;
      continue;
    }
    if (bulk.answered.reduce((n, a) => n + a.rows.length, 0) >= BULK_SETTLE_EVERY) await settleBulk();
    const waiting = (row: QueuedRow) => held(row) || bulk.documents.has(documentKey(row));
    let batch = await readBatch(db, lane, limit, waiting, bulk.after);
    if (!batch && bulk.after !== undefined) {
      await settleBulk();
      bulk.after = undefined;
      batch = await readBatch(db, lane, limit, held);
    }
    if (batch) {
      bulk.readFrom.set(batch, bulk.after);
      bulk.after = batch.rows[batch.rows.length - 1]!.order;
      return batch;
    }
  }
  return undefined;
}

const rowKey = (row: QueuedRow) => JSON.stringify(rowKeyOf(row));
const documentKey = (row: QueuedRow) => `${row.collection}|${row.id}`;

/**
 * Removes what the server now holds. A row changed again while it was in flight stays, with the
 * sent state as its new base. A conflict the server returned (an older server without merge
 * mode) is merged here with the same shared merge function and queued again, unless the row is
 * sealed: this worker cannot read it (and must not keep the returned state in clear), so the
 * row stays as it is for the server to merge when it is sent again, in a later run.
 */
async function settleDelivered(
  db: OutboxDb, collection: string, sent: QueuedRow[], conflicts: JsonDoc[], held: Set<string>,
): Promise<{ merged: number; held: number }> {
  const conflictById = new Map(conflicts.map((c) => [String(c['id']), c]));
  let merged = 0;
  let kept = 0;
  await settleRows(db, sent, (row, current) => {
    const master = conflictById.get(row.id);
    if (master && (looksSealed(current.state) || looksSealed(current.base))) {
      held.add(rowKey(row));
      kept++;
      return { kind: 'held' };
    }
    if (master && isCollectionName(collection)) {
      merged++;
      return { kind: 'requeue', base: master, state: merge(collection, { ...(row.base ? { base: row.base } : {}), master, incoming: current.state }) };
    }
    return { kind: 'delivered' };
  });
  return { merged, held: kept };
}

function rejectionNotices(response: Response): Map<string, RejectionNotice> {
  const header = response.headers.get(REJECTIONS_HEADER);
  const notices = new Map<string, RejectionNotice>();
  if (!header) return notices;
  try {
    for (const notice of JSON.parse(header) as RejectionNotice[]) {
      // ALREADY_REFUSED acknowledges a resend of something refused earlier: nothing new to keep.
      if (notice.code !== NoticeCode.ALREADY_REFUSED) notices.set(notice.id, notice);
    }
  } catch {
    // A cut or garbled header: the durable list (SYNC.rejections) still has the reasons.
  }
  return notices;
}

function refusedRows(rows: QueuedRow[], error: { details?: ErrorDetail[] | undefined }): QueuedRow[] {
  const indexes = new Set((error.details ?? []).map((d) => d.index).filter((i): i is number => typeof i === 'number'));
  const ids = new Set((error.details ?? []).map((d) => d.id).filter((i): i is string => typeof i === 'string'));
  const named = rows.filter((row, i) => indexes.has(i) || ids.has(row.id));
  return named.length > 0 ? named : rows;
}

/** Refused rows go to the queue's rejected list with the server's reason (client/queue/settle.ts). */
function reject(db: OutboxDb, rows: QueuedRow[], code: string, reason: string, at: number): Promise<number> {
  return rejectRows(db, rows, code, reason, at);
}

async function fail(db: OutboxDb, result: DeliveryResult, stoppedBy: NonNullable<DeliveryResult['stoppedBy']>, error: string): Promise<DeliveryResult> {
  const status = await updateStatus(db, { lastError: error, lastErrorAt: Date.now() });
  await updateStatus(db, { failures: status.failures + 1 });
  return stop(result, stoppedBy, error);
}

function stop(result: DeliveryResult, stoppedBy: NonNullable<DeliveryResult['stoppedBy']>, error?: string): DeliveryResult {
  return { ...result, stoppedBy, ...(error ? { error } : {}) };
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
