/**
 * Attachments of a server on the embedded store: under DATA_DIR/attachments,
 * - `uploads/`: tus uploads in progress (@tus/file-store: the bytes received so far and a JSON
 *   file of each upload's length, offset and metadata; expired ones are deleted by the plugin);
 * - `objects/<first two hex>/<sha256>`: each object once, written to a temporary name and renamed,
 *   so a reader never sees a half-written file;
 * - `index.sqlite`: the objects' types and sizes, the link rows and the finished uploads (for the
 *   upload expiry). Kept apart from the document store's database, as identity.sqlite is: this
 *   capability owns it.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import type { AttachmentLink, AttachmentStorage, Claimed, FinishedUpload, StoredObject } from './storage.ts';

/**
 * @tus/file-store, with a sweep that knows which uploads are complete. Its own `deleteExpired`
 * takes the offset from the upload's JSON file, which is written at creation (offset 0) and never
 * again, so it deleted uploads holding every byte as well once expired: even one whose finish was
 * running. Here the offset is the bytes on disk, as `getUpload` says.
 */
class UploadFiles extends FileStore {
  /** Every upload's state; those deleted while listed are left out. */
  async listUploads(): Promise<Upload[]> {
    const uploads: Upload[] = [];
    for (const id of await this.configstore.list?.() ?? []) {
      try {
        uploads.push(await this.getUpload(id));
      } catch {
        // Deleted meanwhile (or its bytes are gone): nothing to list.
      }
    }
    return uploads;
  }

  override async deleteExpired(): Promise<number> {
    const now = Date.now();
    let deleted = 0;
    for (const upload of await this.listUploads()) {
      const complete = upload.size !== undefined && upload.offset === upload.size;
      const created = upload.creation_date ? Date.parse(upload.creation_date) : now;
      if (complete || created + this.getExpiration() >= now) continue;
      await this.remove(upload.id).catch(() => undefined);
      deleted++;
    }
    return deleted;
  }
}

export class SqliteAttachmentStorage implements AttachmentStorage {
  readonly uploads: UploadFiles;
  private readonly db: Database.Database;
  private readonly uploadDir: string;
  private readonly objectDir: string;
  /** Uploads whose finish is running: this process alone uses DATA_DIR, so its memory is the claim. */
  private readonly finishing = new Set<string>();

  constructor(dataDir: string, private readonly uploadExpiryMs: number) {
    const root = path.join(dataDir, 'attachments');
    this.uploadDir = path.join(root, 'uploads');
    this.objectDir = path.join(root, 'objects');
    mkdirSync(this.uploadDir, { recursive: true });
    mkdirSync(this.objectDir, { recursive: true });
    this.uploads = new UploadFiles({ directory: this.uploadDir, expirationPeriodInMilliseconds: uploadExpiryMs });
    this.db = new Database(path.join(root, 'index.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS attachment_objects (
        sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS attachment_links (
        tenant_id TEXT NOT NULL, collection TEXT NOT NULL, doc_id TEXT NOT NULL, sha256 TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, collection, doc_id, sha256)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS attachment_finished_uploads (
        upload_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, size INTEGER NOT NULL, finished_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS attachment_finished_uploads_at ON attachment_finished_uploads (finished_at);
    `);
  }

  private objectPath(sha256: string): string {
    return path.join(this.objectDir, sha256.slice(0, 2), sha256);
  }

  async readUpload(uploadId: string): Promise<Buffer> {
    return readFile(path.join(this.uploadDir, path.basename(uploadId)));
  }

  async completeUploads(): Promise<Upload[]> {
    return (await this.uploads.listUploads()).filter((upload) => upload.size !== undefined && upload.offset === upload.size);
  }

  async commit(uploadId: string, link: AttachmentLink, contentType: string, bytes: Buffer): Promise<{ created: boolean }> {
    const file = this.objectPath(link.sha256);
    let created = false;
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      // Written whole under a temporary name, then renamed: the name only ever holds complete bytes.
      const temporary = `${file}.${path.basename(uploadId)}.tmp`;
      writeFileSync(temporary, bytes, { flush: true });
      renameSync(temporary, file);
      created = true;
    }
    const now = Date.now();
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO attachment_objects (sha256, content_type, size, created_at) VALUES (?, ?, ?, ?)').run(link.sha256, contentType, bytes.length, now);
      this.db.prepare('INSERT OR IGNORE INTO attachment_links (tenant_id, collection, doc_id, sha256, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(link.tenantId, link.collection, link.docId, link.sha256, now);
    })();
    // The upload stays until the finish has remembered it (tus-server.ts): in between, its
    // uploader's HEAD is answered 423, not 404.
    return { created };
  }

  async rememberFinished(finished: FinishedUpload): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM attachment_finished_uploads WHERE finished_at < ?').run(finished.finishedAt - this.uploadExpiryMs);
      this.db.prepare('INSERT OR REPLACE INTO attachment_finished_uploads (upload_id, tenant_id, user_id, size, finished_at) VALUES (?, ?, ?, ?, ?)')
        .run(finished.uploadId, finished.tenantId, finished.userId, finished.size, finished.finishedAt);
    })();
  }

  async finishedUpload(uploadId: string, now: number): Promise<FinishedUpload | undefined> {
    const row = this.db.prepare('SELECT upload_id AS uploadId, tenant_id AS tenantId, user_id AS userId, size, finished_at AS finishedAt FROM attachment_finished_uploads WHERE upload_id = ? AND finished_at >= ?')
      .get(uploadId, now - this.uploadExpiryMs) as FinishedUpload | undefined;
    return row;
  }

  async underFinishClaim<T>(uploadId: string, work: () => Promise<T>): Promise<Claimed<T>> {
    if (this.finishing.has(uploadId)) return { busy: true };
    this.finishing.add(uploadId);
    try {
      return { busy: false, value: await work() };
    } finally {
      this.finishing.delete(uploadId);
    }
  }

  async discardUpload(uploadId: string): Promise<void> {
    const id = path.basename(uploadId);
    await rm(path.join(this.uploadDir, id), { force: true });
    await rm(path.join(this.uploadDir, `${id}.json`), { force: true });
  }

  async getObject(sha256: string): Promise<StoredObject | undefined> {
    const row = this.db.prepare('SELECT content_type AS contentType, size FROM attachment_objects WHERE sha256 = ?').get(sha256) as { contentType: string; size: number } | undefined;
    if (!row) return undefined;
    const file = this.objectPath(sha256);
    if (!existsSync(file)) return undefined;
    return { contentType: row.contentType, size: row.size, bytes: readFileSync(file) };
  }

  async isLinked(link: AttachmentLink): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM attachment_links WHERE tenant_id = ? AND collection = ? AND doc_id = ? AND sha256 = ?')
      .get(link.tenantId, link.collection, link.docId, link.sha256) !== undefined;
  }

  async missingLinks(tenantId: string, collection: string, docId: string, shas: readonly string[]): Promise<string[]> {
    if (shas.length === 0) return [];
    const rows = this.db.prepare('SELECT sha256 FROM attachment_links WHERE tenant_id = ? AND collection = ? AND doc_id = ?').all(tenantId, collection, docId) as { sha256: string }[];
    const have = new Set(rows.map((r) => r.sha256));
    return shas.filter((sha) => !have.has(sha));
  }

  async objectCount(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM attachment_objects').get() as { n: number }).n;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
