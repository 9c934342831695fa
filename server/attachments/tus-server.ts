/**
 * The @tus/server instance behind the upload routes, and what happens when an upload's last byte
 * arrives: the bytes are checked (SHA-256, magic numbers, size), the caller's right to write the
 * document is checked again, and the object is stored once with its link row; a refused upload
 * is deleted with its bytes. The answer to that last PATCH says which (docs/protocol.md §25).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Server, type ServerOptions } from '@tus/server';
import type { Upload } from '@tus/utils';
import { ErrorCode, ROLES, type ErrorBody, type Identity, type Role } from '../../shared/protocol/index.ts';
import { ATTACHMENTS_BASE_PATH } from '../../shared/protocol/paths.ts';
import { HttpError } from '../http/errors.ts';
import { sha256Hex, sniffImageType } from './content-check.ts';
import type { AttachmentLink, AttachmentStorage } from './storage.ts';
import { attachmentMetadataOf } from './upload-metadata.ts';
import { openSealedUpload, type UploadKeyring } from './sealed-upload.ts';

/** Metadata keys the server adds to an upload: whose it is. A client's own values for them are replaced. */
export const OWNER_TENANT = 'fieldsyncTenant';
export const OWNER_USER = 'fieldsyncUser';
/**
 * The rest of the uploader's identity at creation, so the sweep can finish an upload whose
 * uploader never asks again as that uploader (the access re-check, the sealed key's owner, the
 * audit entry's actor), exactly as the uploader's own HEAD would.
 */
const OWNER_ROLE = 'fieldsyncRole';
const OWNER_DEVICE = 'fieldsyncDevice';
const OWNER_UNIT = 'fieldsyncUnit';
const OWNER_TECHNICIAN = 'fieldsyncTechnician';
/**
 * HMAC-SHA256 (a key only the server has) of the upload's id and the owner keys above. Servers
 * before this one kept every key a client sent in Upload-Metadata (they overwrote only the agency
 * and user), so an upload they made may carry a role, device, unit or technician the client wrote:
 * only an upload whose seal matches is trusted to say who made it.
 */
const OWNER_SEAL = 'fieldsyncOwnerSeal';
/** Keys of the server's own: a client's are dropped at creation, whatever the name after the prefix. */
const SERVER_KEY = /^fieldsync/i;

function ownerSealOf(key: Uint8Array, uploadId: string, identity: Identity): string {
  const fields = ['fieldsync upload owner v1', uploadId, identity.tenantId, identity.userId, identity.role, identity.deviceId, identity.unitId ?? null, identity.technicianId ?? null];
  return createHmac('sha256', key).update(JSON.stringify(fields)).digest('base64url');
}

function ownerMetadataOf(key: Uint8Array, uploadId: string, identity: Identity): Record<string, string> {
  return {
    [OWNER_TENANT]: identity.tenantId, [OWNER_USER]: identity.userId, [OWNER_ROLE]: identity.role, [OWNER_DEVICE]: identity.deviceId,
    ...(identity.unitId !== undefined ? { [OWNER_UNIT]: identity.unitId } : {}),
    ...(identity.technicianId !== undefined ? { [OWNER_TECHNICIAN]: identity.technicianId } : {}),
    [OWNER_SEAL]: ownerSealOf(key, uploadId, identity),
  };
}

/**
 * The uploader as at the upload's creation, when the server sealed it so; undefined for an upload
 * without a matching seal (made by an earlier server, whose metadata a client could have written;
 * or sealed with a key the server no longer has).
 */
function uploaderOf(key: Uint8Array, upload: Upload): Identity | undefined {
  const metadata = upload.metadata;
  const tenantId = metadata?.[OWNER_TENANT];
  const userId = metadata?.[OWNER_USER];
  const role = metadata?.[OWNER_ROLE];
  const deviceId = metadata?.[OWNER_DEVICE];
  const seal = metadata?.[OWNER_SEAL];
  if (!tenantId || !userId || !deviceId || !role || !seal || !(ROLES as readonly string[]).includes(role)) return undefined;
  const unitId = metadata?.[OWNER_UNIT];
  const technicianId = metadata?.[OWNER_TECHNICIAN];
  const identity: Identity = { tenantId, userId, deviceId, role: role as Role, ...(unitId ? { unitId } : {}), ...(technicianId ? { technicianId } : {}) };
  const expected = Buffer.from(ownerSealOf(key, upload.id, identity));
  const given = Buffer.from(seal);
  return expected.length === given.length && timingSafeEqual(expected, given) ? identity : undefined;
}

/** What one sweep of the uploads holding every byte did (tus-server.ts sweepComplete). */
export interface CompleteSweep {
  /** Finished now by the sweep (stored, or found stored and its leftover bytes deleted). */
  stored: number;
  /** Refused by the finish the sweep ran: deleted, nothing stored. */
  refused: number;
  /**
   * Not finished by the sweep, left for their uploader's HEAD until the expiry: no uploader the
   * server sealed (an earlier server's upload), or the uploader's account disabled or device revoked.
   */
  left: number;
  /** Could not be finished (as `left`, or its finish failed in two sweeps) and expired: deleted. */
  expired: number;
  /** What failed: a finish (tried again by the next sweep), or the delete of an expired upload (likewise). */
  failures: Array<{ uploadId: string; stage: 'finish' | 'delete'; error: unknown }>;
}

export interface StoredAttachment extends AttachmentLink {
  identity: Identity;
  contentType: string;
  size: number;
  created: boolean;
}

export interface AttachmentTusOptions {
  storage: AttachmentStorage;
  maxBytes: number;
  /** The access re-check at completion (access.ts, checkMayUpload); throws HttpError. */
  checkMayUpload(identity: Identity, collection: string, docId: string, sha256: string): Promise<void>;
  /** After an object is stored and linked: audit, hooks waiting for it. */
  onStored(stored: StoredAttachment): Promise<void>;
  /** The transport keys that open sealed uploads (`kid` in the metadata; sealed-upload.ts). */
  transportKeys?: UploadKeyring;
  /** The key the server seals an upload's owner with at creation (OWNER_SEAL), shared by every process. */
  ownerSealKey: Uint8Array;
  /**
   * Whether the sweep may still act as `identity`: false once its account is disabled or its device
   * revoked (the identity store the sign-in checks use). Throws when that cannot be told now.
   */
  uploaderActive(identity: Identity): Promise<boolean>;
}

/** How an upload's finish ended (tus-server.ts finishUpload). */
export type FinishOutcome =
  /** Stored and linked, its effects durable, remembered as finished; `size`: its bytes as sent. */
  | { kind: 'stored'; size: number }
  /** Refused for good: deleted, nothing stored; the answer the uploader gets. */
  | { kind: 'refused'; status: number; code: ErrorCode; message: string }
  /** Its finish is running (in this process or another): ask again in a second. */
  | { kind: 'busy' }
  /** No such upload any more: another finish refused it, or stored it and stopped before remembering it. */
  | { kind: 'gone' }
  /** Bytes are still missing: nothing to finish. */
  | { kind: 'incomplete' };

/** The answer to a request that met an upload whose finish is running: 423 with Retry-After (docs/protocol.md §25). */
export const BEING_STORED_MESSAGE = 'Every byte of this upload arrived and the server is storing it now; ask again (HEAD) in a second. Send nothing more.';
export const BEING_STORED_RETRY_AFTER_S = 1;

export interface AttachmentTus {
  readonly server: Server;
  /**
   * Finishes an upload holding every byte whose finish is not running (a crash cut it short), as
   * `identity`, its uploader; `busy` when its finish is running. The routes' HEAD and PATCH call
   * it instead of handing such an upload to @tus/server.
   */
  finish(uploadId: string, identity: Identity): Promise<FinishOutcome>;
  /** The authenticated caller of a raw request, for the hooks @tus/server calls during it. */
  rememberCaller(request: IncomingMessage, identity: Identity): void;
  /**
   * Finishes every upload holding every byte whose finish is not running, as its uploader, under
   * the same claim as the HEAD's finish (so once on any number of processes): one whose uploader
   * never asks again is stored, audited and its hooks run all the same. One not finished (no
   * uploader sealed with it, the uploader disabled or revoked) is deleted once `expiryMs` after
   * its creation; one whose finish fails, once expired and its finish failed in two sweeps of
   * this process.
   */
  sweepComplete(now: number, expiryMs: number): Promise<CompleteSweep>;
}

type TusRequest = Parameters<NonNullable<ServerOptions['onUploadCreate']>>[0];

/** The Node request under @tus/server's web request (srvx keeps it as `runtime.node.req`). */
function nodeRequestOf(request: TusRequest): IncomingMessage | undefined {
  const runtime = (request as unknown as { runtime?: { node?: { req?: IncomingMessage } } }).runtime;
  return runtime?.node?.req;
}

function jsonAnswer(status: number, code: ErrorCode, message: string): { status_code: number; body: string; headers: Record<string, string> } {
  const body: ErrorBody = { error: { code, message }, requestId: '' };
  return { status_code: status, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json; charset=utf-8' } };
}

function withRetryAfter<T extends { headers: Record<string, string> }>(answer: T): T {
  return { ...answer, headers: { ...answer.headers, 'Retry-After': String(BEING_STORED_RETRY_AFTER_S) } };
}

export function createAttachmentTus(options: AttachmentTusOptions): AttachmentTus {
  const callers = new WeakMap<IncomingMessage, Identity>();
  const callerOf = (request: TusRequest): Identity => {
    const raw = nodeRequestOf(request);
    const identity = raw ? callers.get(raw) : undefined;
    // The routes remember every caller before handing over; reaching here without one is a bug.
    if (!identity) throw { status_code: 500, body: JSON.stringify({ error: { code: ErrorCode.INTERNAL, message: 'The upload could not be attributed to a caller; retry.' }, requestId: '' }) };
    return identity;
  };

  /** The checks, the commit and its effects, as `identity` (the uploader), of an upload holding every byte. */
  const finishAs = async (identity: Identity, upload: Upload): Promise<FinishOutcome> => {
    const refuse = async (status: number, code: ErrorCode, message: string): Promise<FinishOutcome> => {
      await options.storage.discardUpload(upload.id);
      return { kind: 'refused', status, code, message: `${message} The upload was deleted and nothing was stored.` };
    };
    let metadata;
    try {
      metadata = attachmentMetadataOf(Object.fromEntries(Object.entries(upload.metadata ?? {}).map(([k, v]) => [k, v ?? ''])));
    } catch (error) {
      if (error instanceof HttpError) return refuse(error.statusCode, error.code, error.message);
      throw error;
    }
    const received = await options.storage.readUpload(upload.id);
    if (upload.size !== undefined && received.length !== upload.size) {
      return refuse(400, ErrorCode.ATTACHMENT_HASH_MISMATCH, `The server holds ${received.length} bytes of an upload declared as ${upload.size}.`);
    }
    // Sealed on the device (a `kid` in the metadata): opened first; every check below is of the clear bytes.
    const kid = upload.metadata?.['kid'];
    let bytes: Buffer = received;
    if (kid) {
      if (!options.transportKeys) return refuse(400, ErrorCode.BAD_ENVELOPE, 'This server does not open sealed uploads.');
      const opened = await openSealedUpload(options.transportKeys, identity, { kid, ...metadata }, received);
      if (!('bytes' in opened)) return refuse(opened.status, opened.code, opened.message);
      bytes = Buffer.from(opened.bytes.buffer, opened.bytes.byteOffset, opened.bytes.byteLength);
    }
    if (bytes.length > options.maxBytes) return refuse(413, ErrorCode.ATTACHMENT_TOO_LARGE, `The attachment is ${bytes.length} bytes; this server takes at most ${options.maxBytes}.`);
    const actual = sha256Hex(bytes);
    if (actual !== metadata.sha256) {
      return refuse(400, ErrorCode.ATTACHMENT_HASH_MISMATCH, `The bytes received have SHA-256 ${actual}, not the declared ${metadata.sha256}: the file changed or was damaged on the way.`);
    }
    const sniffed = sniffImageType(bytes);
    if (sniffed !== metadata.contentType) {
      return refuse(415, ErrorCode.ATTACHMENT_TYPE_REFUSED, `The bytes are ${sniffed ?? 'not an accepted image'}, not the declared ${metadata.contentType}.`);
    }
    try {
      await options.checkMayUpload(identity, metadata.collection, metadata.docId, metadata.sha256);
    } catch (error) {
      if (error instanceof HttpError) return refuse(error.statusCode, error.code, error.message);
      throw error;
    }
    const link = { tenantId: identity.tenantId, collection: metadata.collection, docId: metadata.docId, sha256: metadata.sha256 };
    const { created } = await options.storage.commit(upload.id, link, metadata.contentType, bytes);
    await options.onStored({ ...link, identity, contentType: metadata.contentType, size: bytes.length, created });
    // Remembered last, not with the link: a HEAD answered "complete" ends the device's sending for
    // good, so it must not be told before the audit entry and the hooks waiting for these bytes
    // are durable. Should the process stop in between, the device meets a 404 and sends again
    // (stored once), and this again runs onStored. The caller is the upload's owner (the routes
    // hand only the owner's PATCH over, and finish only the owner's upload on a HEAD).
    await options.storage.rememberFinished({
      uploadId: upload.id, tenantId: identity.tenantId, userId: identity.userId, size: received.length, finishedAt: Date.now(),
    });
    // Its bytes go only now: until the finished row exists, a HEAD finds the upload complete and
    // its finish claimed (423), never missing (404: tus-js-client would send every byte again).
    await options.storage.discardUpload(upload.id);
    return { kind: 'stored', size: received.length };
  };

  /**
   * Finishes upload `uploadId` as `identity` under its claim (storage.ts): the last PATCH's
   * onUploadFinish and a HEAD that finds every byte but no finish (one cut short by a crash) both
   * come here, so one finish runs at a time on any number of processes. @tus/server unlocks the
   * upload before onUploadFinish: until the claim is released, the routes answer 423, never
   * @tus/server's "offset = length", which tus-js-client takes for success.
   */
  const finishUpload = async (uploadId: string, identity: Identity): Promise<FinishOutcome> => {
    const claimed = await options.storage.underFinishClaim(uploadId, async (): Promise<FinishOutcome> => {
      // Asked again under the claim: a finish that held it until just now may have stored or refused it.
      const finished = await options.storage.finishedUpload(uploadId, Date.now());
      if (finished) {
        // Remembered but its bytes still here (SQLite: a stop between remembering and deleting them): they go now.
        await options.storage.discardUpload(uploadId);
        return { kind: 'stored', size: finished.size };
      }
      let upload: Upload;
      try {
        upload = await options.storage.uploads.getUpload(uploadId);
      } catch {
        return { kind: 'gone' };
      }
      if (upload.size === undefined || upload.offset !== upload.size) return { kind: 'incomplete' };
      return finishAs(identity, upload);
    });
    return claimed.busy ? { kind: 'busy' } : claimed.value;
  };

  const server = new Server({
    path: `${ATTACHMENTS_BASE_PATH}/uploads`,
    datastore: options.storage.uploads,
    maxSize: options.maxBytes,
    relativeLocation: true,
    respectForwardedHeaders: false,
    // Same-origin only (the apps and their service worker): no CORS answer for other origins.
    allowedOrigins: [],
    async onUploadCreate(request, upload) {
      const identity = callerOf(request);
      // The server's keys are the server's to write: a client's own (`fieldsync…`) are dropped, not kept beside them.
      const theirs = Object.fromEntries(Object.entries(upload.metadata ?? {}).filter(([key]) => !SERVER_KEY.test(key)));
      return { metadata: { ...theirs, ...ownerMetadataOf(options.ownerSealKey, upload.id, identity) } };
    },
    async onUploadFinish(request, upload) {
      const outcome = await finishUpload(upload.id, callerOf(request));
      switch (outcome.kind) {
        case 'stored':
        case 'incomplete':
          return {};
        case 'refused':
          return jsonAnswer(outcome.status, outcome.code, outcome.message);
        case 'busy':
          // A HEAD began finishing it between the last write and this hook: that finish answers the next HEAD.
          return withRetryAfter(jsonAnswer(423, ErrorCode.UPLOAD_BEING_STORED, BEING_STORED_MESSAGE));
        case 'gone':
          return jsonAnswer(404, ErrorCode.UPLOAD_NOT_FOUND, 'This upload was finished by another request and is gone; create a new one (POST) if the attachment is still missing.');
      }
    },
  });
  /** Sweeps (of this process) in which the finish of an upload failed: one is deleted for it only after two. */
  const failedSweeps = new Map<string, number>();

  const sweepComplete = async (now: number, expiryMs: number): Promise<CompleteSweep> => {
    const sweep: CompleteSweep = { stored: 0, refused: 0, left: 0, expired: 0, failures: [] };
    const uploads = await options.storage.completeUploads();
    const listed = new Set(uploads.map((upload) => upload.id));
    for (const id of failedSweeps.keys()) if (!listed.has(id)) failedSweeps.delete(id);
    for (const upload of uploads) {
      // Each upload on its own: one that fails at any step is tried again by the next sweep, and
      // never keeps the sweep from those after it.
      const uploader = uploaderOf(options.ownerSealKey, upload);
      let failed = false;
      if (uploader) {
        try {
          if (await options.uploaderActive(uploader)) {
            const outcome = await finishUpload(upload.id, uploader);
            if (outcome.kind === 'stored') sweep.stored++;
            if (outcome.kind === 'refused') sweep.refused++;
            // busy: its finish runs elsewhere; gone / incomplete: nothing left to finish.
            failedSweeps.delete(upload.id);
            continue;
          }
          sweep.left++;
        } catch (error) {
          sweep.failures.push({ uploadId: upload.id, stage: 'finish', error });
          failedSweeps.set(upload.id, (failedSweeps.get(upload.id) ?? 0) + 1);
          failed = true;
        }
      } else {
        sweep.left++;
      }
      const created = upload.creation_date ? Date.parse(upload.creation_date) : now;
      if (created + expiryMs >= now) continue;
      // A finish that failed (a database blip) is given a second sweep, expired or not: an upload
      // whose first try falls just after its expiry is not deleted for one failure.
      if (failed && (failedSweeps.get(upload.id) ?? 0) < 2) continue;
      try {
        // Under the claim, so a finish running elsewhere (a late HEAD) never loses its bytes midway.
        const deleted = await options.storage.underFinishClaim(upload.id, async () => {
          const finished = await options.storage.finishedUpload(upload.id, now);
          await options.storage.discardUpload(upload.id);
          return !finished;
        });
        if (!deleted.busy) failedSweeps.delete(upload.id);
        if (!deleted.busy && deleted.value) sweep.expired++;
      } catch (error) {
        sweep.failures.push({ uploadId: upload.id, stage: 'delete', error });
      }
    }
    return sweep;
  };

  return {
    server,
    finish: finishUpload,
    rememberCaller: (request, identity) => callers.set(request, identity),
    sweepComplete,
  };
}
