/**
 * Where attachments live: the tus uploads in progress, the objects (stored once by SHA-256) and
 * the link rows that say which document of which agency an object was uploaded for. One
 * implementation per store kind: files under DATA_DIR with a small SQLite index
 * (storage-sqlite.ts), or tables beside the documents in PostgreSQL (storage-postgres.ts), so
 * every process of a scaled-out server sees the same uploads and objects.
 */
import type { DataStore } from '@tus/utils';

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

export interface AttachmentStorage {
  /** The uploads in progress, as @tus/server drives them (expiration included). */
  readonly uploads: DataStore;
  /** Every byte of an upload received so far. */
  readUpload(uploadId: string): Promise<Buffer>;
  /**
   * Stores the object (unless the server has it already: then it is not stored again) and the
   * link, and deletes the upload. `created` says whether the object is new.
   */
  commit(uploadId: string, link: AttachmentLink, contentType: string, bytes: Buffer): Promise<{ created: boolean }>;
  /** Deletes an upload and its bytes (a refused one). */
  discardUpload(uploadId: string): Promise<void>;
  getObject(sha256: string): Promise<StoredObject | undefined>;
  isLinked(link: AttachmentLink): Promise<boolean>;
  /** Of `shas`, those not linked to the document (the bytes the server does not have for it yet). */
  missingLinks(tenantId: string, collection: string, docId: string, shas: readonly string[]): Promise<string[]>;
  /** How many objects are stored (for tests and metrics). */
  objectCount(): Promise<number>;
  close(): Promise<void>;
}
