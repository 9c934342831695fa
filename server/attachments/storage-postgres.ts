/**
 * Attachments of a server on PostgreSQL, in tables beside the documents (the document store's
 * pool and schema), so every process behind a balancer sees the same uploads, objects and links:
 * a PATCH may land on another process than the POST that created the upload.
 *
 * - `attachment_uploads` / `attachment_upload_chunks`: tus uploads in progress. Bytes are kept in
 *   chunks of up to CHUNK_BYTES as they arrive (a chunk and the new offset in one transaction,
 *   guarded by the offset the writer started from), so a cut connection loses at most the chunk
 *   being buffered and two writers of one upload cannot both append.
 * - `attachment_objects`: each object once (`bytea`), keyed by SHA-256.
 * - `attachment_links`: which document of which agency an object was uploaded for.
 * - `attachment_finished_uploads`: uploads stored, remembered for the upload expiry so their
 *   uploader's HEAD is told they are complete (docs/protocol.md §25).
 *
 * An S3-compatible object store (@tus/s3-store) is not wired in: objects of a few MB in bytea
 * suit an agency's volume; docs/protocol.md lists it under the limitations.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import pg from 'pg';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import type { AttachmentLink, AttachmentStorage, Claimed, FinishedUpload, StoredObject } from './storage.ts';

/** Bytes buffered before a chunk is written: the most a cut connection can cost. */
const CHUNK_BYTES = 256 * 1024;
const LOCK_NAMESPACE = 0x1d3a72;
/** First key of the advisory locks that claim an upload's finish (second: a hash of schema and upload id). */
const FINISH_LOCK_NAMESPACE = 0x1d3a73;

interface UploadRow {
  id: string;
  size: string | null;
  offset: string;
  metadata: Record<string, string> | null;
  created_at: string;
}

class PostgresUploadStore extends DataStore {
  constructor(private readonly pool: pg.Pool, private readonly t: (name: string) => string, private readonly expiryMs: number) {
    super();
    this.extensions = ['creation', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const created = upload.creation_date ?? new Date().toISOString();
    await this.pool.query(
      `INSERT INTO ${this.t('attachment_uploads')} (id, size, "offset", metadata, created_at) VALUES ($1, $2, 0, $3, $4)`,
      [upload.id, upload.size ?? null, JSON.stringify(upload.metadata ?? {}), Date.parse(created)],
    );
    upload.creation_date = created;
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const { rows } = await this.pool.query<UploadRow>(`SELECT id, size, "offset", metadata, created_at FROM ${this.t('attachment_uploads')} WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) throw ERRORS.FILE_NOT_FOUND;
    return new Upload({
      id: row.id,
      size: row.size === null ? undefined : Number(row.size),
      offset: Number(row.offset),
      metadata: row.metadata ?? {},
      creation_date: new Date(Number(row.created_at)).toISOString(),
    });
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let at = offset;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const bytes = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const moved = await client.query(`UPDATE ${this.t('attachment_uploads')} SET "offset" = "offset" + $3 WHERE id = $1 AND "offset" = $2`, [id, at, bytes.length]);
        if (moved.rowCount !== 1) {
          await client.query('ROLLBACK');
          throw ERRORS.INVALID_OFFSET;
        }
        await client.query(`INSERT INTO ${this.t('attachment_upload_chunks')} (upload_id, start, bytes) VALUES ($1, $2, $3)`, [id, at, bytes]);
        await client.query('COMMIT');
        at += bytes.length;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };
    try {
      for await (const chunk of readable) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
    } finally {
      // A cut connection ends the stream with an error: what arrived before it is kept, so the
      // client resumes after it (tus: the offset is what the server stored).
      await flush();
    }
    return at;
  }

  override async remove(id: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.t('attachment_uploads')} WHERE id = $1`, [id]);
  }

  override async deleteExpired(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${this.t('attachment_uploads')} WHERE created_at < $1 AND (size IS NULL OR "offset" < size)`,
      [Date.now() - this.expiryMs],
    );
    return rowCount ?? 0;
  }

  override getExpiration(): number {
    return this.expiryMs;
  }

  async completeUploads(): Promise<Upload[]> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.t('attachment_uploads')} WHERE size IS NOT NULL AND "offset" = size`);
    const uploads: Upload[] = [];
    for (const { id } of rows) {
      try {
        uploads.push(await this.getUpload(id));
      } catch {
        // Deleted since the list was read (its finish ended): nothing to sweep.
      }
    }
    return uploads;
  }

  async bytesOf(id: string): Promise<Buffer> {
    const { rows } = await this.pool.query<{ bytes: Buffer }>(`SELECT bytes FROM ${this.t('attachment_upload_chunks')} WHERE upload_id = $1 ORDER BY start`, [id]);
    return Buffer.concat(rows.map((r) => r.bytes));
  }
}

/**
 * At most `limit` holders at once; a wait for a place ends after `waitMs` without one. A place
 * freed goes straight to the longest waiter.
 */
class FinishSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  acquire(waitMs: number): Promise<boolean> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, waitMs);
      this.waiting.push(grant);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** `promise`'s value, or undefined once `ms` passed first (then `abandon` gets the value when it comes). */
async function within<T>(promise: Promise<T>, ms: number, abandon: (late: T) => void): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      late = true;
      resolve(undefined);
    }, Math.max(0, ms));
  });
  promise.then((value) => { if (late) abandon(value); }, () => undefined);
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export class PostgresAttachmentStorage implements AttachmentStorage {
  readonly uploads: PostgresUploadStore;
  private readonly t: (name: string) => string;
  /**
   * Finishes running at once in this process. Each holds a connection for its claim (the
   * advisory lock) and takes another for its own queries: at most half the pool, so the claims
   * can never take every connection and leave their finishes waiting for one for good. A finish
   * that gets no slot (nor a connection) within `finishWaitMs` is `busy`: its request is answered
   * 423 with Retry-After and the device asks again (HEAD), instead of waiting without a bound.
   */
  private readonly finishSlots: FinishSlots;

  private constructor(
    private readonly pool: pg.Pool, private readonly schema: string, private readonly expiryMs: number, private readonly finishWaitMs: number,
  ) {
    const quoted = pg.escapeIdentifier(schema);
    this.t = (name) => `${quoted}.${pg.escapeIdentifier(name)}`;
    this.uploads = new PostgresUploadStore(pool, this.t, expiryMs);
    this.finishSlots = new FinishSlots(Math.max(1, Math.floor((pool.options.max ?? 10) / 2)));
  }

  /** `finishWaitMs`: how long a finish waits for its claim (a slot and a connection) before it is `busy` (ATTACHMENT_FINISH_WAIT_MS). */
  static async open(pool: pg.Pool, schema: string, expiryMs: number, finishWaitMs: number): Promise<PostgresAttachmentStorage> {
    const storage = new PostgresAttachmentStorage(pool, schema, expiryMs, finishWaitMs);
    const t = storage.t;
    const client = await pool.connect();
    try {
      // Processes starting together would race on the catalog: one creates, the others wait.
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, createHash('sha256').update(`fieldsync-attachments:${schema}`).digest().readInt32BE(0)]);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${t('attachment_uploads')} (
          id TEXT PRIMARY KEY, size BIGINT, "offset" BIGINT NOT NULL, metadata JSONB NOT NULL, created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${t('attachment_upload_chunks')} (
          upload_id TEXT NOT NULL REFERENCES ${t('attachment_uploads')} (id) ON DELETE CASCADE, start BIGINT NOT NULL, bytes BYTEA NOT NULL,
          PRIMARY KEY (upload_id, start)
        );
        CREATE TABLE IF NOT EXISTS ${t('attachment_objects')} (
          sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, size INTEGER NOT NULL, bytes BYTEA NOT NULL, created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${t('attachment_links')} (
          tenant_id TEXT NOT NULL, collection TEXT NOT NULL, doc_id TEXT NOT NULL, sha256 TEXT NOT NULL, created_at BIGINT NOT NULL,
          PRIMARY KEY (tenant_id, collection, doc_id, sha256)
        );
        CREATE TABLE IF NOT EXISTS ${t('attachment_finished_uploads')} (
          upload_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, size BIGINT NOT NULL, finished_at BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS attachment_finished_uploads_at ON ${t('attachment_finished_uploads')} (finished_at);`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return storage;
  }

  readUpload(uploadId: string): Promise<Buffer> {
    return this.uploads.bytesOf(uploadId);
  }

  completeUploads(): Promise<Upload[]> {
    return this.uploads.completeUploads();
  }

  async commit(uploadId: string, link: AttachmentLink, contentType: string, bytes: Buffer): Promise<{ created: boolean }> {
    const client = await this.pool.connect();
    try {
      // Object and link in one transaction: nothing half-stored. The upload stays until the finish
      // has remembered it (tus-server.ts): in between, its uploader's HEAD is answered 423, not 404.
      await client.query('BEGIN');
      const inserted = await client.query(
        `INSERT INTO ${this.t('attachment_objects')} (sha256, content_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING`,
        [link.sha256, contentType, bytes.length, bytes, Date.now()],
      );
      await client.query(
        `INSERT INTO ${this.t('attachment_links')} (tenant_id, collection, doc_id, sha256, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [link.tenantId, link.collection, link.docId, link.sha256, Date.now()],
      );
      await client.query('COMMIT');
      return { created: inserted.rowCount === 1 };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async rememberFinished(finished: FinishedUpload): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.t('attachment_finished_uploads')} WHERE finished_at < $1`, [finished.finishedAt - this.expiryMs]);
    await this.pool.query(
      `INSERT INTO ${this.t('attachment_finished_uploads')} (upload_id, tenant_id, user_id, size, finished_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (upload_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, user_id = EXCLUDED.user_id, size = EXCLUDED.size, finished_at = EXCLUDED.finished_at`,
      [finished.uploadId, finished.tenantId, finished.userId, finished.size, finished.finishedAt],
    );
  }

  async finishedUpload(uploadId: string, now: number): Promise<FinishedUpload | undefined> {
    const { rows } = await this.pool.query<{ upload_id: string; tenant_id: string; user_id: string; size: string; finished_at: string }>(
      `SELECT upload_id, tenant_id, user_id, size, finished_at FROM ${this.t('attachment_finished_uploads')} WHERE upload_id = $1 AND finished_at >= $2`,
      [uploadId, now - this.expiryMs],
    );
    const row = rows[0];
    return row ? { uploadId: row.upload_id, tenantId: row.tenant_id, userId: row.user_id, size: Number(row.size), finishedAt: Number(row.finished_at) } : undefined;
  }

  async underFinishClaim<T>(uploadId: string, work: () => Promise<T>): Promise<Claimed<T>> {
    const key = createHash('sha256').update(`${this.schema}:${uploadId}`).digest().readInt32BE(0);
    const deadline = performance.now() + this.finishWaitMs;
    if (!await this.finishSlots.acquire(this.finishWaitMs)) return { busy: true };
    try {
      // A session lock on a connection of its own, held while `work` runs: every process sharing
      // the database sees it, and it ends with the connection should this process die. The pool
      // may be short of connections for other work too: that wait has the same bound.
      const client = await within(this.pool.connect(), deadline - performance.now(), (late) => late.release());
      if (!client) return { busy: true };
      let unlocked = false;
      try {
        const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [FINISH_LOCK_NAMESPACE, key]);
        if (!rows[0]?.got) {
          unlocked = true;
          return { busy: true };
        }
        try {
          return { busy: false, value: await work() };
        } finally {
          // An unlock that fails leaves `unlocked` false: the connection is then closed, which drops the lock.
          await client.query('SELECT pg_advisory_unlock($1, $2)', [FINISH_LOCK_NAMESPACE, key]).then(() => { unlocked = true; }, () => undefined);
        }
      } finally {
        client.release(!unlocked);
      }
    } finally {
      this.finishSlots.release();
    }
  }

  async discardUpload(uploadId: string): Promise<void> {
    await this.uploads.remove(uploadId);
  }

  async getObject(sha256: string): Promise<StoredObject | undefined> {
    const { rows } = await this.pool.query<{ content_type: string; size: number; bytes: Buffer }>(`SELECT content_type, size, bytes FROM ${this.t('attachment_objects')} WHERE sha256 = $1`, [sha256]);
    const row = rows[0];
    return row ? { contentType: row.content_type, size: row.size, bytes: row.bytes } : undefined;
  }

  async isLinked(link: AttachmentLink): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM ${this.t('attachment_links')} WHERE tenant_id = $1 AND collection = $2 AND doc_id = $3 AND sha256 = $4`,
      [link.tenantId, link.collection, link.docId, link.sha256],
    );
    return rowCount === 1;
  }

  async missingLinks(tenantId: string, collection: string, docId: string, shas: readonly string[]): Promise<string[]> {
    if (shas.length === 0) return [];
    const { rows } = await this.pool.query<{ sha256: string }>(
      `SELECT sha256 FROM ${this.t('attachment_links')} WHERE tenant_id = $1 AND collection = $2 AND doc_id = $3 AND sha256 = ANY($4)`,
      [tenantId, collection, docId, [...shas]],
    );
    const have = new Set(rows.map((r) => r.sha256));
    return shas.filter((sha) => !have.has(sha));
  }

  async objectCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.t('attachment_objects')}`);
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    // The pool is the document store's; it closes it.
  }
}
