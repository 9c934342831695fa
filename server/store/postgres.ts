import { createHash } from 'node:crypto';
import pg from 'pg';
import { CommitNotifier } from './commit-notifier.ts';
import { AuditKey, ChainVerifier, GENESIS_HASH, IndexMerge, type AuditChainReport, type AuditVerifyOptions } from './audit-chain.ts';
import type { DecidedWrite, QuarantinedRequest } from './decisions.ts';
import { checkedPlanner } from './outbox-planner.ts';
import { quarantineJson, storableText } from './document-json.ts';
import type { OutboxPlanner } from './types.ts';
import { applyWriteBatch, type AppliedBatch, type WriteTransaction } from './write-path.ts';
import type {
  Actor, AuditEntry, AuditEntryInput, AuditQuery, CommitEvent, FieldTest, OutboxEntry, OutboxEntryInput, OutboxQueue, PullPage, PullQuery,
  QuarantineEntry, QuarantineQuery, ScopedPullQuery, Store, StoredDocument, WriteBatch, WriteResult,
} from './types.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db`; ignored when `pool` carries its own connection settings. */
  connectionString?: string;
  /** Pool settings (size, timeouts, ssl...); merged over `connectionString`. */
  pool?: pg.PoolConfig;
  /** Schema holding the tables (created if missing); `public` by default. */
  schema?: string;
  /** Plans the outbox entries of every write (the hooks' workflows); see `Store.useOutboxPlanner`. */
  outboxPlanner?: OutboxPlanner;
  /** The audit chain's key (the server's AUDIT_KEY); tools and tests without one get AuditKey.PUBLIC_TEST_KEY. */
  chainKey?: AuditKey;
  /** Runs inside every write transaction just before COMMIT; throwing fails it (tests of that path only). */
  beforeCommit?: () => void;
}

/**
 * PostgreSQL store, with the same semantics as the SQLite one.
 *
 * Commit order. Every transaction that hands out an order-carrying number (document `seq`,
 * audit id and hash chain, outbox id, quarantine id) first takes one transaction-scoped advisory
 * lock, then reads the current head (last seq, last audit hash) and only then assigns numbers.
 * The lock is released by PostgreSQL after the commit is visible to new snapshots, so the next
 * writer reads a head that includes the previous commit, and commit order equals number order.
 * Consequently every snapshot (every single read statement) sees a gap-free prefix of the commit
 * order: it cannot see seq N+1 without seq N, and a pull that returns up to seq N never misses a
 * document committed with a lower seq later. Reads take no lock and never wait for writers.
 *
 * Commit notifications. Within this process write transactions also run one at a time, so the
 * listeners hear commits in commit order right after each COMMIT returns; concurrent pooled
 * transactions could otherwise have their COMMIT replies processed out of order. Since writers
 * serialize on the advisory lock anyway, this costs almost nothing, and the writes that queue up
 * meanwhile share the next transaction (group commit, see `transaction`).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly notifier = new CommitNotifier();
  private readonly t: (table: string) => string;
  /** The advisory lock every ordered write holds: (fieldsync namespace, hash of the schema name). */
  readonly lockKey: readonly [number, number];
  /** Writes waiting for the next group, and the group running now (one at a time; see `transaction`). */
  private readonly queued: QueuedWrite[] = [];
  private running: Promise<void> | undefined;
  /** Test seam: runs inside every transaction just before COMMIT; throwing fails the transaction. */
  private readonly beforeCommit: (() => void) | undefined;
  /** Statement names by SQL text: each is parsed and planned once per connection. */
  private readonly statementNames = new Map<string, string>();
  private closed = false;
  private planner: OutboxPlanner | undefined;
  private readonly auditKey: AuditKey;

  constructor(options: PostgresStoreOptions) {
    this.auditKey = options.chainKey ?? AuditKey.PUBLIC_TEST_KEY;
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new Error(`PostgresStore: schema "${schema}" must be a plain identifier (letters, digits, _)`);
    this.schema = schema;
    this.beforeCommit = options.beforeCommit;
    this.planner = options.outboxPlanner;
    const quoted = pg.escapeIdentifier(schema);
    this.t = (table) => `${quoted}.${table}`;
    this.lockKey = [LOCK_NAMESPACE, createHash('sha256').update(`fieldsync:${schema}`).digest().readInt32BE(0)];
    this.pool = new pg.Pool({
      ...(options.connectionString ? { connectionString: options.connectionString } : {}),
      // A writer that stalls inside its transaction holds the write lock: end such a session
      // (its transaction rolls back) rather than stop every writer. Dead peers are noticed by keepalive.
      idle_in_transaction_session_timeout: 60_000,
      keepAlive: true,
      ...options.pool,
      types: INT8_AS_NUMBER,
    });
    // An idle client that loses its connection is dropped by the pool; without a listener the
    // 'error' event would crash the process. The next query simply gets a new connection.
    this.pool.on('error', (error) => {
      console.error('postgres store: an idle connection failed (it is replaced on next use)', error.message);
    });
  }

  /**
   * The connection pool, for the identity store and the shared rate limits that live beside the
   * documents in this schema (server/auth/identity-store-postgres.ts): one pool per process.
   */
  get connections(): pg.Pool {
    return this.pool;
  }

  /** Connects, creates the schema and tables if missing, and returns the ready store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Idempotent DDL; serialized with the write lock so several processes may start at once. */
  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${this.lockKey[0]}, ${this.lockKey[1]})`);
      await client.query(schemaSql(this.schema, this.t));
      await client.query('COMMIT');
    } catch (error) {
      broken = await rollback(client);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  // ---------------------------------------------------------------- writes

  useOutboxPlanner(planner: OutboxPlanner): void {
    this.planner = checkedPlanner(this.planner, planner);
  }

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    return this.transaction(async (tx): Promise<AppliedBatch> => {
      const masters = await this.currentRows(tx.client, batch.collection, batch.requests.map((r) => r.id));
      // The shared write path collects every row; one statement then sends them all.
      const write = new WriteStatement(this.t, tx);
      const applied = applyWriteBatch(batch, masters, write, this.planner);
      await write.run(this, tx.client);
      return applied;
    }, ({ result, objects }) => {
      if (result.written.length > 0) {
        this.notifier.emit({ collection: batch.collection, tenantId: batch.tenantId, documents: result.written, objects });
      }
    }).then((applied) => applied.result);
  }

  /** The stored rows of these ids, by id, read inside the write transaction (after its lock, so no decision can race). */
  private async currentRows(client: pg.PoolClient, collection: string, ids: string[]): Promise<Map<string, StoredDocument>> {
    const masters = new Map<string, StoredDocument>();
    const lookup = storableIds(ids);
    if (lookup.length === 0) return masters;
    const rows = await this.query<DocumentRow>(client,
      `SELECT collection, id, tenant_id, seq, body, committed_at FROM ${this.t('documents')} WHERE collection = $1 AND id = ANY($2::text[])`,
      [collection, lookup]);
    for (const row of rows) masters.set(row.id, toStored(row));
    return masters;
  }

  async quarantine(collection: string, tenantId: string, actor: Actor, items: { id: string; reason: string; doc: unknown }[]): Promise<void> {
    await this.transaction(async (tx) => {
      const write = new WriteStatement(this.t, tx);
      write.putQuarantine(collection, tenantId, actor, items.map((item) => ({ id: storableText(item.id), reason: storableText(item.reason), json: quarantineJson(item.doc) })));
      // The next write of the same transaction (group commit) chains onto this entry.
      write.appendAudit([{
        tenantId, action: 'quarantine', actor, collection,
        documents: items.map((i) => ({ id: storableText(i.id) })), details: { reasons: items.map((i) => storableText(i.reason)) },
      }]);
      await write.run(this, tx.client);
    });
  }

  async appendAudit(entries: AuditEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await this.transaction(async (tx) => {
      const write = new WriteStatement(this.t, tx);
      write.appendAudit(entries);
      await write.run(this, tx.client);
    });
  }

  async enqueueOutbox(entries: OutboxEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await this.transaction(async (tx) => {
      const write = new WriteStatement(this.t, tx);
      write.insertOutbox(entries);
      await write.run(this, tx.client);
    }, () => {
      this.notifier.emit({ collection: '', tenantId: entries[0]!.tenantId, documents: [] });
    });
  }

  /**
   * Runs `work` in a transaction holding the store's advisory lock, with the head (last seq and
   * last audit hash) read after the lock was granted. `committed` runs after COMMIT, before the
   * next write transaction of this process starts, which keeps notifications in commit order.
   *
   * Group commit: writes that queue up while a transaction of this process runs share the next
   * one (one lock, one COMMIT and one WAL flush for all), each in its own SAVEPOINT, so a write
   * that fails is rolled back alone (its seqs and audit hash are handed back) and only its caller
   * gets the error. A write that finds nothing running starts at once, alone, without a savepoint.
   * Every caller is answered after the COMMIT; if it fails, every write of the group fails.
   */
  private transaction<T>(work: (tx: Transaction) => Promise<T>, committed?: (value: T) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('PostgresStore is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ work, committed, resolve, reject } as QueuedWrite);
      this.startGroup();
    });
  }

  private startGroup(): void {
    if (this.running || this.queued.length === 0) return;
    const group = this.queued.splice(0);
    this.running = this.runGroup(group).finally(() => {
      this.running = undefined;
      this.startGroup();
    });
  }

  private async runGroup(group: QueuedWrite[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    /** Whether a failure is the lone write's own (its work threw) rather than the transaction's. */
    let inWork = false;
    try {
      client = await this.pool.connect();
      // One round trip; each statement gets its own snapshot (READ COMMITTED), so the head
      // is read after the lock is held and includes every earlier commit.
      const results = await client.query(
        `BEGIN; SELECT pg_advisory_xact_lock(${this.lockKey[0]}, ${this.lockKey[1]}); `
        + `SELECT last_seq, (SELECT hash FROM ${this.t('audit')} ORDER BY id DESC LIMIT 1) AS last_hash FROM ${this.t('head')} WHERE id = 1`,
      ) as unknown as pg.QueryResult<{ last_seq: number; last_hash: string | null }>[];
      const head = results[2]?.rows[0];
      if (!head) throw new Error(`PostgresStore: ${this.schema}.head is missing; was the store opened with PostgresStore.open()?`);
      const tx: Transaction = { client, now: Date.now(), lastSeq: head.last_seq, lastHash: head.last_hash ?? GENESIS_HASH, auditKey: this.auditKey };
      if (group.length === 1) {
        inWork = true;
        outcomes.push({ ok: true, value: await group[0]!.work(tx) });
        inWork = false;
      } else {
        for (const item of group) {
          const before = { lastSeq: tx.lastSeq, lastHash: tx.lastHash };
          await client.query('SAVEPOINT fieldsync_write');
          try {
            const value = await item.work(tx);
            await client.query('RELEASE SAVEPOINT fieldsync_write');
            outcomes.push({ ok: true, value });
          } catch (error) {
            // A failure of the connection itself ends here (the rollback throws): the whole group fails.
            await client.query('ROLLBACK TO SAVEPOINT fieldsync_write');
            tx.lastSeq = before.lastSeq;
            tx.lastHash = before.lastHash;
            outcomes.push({ ok: false, error });
          }
        }
      }
      this.beforeCommit?.();
      await client.query('COMMIT');
    } catch (error) {
      if (client) broken = await rollback(client);
      client?.release(broken);
      // A write whose own work failed gets its own error; the others learn that the transaction
      // did not commit.
      const failed = new Error(`The store could not commit this write (${error instanceof Error ? error.message : String(error)}); nothing of it was written. Retry the request.`, { cause: error });
      group.forEach((item, i) => {
        const own = outcomes[i];
        item.reject(inWork ? error : own && !own.ok ? own.error : failed);
      });
      return;
    }
    client.release();
    // Still before the next group of this process starts: notifications keep commit order.
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) {
        item.reject(outcome.error);
        return;
      }
      try {
        item.committed?.(outcome.value);
      } catch (error) {
        console.error('a commit callback failed; the write itself is committed', error);
      }
      item.resolve(outcome.value);
    });
  }

  // ---------------------------------------------------------------- reads

  async pull(query: PullQuery): Promise<PullPage> {
    const rows = await this.query<DocumentRow>(this.pool,
      `SELECT collection, id, tenant_id, seq, body, committed_at FROM ${this.t('documents')}
       WHERE collection = $1 AND tenant_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [query.collection, query.tenantId, query.afterSeq, query.limit]);
    const documents = rows.map(toStored);
    return { documents, lastSeq: documents.length > 0 ? documents[documents.length - 1]!.seq : query.afterSeq };
  }

  /**
   * The page and the high-water mark come from one statement, hence one snapshot: a short page
   * may only claim to have examined what that snapshot contained.
   */
  async pullScoped(query: ScopedPullQuery): Promise<PullPage> {
    const { filter } = query;
    const docs = this.t('documents');
    const params: unknown[] = [query.collection, query.tenantId, query.afterSeq, query.limit];
    let sql: string;
    if (filter.kind === 'where') {
      if (filter.anyOf.length === 0) {
        const rows = await this.query<{ high: number | null }>(this.pool,
          `SELECT max(seq) AS high FROM ${docs} WHERE collection = $1 AND tenant_id = $2`, [query.collection, query.tenantId]);
        return { documents: [], lastSeq: Math.max(query.afterSeq, rows[0]?.high ?? query.afterSeq) };
      }
      const clause = filter.anyOf.map((alt) => `(${alt.length === 0 ? 'TRUE' : alt.map((t) => fieldTestSql(t, 's.j', params)).join(' AND ')})`).join(' OR ');
      sql = `SELECT h.high, p.collection, p.id, p.tenant_id, p.seq, p.body, p.committed_at
        FROM (SELECT max(seq) AS high FROM ${docs} WHERE collection = $1 AND tenant_id = $2) h
        LEFT JOIN LATERAL (
          SELECT s.collection, s.id, s.tenant_id, s.seq, s.body, s.committed_at FROM (
            SELECT collection, id, tenant_id, seq, body, committed_at, ${FILTERABLE_BODY} AS j FROM ${docs}
            WHERE collection = $1 AND tenant_id = $2 AND seq > $3 ORDER BY seq OFFSET 0) s
          WHERE ${clause} ORDER BY s.seq LIMIT $4) p ON TRUE
        ORDER BY p.seq`;
    } else {
      params.push(filter.collection, jsonKey(filter.key));
      const clause = filter.where.length === 0 ? 'TRUE' : filter.where.map((t) => fieldTestSql(t, 's.j', params)).join(' AND ');
      // Each target's position in the order is the later of its own seq and its newest referencing document's.
      sql = `WITH refs AS (
          SELECT s.j ->> $6 AS ref, max(s.seq) AS rseq FROM (
            SELECT seq, ${FILTERABLE_BODY} AS j FROM ${docs} WHERE collection = $5 AND tenant_id = $2 AND NOT deleted OFFSET 0) s
          WHERE ${clause} GROUP BY 1)
        SELECT h.high, p.collection, p.id, p.tenant_id, p.seq, p.body, p.committed_at
        FROM (SELECT GREATEST(
            (SELECT max(seq) FROM ${docs} WHERE collection = $1 AND tenant_id = $2),
            (SELECT max(seq) FROM ${docs} WHERE collection = $5 AND tenant_id = $2)) AS high) h
        LEFT JOIN LATERAL (
          SELECT d.collection, d.id, d.tenant_id, GREATEST(d.seq, r.rseq) AS seq, d.body, d.committed_at
          FROM refs r JOIN ${docs} d ON d.collection = $1 AND d.id = r.ref
          WHERE r.ref IS NOT NULL AND d.tenant_id = $2 AND GREATEST(d.seq, r.rseq) > $3
          ORDER BY 4 LIMIT $4) p ON TRUE
        ORDER BY p.seq`;
    }
    const rows = await this.query<DocumentRow & { high: number | null }>(this.pool, sql, params);
    const high = rows[0]?.high ?? null;
    const documents = rows.filter((row) => row.id !== null).map(toStored);
    // A full page may have more after it; a short page reached the end of the snapshot.
    const lastSeq = documents.length === query.limit
      ? documents[documents.length - 1]!.seq
      : Math.max(query.afterSeq, high ?? query.afterSeq);
    return { documents, lastSeq };
  }

  async getDocuments(collection: string, tenantId: string, ids: string[]): Promise<StoredDocument[]> {
    const lookup = storableIds(ids);
    if (lookup.length === 0) return [];
    const rows = await this.query<DocumentRow>(this.pool,
      `SELECT collection, id, tenant_id, seq, body, committed_at FROM ${this.t('documents')} WHERE collection = $1 AND id = ANY($2::text[])`,
      [collection, lookup]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const found: StoredDocument[] = [];
    for (const id of ids) {
      const row = byId.get(id);
      if (row && row.tenant_id === tenantId) found.push(toStored(row));
    }
    return found;
  }

  async countDocuments(collection: string, tenantId: string): Promise<number> {
    const rows = await this.query<{ n: number }>(this.pool,
      `SELECT count(*) AS n FROM ${this.t('documents')} WHERE collection = $1 AND tenant_id = $2`, [collection, tenantId]);
    return rows[0]?.n ?? 0;
  }

  /** A COMMIT here returns once PostgreSQL made it durable, so early listeners hear commits with the others. */
  onCommit(listener: (event: CommitEvent) => void): () => void {
    return this.notifier.subscribe(listener);
  }

  async listQuarantine(tenantId: string, limit: number): Promise<QuarantineEntry[]> {
    const rows = await this.query<QuarantineRow>(this.pool,
      `SELECT * FROM ${this.t('quarantine')} WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`, [tenantId, limit]);
    return rows.map(toQuarantineEntry);
  }

  async findQuarantine(query: QuarantineQuery): Promise<QuarantineEntry[]> {
    const params: unknown[] = [query.tenantId, query.afterId ?? 0];
    const where = ['tenant_id = $1', 'id > $2'];
    if (query.collection !== undefined) {
      params.push(query.collection);
      where.push(`collection = $${params.length}`);
    }
    if (query.documentIds !== undefined) {
      params.push(storableIds(query.documentIds));
      where.push(`document_id = ANY($${params.length}::text[])`);
    }
    if (query.deviceId !== undefined) {
      params.push(query.deviceId);
      where.push(`actor::jsonb ->> 'deviceId' = $${params.length}`);
    }
    params.push(query.limit);
    const rows = await this.query<QuarantineRow>(this.pool,
      `SELECT * FROM ${this.t('quarantine')} WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`, params);
    return rows.map(toQuarantineEntry);
  }

  // ---------------------------------------------------------------- outbox

  async dueOutbox(now: number, limit: number, queue: OutboxQueue = 'hooks'): Promise<OutboxEntry[]> {
    const rows = await this.query<OutboxRow>(this.pool,
      `SELECT * FROM ${this.t('outbox')} WHERE queue = $1 AND done = 0 AND next_attempt_at <= $2 ORDER BY id LIMIT $3`, [queue, now, limit]);
    return rows.map(toOutboxEntry);
  }

  async completeOutbox(id: number): Promise<void> {
    await this.query(this.pool, `UPDATE ${this.t('outbox')} SET done = 1, attempts = attempts + 1 WHERE id = $1`, [id]);
  }

  async retryOutboxLater(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.query(this.pool,
      `UPDATE ${this.t('outbox')} SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3`, [nextAttemptAt, error, id]);
  }

  async deadLetterOutbox(id: number, error: string): Promise<void> {
    await this.query(this.pool, `UPDATE ${this.t('outbox')} SET done = 2, attempts = attempts + 1, last_error = $1 WHERE id = $2`, [error, id]);
  }

  async listDeadLetters(tenantId: string | undefined, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.query<OutboxRow>(this.pool,
      `SELECT * FROM ${this.t('outbox')} WHERE done = 2 AND ($1::text IS NULL OR tenant_id = $1) ORDER BY id DESC LIMIT $2`, [tenantId ?? null, limit]);
    return rows.map(toOutboxEntry);
  }

  async retryDeadLetter(id: number, tenantId: string | undefined): Promise<boolean> {
    // A retried dead letter gets a full retry budget again, not a single last attempt.
    const result = await this.pool.query(this.named(
      `UPDATE ${this.t('outbox')} SET done = 0, attempts = 0, next_attempt_at = $1 WHERE id = $2 AND done = 2 AND ($3::text IS NULL OR tenant_id = $3)`,
      [Date.now(), id, tenantId ?? null]));
    return (result.rowCount ?? 0) > 0;
  }

  async outboxStats(now: number, queue: OutboxQueue = 'hooks'): Promise<{ depth: number; oldestAgeMs: number; deadLetters: number }> {
    const rows = await this.query<{ depth: number; oldest: number | null; dead: number }>(this.pool,
      `SELECT (SELECT count(*) FROM ${this.t('outbox')} WHERE queue = $1 AND done = 0) AS depth,
              (SELECT min(created_at) FROM ${this.t('outbox')} WHERE queue = $1 AND done = 0) AS oldest,
              (SELECT count(*) FROM ${this.t('outbox')} WHERE done = 2) AS dead`, [queue]);
    const row = rows[0];
    return { depth: row?.depth ?? 0, oldestAgeMs: row?.oldest ? now - row.oldest : 0, deadLetters: row?.dead ?? 0 };
  }

  // ---------------------------------------------------------------- artifacts

  async putArtifact(key: string, tenantId: string, contentType: string, content: string): Promise<void> {
    await this.query(this.pool,
      `INSERT INTO ${this.t('artifacts')} (key, tenant_id, content_type, content, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET content_type = EXCLUDED.content_type, content = EXCLUDED.content, created_at = EXCLUDED.created_at`,
      [key, tenantId, contentType, content, Date.now()]);
  }

  async getArtifact(key: string, tenantId: string): Promise<{ contentType: string; content: string; createdAt: number } | undefined> {
    const rows = await this.query<{ content_type: string; content: string; created_at: number }>(this.pool,
      `SELECT content_type, content, created_at FROM ${this.t('artifacts')} WHERE key = $1 AND tenant_id = $2`, [key, tenantId]);
    const row = rows[0];
    return row ? { contentType: row.content_type, content: row.content, createdAt: row.created_at } : undefined;
  }

  // ---------------------------------------------------------------- agency settings

  async getAgencySettings(tenantId: string): Promise<{ json: string; updatedAt: number } | undefined> {
    const rows = await this.query<{ body: string; updated_at: number }>(this.pool,
      `SELECT body, updated_at FROM ${this.t('agency_settings')} WHERE tenant_id = $1`, [tenantId]);
    const row = rows[0];
    return row ? { json: row.body, updatedAt: row.updated_at } : undefined;
  }

  async putAgencySettings(tenantId: string, json: string, audit: AuditEntryInput): Promise<void> {
    await this.transaction(async (tx) => {
      await this.query(tx.client,
        `INSERT INTO ${this.t('agency_settings')} (tenant_id, body, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET body = EXCLUDED.body, updated_at = EXCLUDED.updated_at`,
        [tenantId, json, tx.now]);
      const write = new WriteStatement(this.t, tx);
      write.appendAudit([audit]);
      await write.run(this, tx.client);
    });
  }

  // ---------------------------------------------------------------- audit

  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const from = query.from ?? 0;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const fetch = query.limit * (query.userId ? 10 : 1);
    const documentId = query.documentId;
    // By document: its index rows, plus a scan of the tenant's unindexed entries (document_id '').
    const rows = documentId
      ? await this.query<AuditRow>(this.pool,
        `SELECT a.* FROM ${this.t('audit_documents')} d JOIN ${this.t('audit')} a ON a.id = d.audit_id
         WHERE (d.document_id = $1 OR (d.document_id = '' AND strpos(a.entry, $6) > 0))
           AND a.tenant_id = $2 AND a.at >= $3 AND a.at <= $4 ORDER BY a.id DESC LIMIT $5`,
        [documentId, query.tenantId, from, to, fetch, `"id":${JSON.stringify(documentId)}`])
      : await this.query<AuditRow>(this.pool,
        `SELECT * FROM ${this.t('audit')} WHERE tenant_id = $1 AND at >= $2 AND at <= $3 ORDER BY id DESC LIMIT $4`,
        [query.tenantId, from, to, fetch]);
    return rows.map(toAuditEntry)
      .filter((e) => !documentId || e.documents?.some((d) => d.id === documentId))
      .filter((e) => !query.userId || e.actor.userId === query.userId).slice(0, query.limit);
  }

  /**
   * Walks the chain in id order (= append order, ids are assigned under the write lock) with its
   * index rows, through two cursors of one read-only REPEATABLE READ transaction: one snapshot,
   * a page at a time, however long the log.
   */
  async verifyAudit(options: AuditVerifyOptions = {}): Promise<AuditChainReport> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`DECLARE fs_audit NO SCROLL CURSOR FOR SELECT id, at, tenant_id, entry, prev_hash, hash FROM ${this.t('audit')} ORDER BY id`);
      await client.query(`DECLARE fs_audit_index NO SCROLL CURSOR FOR SELECT audit_id, document_id FROM ${this.t('audit_documents')} ORDER BY audit_id`);
      const buffer: { auditId: number; documentId: string }[] = [];
      let taken = 0;
      let indexDone = false;
      const fetchIndex = async () => {
        const rows = (await client.query<{ audit_id: number; document_id: string }>(`FETCH ${VERIFY_PAGE} FROM fs_audit_index`)).rows;
        if (taken > VERIFY_PAGE) {
          buffer.splice(0, taken);
          taken = 0;
        }
        for (const row of rows) buffer.push({ auditId: Number(row.audit_id), documentId: row.document_id });
        if (rows.length < VERIFY_PAGE) indexDone = true;
      };
      const merge = new IndexMerge(new ChainVerifier(this.auditKey, options), () => (taken < buffer.length ? buffer[taken++] : undefined));
      for (;;) {
        const rows = (await client.query<AuditRow>(`FETCH ${VERIFY_PAGE} FROM fs_audit`)).rows;
        for (const row of rows) {
          const id = Number(row.id);
          // Every index row of this entry must be in hand: read on until one of a later entry is.
          while (!indexDone && (taken >= buffer.length || buffer[buffer.length - 1]!.auditId <= id)) await fetchIndex();
          merge.row({ id, at: Number(row.at), tenantId: row.tenant_id, entry: row.entry, prevHash: row.prev_hash, hash: row.hash });
        }
        if (rows.length < VERIFY_PAGE) break;
      }
      while (!indexDone) await fetchIndex();
      await client.query('COMMIT');
      return merge.finish();
    } catch (error) {
      broken = await rollback(client);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async auditHead(afterId: number): Promise<{ lastId: number; lastHash: string; countAfter: number } | undefined> {
    // One statement, one snapshot: the count and the head agree.
    const rows = await this.query<{ id: number; hash: string; after: number }>(this.pool,
      `SELECT id, hash, (SELECT COUNT(*) FROM ${this.t('audit')} WHERE id > $1) AS after FROM ${this.t('audit')} ORDER BY id DESC LIMIT 1`, [afterId]);
    const row = rows[0];
    return row ? { lastId: Number(row.id), lastHash: row.hash, countAfter: Number(row.after) } : undefined;
  }

  // ---------------------------------------------------------------- lifecycle

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    this.notifier.clear();
    if (this.closed) return;
    this.closed = true;
    // Let write transactions already queued finish before the pool goes away.
    while (this.running) await this.running;
    await this.pool.end();
  }

  /** A named (prepared once per connection) parameterised query. Internal: for this file's statements. */
  named(text: string, values: unknown[]): pg.QueryConfig {
    let name = this.statementNames.get(text);
    if (!name) {
      name = `fs_${this.statementNames.size}_${this.lockKey[1] >>> 0}`;
      this.statementNames.set(text, name);
    }
    return { name, text, values };
  }

  /** Internal: runs one of this file's statements on the pool or a transaction's client. */
  async query<R extends pg.QueryResultRow>(on: pg.Pool | pg.PoolClient, text: string, values: unknown[]): Promise<R[]> {
    const result = await on.query<R>(this.named(text, values));
    return result.rows;
  }
}

/** A write waiting for its group (see `PostgresStore.transaction`). */
interface QueuedWrite {
  work: (tx: Transaction) => Promise<unknown>;
  committed: ((value: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Transaction {
  client: pg.PoolClient;
  /** Server clock for the whole transaction, taken after the lock was granted. */
  now: number;
  /** The last seq handed out; incremented for each write decision. */
  lastSeq: number;
  /** The hash of the last audit entry (genesis if none). */
  lastHash: string;
  /** The store's audit key, which chains each entry. */
  auditKey: AuditKey;
}

/**
 * Everything a write transaction inserts, as one statement of data-modifying CTEs fed by
 * arrays (one round trip whatever the batch size): this engine's primitives of the write path.
 * Rows whose ids carry order (audit, outbox, quarantine) are inserted in input order, so their
 * identity values follow it. Seqs and the audit chain continue from the transaction's head.
 */
class WriteStatement implements WriteTransaction {
  private readonly parts: string[] = [];
  private readonly values: unknown[] = [];
  private readonly docs = { ids: [] as string[], seqs: [] as number[], deleted: [] as boolean[], bodies: [] as string[] };
  private docMeta: { collection: string; tenantId: string; lastSeq: number } | undefined;
  private readonly q = { collections: [] as string[], ids: [] as string[], tenants: [] as string[], actors: [] as string[], reasons: [] as string[], bodies: [] as string[] };
  private readonly a = { tenants: [] as string[], entries: [] as string[], prevs: [] as string[], hashes: [] as string[], docHashes: [] as string[], docIds: [] as string[] };
  private readonly o = { keys: [] as string[], kinds: [] as string[], tenants: [] as string[], payloads: [] as string[], causations: [] as string[], queues: [] as string[] };
  readonly now: number;

  constructor(private readonly t: (table: string) => string, private readonly tx: Transaction) {
    this.now = tx.now;
  }

  nextSeq(): number {
    return ++this.tx.lastSeq;
  }

  putDocuments(collection: string, tenantId: string, writes: readonly DecidedWrite[]): void {
    this.docMeta = { collection, tenantId, lastSeq: this.tx.lastSeq };
    for (const { stored, doc } of writes) {
      this.docs.ids.push(stored.id);
      this.docs.seqs.push(stored.seq);
      this.docs.deleted.push(Boolean(doc._deleted));
      this.docs.bodies.push(stored.json);
    }
  }

  putQuarantine(collection: string, tenantId: string, actor: Actor, items: readonly QuarantinedRequest[]): void {
    const actorJson = JSON.stringify(actor);
    for (const item of items) {
      this.q.collections.push(collection);
      this.q.ids.push(item.id);
      this.q.tenants.push(tenantId);
      this.q.actors.push(actorJson);
      this.q.reasons.push(item.reason);
      this.q.bodies.push(item.json);
    }
  }

  /**
   * Chains the entries after the transaction's last hash, which then moves to the last of them.
   * `index` false: one `audit_documents` row with document_id '' instead of one per document (see WriteBatch.auditIndex).
   */
  appendAudit(entries: AuditEntryInput[], index = true): void {
    let prev = this.tx.lastHash;
    for (const entry of entries) {
      const text = JSON.stringify(entry);
      const hash = this.tx.auditKey.hash(prev, this.now, entry.tenantId, text);
      this.a.tenants.push(entry.tenantId);
      this.a.entries.push(text);
      this.a.prevs.push(prev);
      this.a.hashes.push(hash);
      for (const id of !index && entry.documents?.length ? [''] : (entry.documents ?? []).map((d) => d.id)) {
        this.a.docHashes.push(hash);
        this.a.docIds.push(id);
      }
      prev = hash;
    }
    this.tx.lastHash = prev;
  }

  insertOutbox(entries: readonly OutboxEntryInput[]): void {
    for (const entry of entries) {
      this.o.keys.push(entry.key);
      this.o.kinds.push(entry.kind);
      this.o.tenants.push(entry.tenantId);
      this.o.payloads.push(JSON.stringify(entry.payload));
      this.o.causations.push(entry.causationId);
      this.o.queues.push(entry.queue ?? 'hooks');
    }
  }

  private p(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  async run(store: PostgresStore, client: pg.PoolClient): Promise<void> {
    const { t } = this;
    const now = this.p(this.now);
    if (this.docMeta && this.docs.ids.length > 0) {
      this.parts.push(`d AS (INSERT INTO ${t('documents')} (collection, id, tenant_id, seq, deleted, body, committed_at)
        SELECT ${this.p(this.docMeta.collection)}, u.id, ${this.p(this.docMeta.tenantId)}, u.seq, u.deleted, u.body, ${now}
        FROM unnest(${this.p(this.docs.ids)}::text[], ${this.p(this.docs.seqs)}::bigint[], ${this.p(this.docs.deleted)}::boolean[], ${this.p(this.docs.bodies)}::text[]) AS u(id, seq, deleted, body)
        ON CONFLICT (collection, id) DO UPDATE SET seq = EXCLUDED.seq, deleted = EXCLUDED.deleted, body = EXCLUDED.body, committed_at = EXCLUDED.committed_at)`);
      this.parts.push(`h AS (UPDATE ${t('head')} SET last_seq = ${this.p(this.docMeta.lastSeq)} WHERE id = 1)`);
    }
    if (this.q.ids.length > 0) {
      this.parts.push(`q AS (INSERT INTO ${t('quarantine')} (collection, document_id, tenant_id, actor, reason, body, created_at)
        SELECT u.collection, u.id, u.tenant_id, u.actor, u.reason, u.body, ${now}
        FROM unnest(${this.p(this.q.collections)}::text[], ${this.p(this.q.ids)}::text[], ${this.p(this.q.tenants)}::text[], ${this.p(this.q.actors)}::text[], ${this.p(this.q.reasons)}::text[], ${this.p(this.q.bodies)}::text[])
          WITH ORDINALITY AS u(collection, id, tenant_id, actor, reason, body, ord) ORDER BY u.ord)`);
    }
    if (this.a.hashes.length > 0) {
      this.parts.push(`a AS (INSERT INTO ${t('audit')} (at, tenant_id, entry, prev_hash, hash)
        SELECT ${now}, u.tenant_id, u.entry, u.prev_hash, u.hash
        FROM unnest(${this.p(this.a.tenants)}::text[], ${this.p(this.a.entries)}::text[], ${this.p(this.a.prevs)}::text[], ${this.p(this.a.hashes)}::text[])
          WITH ORDINALITY AS u(tenant_id, entry, prev_hash, hash, ord) ORDER BY u.ord
        RETURNING id, hash)`);
      if (this.a.docIds.length > 0) {
        this.parts.push(`ad AS (INSERT INTO ${t('audit_documents')} (audit_id, document_id)
          SELECT a.id, x.document_id FROM a JOIN unnest(${this.p(this.a.docHashes)}::text[], ${this.p(this.a.docIds)}::text[]) AS x(hash, document_id) ON x.hash = a.hash
          ON CONFLICT DO NOTHING)`);
      }
    }
    if (this.o.keys.length > 0) {
      this.parts.push(`o AS (INSERT INTO ${t('outbox')} (key, kind, tenant_id, payload, causation_id, created_at, next_attempt_at, queue)
        SELECT u.key, u.kind, u.tenant_id, u.payload, u.causation_id, ${now}, ${now}, u.queue
        FROM unnest(${this.p(this.o.keys)}::text[], ${this.p(this.o.kinds)}::text[], ${this.p(this.o.tenants)}::text[], ${this.p(this.o.payloads)}::text[], ${this.p(this.o.causations)}::text[], ${this.p(this.o.queues)}::text[])
          WITH ORDINALITY AS u(key, kind, tenant_id, payload, causation_id, queue, ord) ORDER BY u.ord
        ON CONFLICT (key) DO NOTHING)`);
    }
    if (this.parts.length === 0) return;
    // `now` is always $1; a statement that does not use it would fail to infer its type.
    await store.query(client, `WITH ${this.parts.join(',\n')} SELECT ${now}::bigint AS at`, this.values);
  }
}

function schemaSql(schema: string, t: (table: string) => string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)};
CREATE TABLE IF NOT EXISTS ${t('documents')} (
  collection   TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  tenant_id    TEXT    NOT NULL,
  seq          BIGINT  NOT NULL,
  deleted      BOOLEAN NOT NULL,
  -- the JSON exactly as written (TEXT, not jsonb: byte-for-byte what devices sent and pull returns)
  body         TEXT    NOT NULL,
  committed_at BIGINT  NOT NULL,
  PRIMARY KEY (collection, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_by_seq ON ${t('documents')} (collection, tenant_id, seq);
-- The last seq handed out (seqs are assigned under the write lock from this row).
CREATE TABLE IF NOT EXISTS ${t('head')} (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT  NOT NULL
);
INSERT INTO ${t('head')} (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM ${t('documents')} ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS ${t('outbox')} (
  id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key             TEXT    NOT NULL UNIQUE,
  kind            TEXT    NOT NULL,
  tenant_id       TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  causation_id    TEXT    NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      BIGINT  NOT NULL,
  next_attempt_at BIGINT  NOT NULL,
  last_error      TEXT,
  -- 0 pending, 1 done, 2 dead letter
  done            SMALLINT NOT NULL DEFAULT 0,
  -- which consumer drains the entry: the hook runner, or the CAD bridge (in id order)
  queue           TEXT    NOT NULL DEFAULT 'hooks'
);
CREATE INDEX IF NOT EXISTS outbox_due ON ${t('outbox')} (queue, done, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS outbox_dead ON ${t('outbox')} (id) WHERE done = 2;
CREATE TABLE IF NOT EXISTS ${t('audit')} (
  id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        BIGINT NOT NULL,
  tenant_id TEXT   NOT NULL,
  entry     TEXT   NOT NULL,
  prev_hash TEXT   NOT NULL,
  hash      TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_tenant ON ${t('audit')} (tenant_id, at);
-- "which entries touched document X": one index row per document and entry
CREATE TABLE IF NOT EXISTS ${t('audit_documents')} (
  document_id TEXT   NOT NULL,
  audit_id    BIGINT NOT NULL,
  PRIMARY KEY (document_id, audit_id)
);
CREATE TABLE IF NOT EXISTS ${t('artifacts')} (
  key          TEXT   PRIMARY KEY,
  tenant_id    TEXT   NOT NULL,
  content_type TEXT   NOT NULL,
  content      TEXT   NOT NULL,
  created_at   BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${t('agency_settings')} (
  tenant_id  TEXT   PRIMARY KEY,
  body       TEXT   NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${t('quarantine')} (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  collection  TEXT   NOT NULL,
  document_id TEXT   NOT NULL,
  tenant_id   TEXT   NOT NULL,
  actor       TEXT   NOT NULL,
  reason      TEXT   NOT NULL,
  body        TEXT   NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_by_tenant ON ${t('quarantine')} (tenant_id, id);
CREATE INDEX IF NOT EXISTS quarantine_by_document ON ${t('quarantine')} (tenant_id, document_id);
`;
}

/** 'FSNC': the advisory-lock namespace of fieldsync; the second key is the schema's. */
const LOCK_NAMESPACE = 0x46534e43;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const VERIFY_PAGE = 2000;
const INT8_OID = 20;

/** BIGINT columns (seq, ms timestamps, ids, counts) as numbers: all stay below 2^53. */
const INT8_AS_NUMBER: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A plain top-level field name, bound as a parameter (never spliced into the SQL). */
function jsonKey(field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`scoped pull: "${field}" is not a plain top-level field name`);
  return field;
}

/**
 * A stored document as jsonb, for the filters of a scoped pull. The body column is TEXT and holds
 * what jsonb refuses: a `\u0000` escape or an unpaired surrogate (`\ud800`), in documents
 * stored before push refused them (issue 19: one such report made every filtered ePCR pull of its
 * agency answer 500). For a body with any `\u` escape (JSON.stringify writes none for ordinary
 * text), those escapes are read as U+FFFD for filtering only; the body is sent as stored.
 */
const FILTERABLE_BODY = String.raw`(CASE WHEN strpos(body, '\u') = 0 THEN body::jsonb
  ELSE regexp_replace(body, '\\u(0000|[dD][89abAB][0-9a-fA-F]{2}|[dD][c-fC-F][0-9a-fA-F]{2})', '\\ufffd', 'g')::jsonb END)`;

/**
 * SQL for one field test on the jsonb expression `j`, binding its values. Equality is typed JSON
 * equality: `true` matches JSON true only (SQLite's json_extract also lets it match the number 1),
 * "5" does not match 5 (nor in SQLite), 1 matches 1.0.
 */
function fieldTestSql(test: FieldTest, j: string, params: unknown[]): string {
  params.push(jsonKey(test.field));
  const key = `$${params.length}`;
  if ('present' in test) return `(${j} ->> ${key}) IS NOT NULL`;
  params.push(JSON.stringify(test.equals));
  return `(${j} -> ${key}) = $${params.length}::jsonb`;
}

/**
 * Distinct ids that can exist in a TEXT column. PostgreSQL text cannot hold U+0000, so an id
 * containing it (e.g. a sentinel request id) has no stored document: it is left out of lookups,
 * which then find nothing for it, instead of failing the whole statement. Writing such an id
 * still fails.
 */
function storableIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

async function rollback(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    // The connection is unusable: the pool must destroy it rather than hand it out again.
    return error instanceof Error ? error : new Error(String(error));
  }
}



interface DocumentRow { collection: string; id: string; tenant_id: string; seq: number; body: string; committed_at: number }
interface AuditRow { id: number; at: number; tenant_id: string; entry: string; prev_hash: string; hash: string }
interface QuarantineRow { id: number; collection: string; document_id: string; tenant_id: string; actor: string; reason: string; body: string; created_at: number }
interface OutboxRow {
  id: number; key: string; kind: string; tenant_id: string; payload: string; causation_id: string;
  attempts: number; created_at: number; next_attempt_at: number; last_error: string | null; done: number; queue: string;
}

function toStored(row: DocumentRow): StoredDocument {
  return { collection: row.collection, id: row.id, tenantId: row.tenant_id, seq: row.seq, json: row.body, committedAt: row.committed_at };
}

function toAuditEntry(row: AuditRow): AuditEntry {
  return { ...(JSON.parse(row.entry) as AuditEntryInput), id: row.id, at: row.at, prevHash: row.prev_hash, hash: row.hash };
}

function toQuarantineEntry(row: QuarantineRow): QuarantineEntry {
  return {
    id: row.id, collection: row.collection, documentId: row.document_id, tenantId: row.tenant_id,
    actor: JSON.parse(row.actor) as Actor, reason: row.reason, json: row.body, createdAt: row.created_at,
  };
}

function toOutboxEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id, key: row.key, kind: row.kind, tenantId: row.tenant_id, payload: JSON.parse(row.payload) as unknown,
    causationId: row.causation_id, attempts: row.attempts, createdAt: row.created_at, nextAttemptAt: row.next_attempt_at,
    status: row.done === 0 ? 'pending' : row.done === 1 ? 'done' : 'dead',
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
  };
}
