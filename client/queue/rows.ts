/** The queue's rows: one document waiting to reach the server, per writer, and the refused ones set aside. */
import type { Lane } from './lanes.ts';

export type JsonDoc = Record<string, unknown>;

/** Who queued a row: the signed-in user, and the transport key its states are sealed with. */
export interface QueueWriter {
  userId: string;
  /** Absent: the row is not sealed (a collection without patient data, or a developer session). */
  kid?: string;
}

/**
 * The writer part of a row's key for rows queued without a writer (queued before writers were
 * recorded, a session without a user id, or a `fieldsync:enqueue` message). Parentheses never
 * occur in a user id (UUIDs, or `role@device` for developer tokens), so it cannot collide.
 */
export const UNKNOWN_WRITER = '(unknown)';

/** The writer part of a row's key: the user, not the key, so one person's edits still coalesce after a new sign-in brings a new transport key. */
export function writerKeyOf(writer: QueueWriter | undefined): string {
  return writer?.userId || UNKNOWN_WRITER;
}

/** The key of a queued row: one row per document and writer. */
export type RowKey = [collection: string, id: string, writerKey: string];

export function rowKeyOf(row: Pick<QueuedRow, 'collection' | 'id' | 'writerKey'>): RowKey {
  return [row.collection, row.id, row.writerKey];
}

/**
 * One document waiting to reach the server: the state the server last had, and the newest state.
 * For collections with patient data both are sealed envelopes (shared/crypto/envelope.ts) that
 * only the server and the database worker can open; the service worker sends them as they are.
 */
export interface QueuedRow {
  collection: string;
  id: string;
  schemaVersion: number;
  lane: Lane;
  /** What the device believed the server had when the first queued change was made (absent: new). */
  base?: JsonDoc;
  state: JsonDoc;
  /** The newest state's revision, in clear beside a sealed state (badges need it, not the content). */
  rev?: string;
  writer?: QueueWriter;
  /**
   * `writerKeyOf(writer)`, part of the key: on a shared device two users' changes to one document
   * are two rows, so a second user's edit never replaces the first user's waiting change.
   */
  writerKey: string;
  /** Enqueue order, for delivery order within a lane. */
  order: number;
  /** Bumped on every change to this row, so a delivery can tell whether it sent the latest state. */
  version: number;
  queuedAt: number;
  updatedAt: number;
}

export interface RejectedRow {
  key?: number;
  collection: string;
  id: string;
  /** As it was queued: sealed for collections with patient data. */
  state: JsonDoc;
  rev?: string;
  writer?: QueueWriter;
  code: string;
  reason: string;
  at: number;
}

export interface PushRowInput {
  assumedMasterState?: JsonDoc;
  /** A document, or an envelope `{id, $enc}` of one. */
  newDocumentState: JsonDoc;
  /** The new state's revision when the state is sealed (read from the state otherwise). */
  rev?: string;
}

// ---- attachments waiting for their upload (uploads.ts) ----------------------------------------

/** `[collection, docId, sha256]`: one attachment of one document (the same photo on two documents is two uploads). */
export type UploadKey = [collection: string, docId: string, sha256: string];

export interface QueuedUpload {
  collection: string;
  docId: string;
  /** 64 hex: SHA-256 of the clear bytes (the attachment's name in the document and on the server). */
  sha256: string;
  contentType: string;
  /** Size of the clear bytes. */
  size: number;
  /** The bytes as they are uploaded: sealed with transport key `kid`, or clear (no `kid`). */
  bytes: Blob;
  /** The transport key the bytes are sealed with (absent: clear: a developer session, or a collection not sealed on the device). */
  kid?: string;
  /** The thumbnail of another attachment of the document (uploaded like any, shown first on other devices). */
  thumbnailOf?: string;
  writer?: QueueWriter;
  /** Queue order (shared with the rows' counter: earlier captures go first). */
  order: number;
  queuedAt: number;
  /** The tus upload's URL once the server created it: a later try resumes there. */
  uploadUrl?: string;
  /** The bytes the server confirmed (tus `Upload-Offset`), for the outbox line; a resume asks the server again. */
  offset?: number;
  /** The server refused it (4xx): kept with the reason, shown to a person, never uploaded again on its own. */
  refused?: { code: string; reason: string; at: number };
}

export const uploadKeyOf = (upload: Pick<QueuedUpload, 'collection' | 'docId' | 'sha256'>): UploadKey => [upload.collection, upload.docId, upload.sha256];
