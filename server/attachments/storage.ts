/**
 * Where attachments live: the tus uploads in progress, the objects (stored once by SHA-256) and
 * the link rows that say which document of which agency an object was uploaded for. One
 * implementation per store kind: files under DATA_DIR with a small SQLite index
 * (storage-sqlite.ts), or tables beside the documents in PostgreSQL (storage-postgres.ts), so
 * every process of a scaled-out server sees the same uploads and objects.
 */
import type { DataStore, Upload } from '@tus/utils';

export interface AttachmentLink {
  tenantId: string;
  collection: string;
  docId: string;
  sha256: string;
}

export interface StoredObject {
  contentType: string;
  size: number;
  bytes: Buffer;
}

/**
 * An upload whose bytes were stored, remembered for the upload expiry: its uploader's `HEAD`
 * is then told it is complete (Upload-Offset = Upload-Length = `size`) instead of a 404 that
 * would make the device send every byte again (docs/protocol.md §25).
 */
export interface FinishedUpload {
  uploadId: string;
  /** The uploader (the upload's OWNER_TENANT / OWNER_USER): nobody else is told. */
  tenantId: string;
  userId: string;
  /** Bytes of the upload as sent (its Upload-Length; sealed bytes for a sealed upload). */
  size: number;
  finishedAt: number;
}

/** What `underFinishClaim` gives back: `work`'s value, or `busy` when another held the claim. */
export type Claimed<T> = { busy: false; value: T } | { busy: true };

export interface AttachmentStorage {
  /** The uploads in progress, as @tus/server drives them (expiration included). */
  readonly uploads: DataStore;
  /** Every byte of an upload received so far. */
  readUpload(uploadId: string): Promise<Buffer>;
  /**
   * The uploads holding every byte (Upload-Offset = Upload-Length): finished and not yet deleted,
   * being finished, or never finished (a crash, an uploader who never asks again). The sweep
   * finishes those nobody is finishing (tus-server.ts sweepComplete).
   */
  completeUploads(): Promise<Upload[]>;
  /**
   * Stores the object (unless the server has it already: then it is not stored again) and the
   * link. The upload is left for the finish to discard once it is remembered (tus-server.ts), so
   * a HEAD in between finds it complete and claimed, never missing. `created` says whether the
   * object is new.
   */
  commit(uploadId: string, link: AttachmentLink, contentType: string, bytes: Buffer): Promise<{ created: boolean }>;
  /**
   * Remembers a finished upload, once its object, link and their effects (audit, hooks) are
   * durable; and forgets those finished more than the upload expiry before `finished.finishedAt`.
   */
  rememberFinished(finished: FinishedUpload): Promise<void>;
  /** The finished upload `uploadId`, unless unknown or finished more than the upload expiry before `now`. */
  finishedUpload(uploadId: string, now: number): Promise<FinishedUpload | undefined>;
  /**
   * Runs `work` (an upload's finish: checks, commit, onStored, rememberFinished; tus-server.ts)
   * holding the claim of upload `uploadId`, or answers `busy` without running it when a finish of
   * that upload holds the claim already: in this process or, on a store several processes share,
   * in any of them. A claim dies with its process, so a finish cut short by a crash is run again
   * by the next HEAD or the sweep (docs/protocol.md §25). The wait for a claim is bounded: a store
   * that cannot take one within its limit (PostgreSQL: every finish slot of this process taken, or
   * no pool connection free) answers `busy` too, so a request is answered 423, never left hanging.
   */
  underFinishClaim<T>(uploadId: string, work: () => Promise<T>): Promise<Claimed<T>>;
  /** Deletes an upload and its bytes (a refused one); a refused upload is not remembered. */
  discardUpload(uploadId: string): Promise<void>;
  getObject(sha256: string): Promise<StoredObject | undefined>;
  isLinked(link: AttachmentLink): Promise<boolean>;
  /** Of `shas`, those not linked to the document (the bytes the server does not have for it yet). */
  missingLinks(tenantId: string, collection: string, docId: string, shas: readonly string[]): Promise<string[]>;
  /** How many objects are stored (for tests and metrics). */
  objectCount(): Promise<number>;
  close(): Promise<void>;
}
