import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { CommitNotifier } from './commit-notifier.ts';
import { PostgresChangeFeed } from './postgres-change-feed.ts';
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
  /** Runs inside every write transaction just before COMMIT; throwing fails it (tests of that path only). */
  beforeCommit?: () => void;
  /** The audit chain's key (the server's AUDIT_KEY); tools and tests without one get AuditKey.PUBLIC_TEST_KEY. */
  chainKey?: AuditKey;
  /** The change feed's fallback poll (ms); NOTIFY wakes it at once otherwise. Default 250. */
  feedPollMs?: number;
  /** Where the store reports trouble it recovers from by itself (default: console.error). */
  onError?: (message: string, error: unknown) => void;
}

/**
 * PostgreSQL store, with the same semantics as the SQLite one, for any number of processes on one
 * schema.
 *
 * Commit order without a global lock (the PgQ scheme). Every write transaction takes its
 * transaction id first (`pg_current_xact_id()`), and every row that carries order (document
 * `seq`, audit, outbox and quarantine ids) gets a position made of it: `basePos + (xid - baseXid)
 * * TX_SLOTS + i`, `i` counting that transaction's rows of the table. Transactions run side by
 * side and commit in any order, so a position does not become readable in position order; but a
 * transaction whose xid is below the oldest transaction still in progress
 * (`pg_snapshot_xmin(pg_current_snapshot())`) has finished for good, and every later one gets a
 * higher xid. So every read returns only rows below that horizon (`horizonSql`): the rows it
 * returns are a gap-free prefix of what will ever exist, and a pull that returned up to position
 * N never misses a row committed later with a lower one. A long transaction anywhere in the
 * cluster holds the horizon back (changes wait, none is lost): transactions here are kept short
 * (`idle_in_transaction_session_timeout`), and `oldestWriterAgeMs` (in `/metrics`) shows the age
 * of the oldest open writer.
 *
 * Decisions never race: a document's upsert only replaces the version its decision read
 * (`expected` seq); if another transaction replaced it meanwhile the write is re-decided against
 * the new master (`WriteRace`), as is one PostgreSQL chose as a deadlock victim.
 *
 * The audit chain is linked after commit (`AuditChainer`): entries are inserted without hashes,
 * and one process at a time links the entries below the horizon, in id order.
 *
 * Commit notifications come from the database, not from this process's own commits: the change
 * feed (`PostgresChangeFeed`) tails the documents below the horizon, woken by NOTIFY (sent after
 * each COMMIT) with a poll as the fallback, so every process hears every process's commits, and
 * never one a pull could not yet return.
 *
 * Group commit: writes that queue up while a transaction of this process runs share the next
 * one (one COMMIT and one WAL flush for all), each in its own SAVEPOINT (see `transaction`).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly notifier = new CommitNotifier();
  private readonly t: (table: string) => string;
  /**
   * Advisory-lock keys of this schema (fieldsync namespace, hash of the schema name): held only
   * while migrating (several processes may start at once); writes take no global lock.
   */
  readonly lockKey: readonly [number, number];
  /** Where positions start (see the class comment); read from the `head` row when opened. */
  private order: { baseXid: number; basePos: number } | undefined;
  /** This store instance, in NOTIFY payloads (its own outbox notices were already heard locally). */
  private readonly instanceId = randomUUID();
  private readonly channel: string;
  private readonly poolConfig: pg.PoolConfig;
  private readonly feedPollMs: number;
  private readonly auditKey: AuditKey;
  private readonly onError: (message: string, error: unknown) => void;
  private feed: PostgresChangeFeed | undefined;
  /** Set while the feed reads its starting horizon: writes wait for it, so none is missed. */
  private feedStarting: Promise<void> | undefined;
  /** NOTIFY after commit: one at a time, the commits meanwhile share the next one. */
  private notifying = false;
  private readonly notifyQueue = new Set<string>();
  private chainTimer: NodeJS.Timeout | undefined;
  private chaining: Promise<void> | undefined;
  /** Writes waiting for the next group, and the group running now (one at a time; see `transaction`). */
  private readonly queued: QueuedWrite[] = [];
  private running: Promise<void> | undefined;
  /** Test seam: runs inside every transaction just before COMMIT; throwing fails the transaction. */
  private readonly beforeCommit: (() => void) | undefined;
  /** Statement names by SQL text: each is parsed and planned once per connection. */
  private readonly statementNames = new Map<string, string>();
  private closed = false;
  private planner: OutboxPlanner | undefined;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new Error(`PostgresStore: schema "${schema}" must be a plain identifier (letters, digits, _)`);
    this.schema = schema;
    this.beforeCommit = options.beforeCommit;
    this.planner = options.outboxPlanner;
    this.feedPollMs = options.feedPollMs ?? 250;
    this.auditKey = options.chainKey ?? AuditKey.PUBLIC_TEST_KEY;
    this.onError = options.onError ?? ((message, error) => console.error(`postgres store: ${message}`, error instanceof Error ? error.message : error));
    this.channel = `fieldsync_${schema}`.slice(0, 63);
    const quoted = pg.escapeIdentifier(schema);
    this.t = (table) => `${quoted}.${table}`;
    this.lockKey = [LOCK_NAMESPACE, createHash('sha256').update(`fieldsync:${schema}`).digest().readInt32BE(0)];
    this.poolConfig = {
      ...(options.connectionString ? { connectionString: options.connectionString } : {}),
      // A writer that stalls inside its transaction holds back the horizon of every reader (its
      // xid stays the oldest in progress): end such a session (its transaction rolls back) rather
      // than delay every change for long. Write transactions take milliseconds, but a process
      // whose event loop is busy (an export check on a loaded machine) can leave one idle for
      // seconds. Dead peers are noticed by keepalive.
      idle_in_transaction_session_timeout: 30_000,
      keepAlive: true,
      ...options.pool,
      types: INT8_AS_NUMBER,
    };
    this.pool = new pg.Pool(this.poolConfig);
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
    store.chainTimer = setInterval(() => { void store.linkAudit(); }, AUDIT_LINK_MS);
    store.chainTimer.unref();
    return store;
  }

  /**
   * A pooled connection for a transaction. While it is checked out the pool does not listen for
   * its errors: a session PostgreSQL ends meanwhile (idle_in_transaction_session_timeout, a
   * restart) would crash the process. The error is kept for the next query, which fails with it.
   */
  private async checkout(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    client.on('error', onCheckedOutError);
    const release = client.release.bind(client);
    client.release = (error?: Error | boolean) => {
      client.removeListener('error', onCheckedOutError);
      return release(error);
    };
    return client;
  }

  /** Idempotent DDL; serialized with an advisory lock so several processes may start at once. */
  async migrate(): Promise<void> {
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${this.lockKey[0]}, ${this.lockKey[1]})`);
      await client.query(schemaSql(this.schema, this.t));
      const base = await client.query<{ base_xid: number; base_pos: number }>(`SELECT base_xid, base_pos FROM ${this.t('head')} WHERE id = 1`);
      const row = base.rows[0];
      if (!row) throw new Error(`PostgresStore: ${this.schema}.head is missing its row`);
      this.order = { baseXid: row.base_xid, basePos: row.base_pos };
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
    let decided = 0;
    return this.transaction(batch.requests.length, async (tx): Promise<AppliedBatch> => {
      if (decided++ > 0) batch.onRedecide?.();
      const masters = await this.currentRows(tx.client, batch.collection, batch.requests.map((r) => r.id));
      // The shared write path collects every row; one statement then sends them all.
      const write = new WriteStatement(this.t, tx);
      const applied = applyWriteBatch(batch, masters, write, this.planner);
      await write.run(this, tx.client);
      return applied;
    }, ({ result }) => (result.written.length > 0 ? 'documents' : undefined)).then((applied) => applied.result);
  }

  /** The stored rows of these ids, by id, read inside the write transaction (the upsert then checks that none changed since). */
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
    await this.transaction(items.length, async (tx) => {
      const write = new WriteStatement(this.t, tx);
      write.putQuarantine(collection, tenantId, actor, items.map((item) => ({ id: storableText(item.id), reason: storableText(item.reason), json: quarantineJson(item.doc) })));
      write.appendAudit([{
        tenantId, action: 'quarantine', actor, collection,
        documents: items.map((i) => ({ id: storableText(i.id) })), details: { reasons: items.map((i) => storableText(i.reason)) },
      }]);
      await write.run(this, tx.client);
    });
  }

  async appendAudit(entries: AuditEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await this.transaction(entries.length, async (tx) => {
      const write = new WriteStatement(this.t, tx);
      write.appendAudit(entries);
      await write.run(this, tx.client);
    });
  }

  async enqueueOutbox(entries: OutboxEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    const tenantId = entries[0]!.tenantId;
    await this.transaction(entries.length, async (tx) => {
      const write = new WriteStatement(this.t, tx);
      write.insertOutbox(entries);
      await write.run(this, tx.client);
    }, () => {
      // Not a document change (no checkpoint rides on it): this process's runners hear it at once, the others by NOTIFY.
      this.notifier.emit({ collection: '', tenantId, documents: [] });
      return `outbox|${tenantId}`;
    });
  }

  /**
   * Runs `work` in a write transaction that has its xid (hence its positions) from the start.
   * `committed` runs after COMMIT and names what to announce to the other processes
   * ('documents', 'outbox|<tenant>', or nothing).
   *
   * Group commit: writes that queue up while a transaction of this process runs share the next
   * one (one COMMIT and one WAL flush for all), each in its own SAVEPOINT, so a write that fails
   * is rolled back alone and only its caller gets the error. A write whose decision raced with
   * another transaction (`WriteRace`), or which PostgreSQL chose as a deadlock victim, is rolled
   * back to its savepoint and decided again. Every caller is answered after the COMMIT; if it
   * fails, every write of the group fails. `size` (rows the work may order) keeps a group within
   * the positions one transaction has.
   */
  private transaction<T>(size: number, work: (tx: Transaction) => Promise<T>, committed?: (value: T) => string | undefined): Promise<T> {
    if (this.closed) return Promise.reject(new Error('PostgresStore is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ size, work, committed, resolve, reject } as QueuedWrite);
      this.startGroup();
    });
  }

  private startGroup(): void {
    if (this.running || this.queued.length === 0) return;
    let rows = 0;
    let take = 0;
    while (take < this.queued.length && (take === 0 || rows + this.queued[take]!.size <= GROUP_ROWS)) rows += this.queued[take++]!.size;
    const group = this.queued.splice(0, take);
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
      // The feed's starting horizon must be read before any write of this process takes an xid.
      if (this.feedStarting) await this.feedStarting;
      client = await this.checkout();
      // One round trip: the xid now (the write's positions derive from it), and the first savepoint.
      const results = await client.query('BEGIN; SELECT pg_current_xact_id()::text::bigint AS xid; SAVEPOINT fieldsync_write') as unknown as pg.QueryResult<{ xid: number }>[];
      const xid = results[1]?.rows[0]?.xid;
      if (xid === undefined) throw new Error('PostgresStore: the transaction got no id');
      const tx = this.newTransaction(client, xid);
      for (const [index, item] of group.entries()) {
        if (index > 0) await client.query('SAVEPOINT fieldsync_write');
        inWork = group.length === 1;
        try {
          outcomes.push({ ok: true, value: await this.decideAndWrite(client, tx, item) });
          if (group.length > 1) await client.query('RELEASE SAVEPOINT fieldsync_write');
        } catch (error) {
          if (group.length === 1) throw error;
          // A failure of the connection itself ends here (the rollback throws): the whole group fails.
          await client.query('ROLLBACK TO SAVEPOINT fieldsync_write');
          outcomes.push({ ok: false, error });
        }
        inWork = false;
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
    const announce = new Set<string>();
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) {
        item.reject(outcome.error);
        return;
      }
      try {
        const what = item.committed?.(outcome.value);
        if (what) announce.add(what);
      } catch (error) {
        console.error('a commit callback failed; the write itself is committed', error);
      }
      item.resolve(outcome.value);
    });
    if (announce.size > 0) this.announce(announce);
  }

  /** Runs one write's work, deciding it again (from its savepoint) while it races with other transactions. */
  private async decideAndWrite(client: pg.PoolClient, tx: Transaction, item: QueuedWrite): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await item.work(tx);
      } catch (error) {
        if (!isRetryable(error) || attempt >= MAX_DECISION_ATTEMPTS) throw error;
        await client.query('ROLLBACK TO SAVEPOINT fieldsync_write');
      }
    }
  }

  private newTransaction(client: pg.PoolClient, xid: number): Transaction {
    const { baseXid, basePos } = this.orderBase();
    const first = basePos + (xid - baseXid) * TX_SLOTS;
    const used = { documents: 0, audit: 0, outbox: 0, quarantine: 0 };
    return {
      client, now: xidOrderedNow(this.schema, xid),
      position(table) {
        const i = used[table]++;
        if (i >= TX_SLOTS) throw new Error(`one write transaction may order at most ${TX_SLOTS} ${table} rows; split the batch`);
        return first + i;
      },
    };
  }

  private orderBase(): { baseXid: number; basePos: number } {
    if (!this.order) throw new Error('PostgresStore: not migrated; open the store with PostgresStore.open()');
    return this.order;
  }

  /**
   * The horizon: every position below it belongs to a finished transaction (SQL, evaluated in the
   * statement's snapshot). It is the oldest transaction in progress in that snapshot, leaving out
   * the ones running in ANOTHER database of the PostgreSQL server (`pg_snapshot_xmin` alone counts
   * them too, and then a long transaction in someone else's database held every change back):
   * only a transaction of this database can write these tables. Left out only when
   * `pg_stat_activity` shows it running elsewhere at the time of the statement; one it no longer
   * shows (it ended after the snapshot was taken) still holds the horizon for this statement,
   * whichever database it was in, so a writer of ours that committed just after the snapshot is
   * never passed. (Without the right to see other roles' sessions, `pg_read_all_stats`, their
   * xids are not shown and they hold the horizon as before.)
   */
  private horizonSql(): string {
    const { baseXid, basePos } = this.orderBase();
    return `GREATEST(${basePos}::bigint, ${basePos}::bigint + (${OLDEST_OPEN_XID_SQL} - ${baseXid}) * ${TX_SLOTS})`;
  }

  /**
   * After a COMMIT: this process's feed reads at once; the others are told by NOTIFY, sent in
   * its own statement after the commit (a NOTIFY inside the write transaction would serialise
   * every committer on PostgreSQL's notify queue lock). One at a time: commits meanwhile share the next.
   */
  private announce(what: Set<string>): void {
    this.feed?.wake();
    for (const item of what) this.notifyQueue.add(item);
    if (this.notifying || this.closed) return;
    this.notifying = true;
    const payloads = [...this.notifyQueue].map((item) => `${this.instanceId}|${item}`);
    this.notifyQueue.clear();
    this.pool.query(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, [this.channel, payloads]).catch((error: unknown) => {
      // The other processes' polls find the commit anyway, a little later.
      this.onError('could not NOTIFY the other processes of a commit (their poll will find it)', error);
    }).finally(() => {
      this.notifying = false;
      if (this.notifyQueue.size > 0) this.announce(new Set());
    });
  }

  // ---------------------------------------------------------------- agency settings

  async getAgencySettings(tenantId: string): Promise<{ json: string; updatedAt: number } | undefined> {
    const rows = await this.query<{ body: string; updated_at: number }>(this.pool,
      `SELECT body, updated_at FROM ${this.t('agency_settings')} WHERE tenant_id = $1`, [tenantId]);
    const row = rows[0];
    return row ? { json: row.body, updatedAt: row.updated_at } : undefined;
  }

  async putAgencySettings(tenantId: string, json: string, audit: AuditEntryInput, expected?: string | null): Promise<boolean> {
    return this.transaction(1, async (tx) => {
      if (expected !== undefined) {
        // Locks the row (when there is one) until this transaction ends: a concurrent save waits, then sees this one.
        const current = await this.query<{ body: string }>(tx.client, `SELECT body FROM ${this.t('agency_settings')} WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
        if ((current[0]?.body ?? null) !== expected) return false;
      }
      await this.query(tx.client,
        `INSERT INTO ${this.t('agency_settings')} (tenant_id, body, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET body = EXCLUDED.body, updated_at = EXCLUDED.updated_at`,
        [tenantId, json, tx.now]);
      const write = new WriteStatement(this.t, tx);
      write.appendAudit([audit]);
      await write.run(this, tx.client);
      return true;
    });
  }

  // ---------------------------------------------------------------- reads

  async pull(query: PullQuery): Promise<PullPage> {
    const rows = await this.query<DocumentRow>(this.pool,
      `SELECT collection, id, tenant_id, seq, body, committed_at FROM ${this.t('documents')}
       WHERE collection = $1 AND tenant_id = $2 AND seq > $3 AND seq < ${this.horizonSql()} ORDER BY seq LIMIT $4`,
      [query.collection, query.tenantId, query.afterSeq, query.limit]);
    const documents = rows.map(toStored);
    return { documents, lastSeq: documents.length > 0 ? documents[documents.length - 1]!.seq : query.afterSeq };
  }

  /**
   * The page and the high-water mark come from one statement, hence one snapshot: a short page
   * may only claim to have examined what that snapshot contained, below its horizon.
   */
  async pullScoped(query: ScopedPullQuery): Promise<PullPage> {
    const { filter } = query;
    const docs = this.t('documents');
    const below = `seq < ${this.horizonSql()}`;
    const params: unknown[] = [query.collection, query.tenantId, query.afterSeq, query.limit];
    let sql: string;
    if (filter.kind === 'where') {
      if (filter.anyOf.length === 0) {
        const rows = await this.query<{ high: number | null }>(this.pool,
          `SELECT max(seq) AS high FROM ${docs} WHERE collection = $1 AND tenant_id = $2 AND ${below}`, [query.collection, query.tenantId]);
        return { documents: [], lastSeq: Math.max(query.afterSeq, rows[0]?.high ?? query.afterSeq) };
      }
      const clause = filter.anyOf.map((alt) => `(${alt.length === 0 ? 'TRUE' : alt.map((t) => fieldTestSql(t, 's.j', params)).join(' AND ')})`).join(' OR ');
      sql = `SELECT h.high, p.collection, p.id, p.tenant_id, p.seq, p.body, p.committed_at
        FROM (SELECT max(seq) AS high FROM ${docs} WHERE collection = $1 AND tenant_id = $2 AND ${below}) h
        LEFT JOIN LATERAL (
          SELECT s.collection, s.id, s.tenant_id, s.seq, s.body, s.committed_at FROM (
            SELECT collection, id, tenant_id, seq, body, committed_at, ${FILTERABLE_BODY} AS j FROM ${docs}
            WHERE collection = $1 AND tenant_id = $2 AND seq > $3 AND ${below} ORDER BY seq OFFSET 0) s
          WHERE ${clause} ORDER BY s.seq LIMIT $4) p ON TRUE
        ORDER BY p.seq`;
    } else {
      params.push(filter.collection, jsonKey(filter.key));
      const clause = filter.where.length === 0 ? 'TRUE' : filter.where.map((t) => fieldTestSql(t, 's.j', params)).join(' AND ');
      // Each target's position in the order is the later of its own seq and its newest referencing document's.
      sql = `WITH refs AS (
          SELECT s.j ->> $6 AS ref, max(s.seq) AS rseq FROM (
            SELECT seq, ${FILTERABLE_BODY} AS j FROM ${docs} WHERE collection = $5 AND tenant_id = $2 AND NOT deleted AND ${below} OFFSET 0) s
          WHERE ${clause} GROUP BY 1)
        SELECT h.high, p.collection, p.id, p.tenant_id, p.seq, p.body, p.committed_at
        FROM (SELECT GREATEST(
            (SELECT max(seq) FROM ${docs} WHERE collection = $1 AND tenant_id = $2 AND ${below}),
            (SELECT max(seq) FROM ${docs} WHERE collection = $5 AND tenant_id = $2 AND ${below})) AS high) h
        LEFT JOIN LATERAL (
          SELECT d.collection, d.id, d.tenant_id, GREATEST(d.seq, r.rseq) AS seq, d.body, d.committed_at
          FROM refs r JOIN ${docs} d ON d.collection = $1 AND d.id = r.ref
          WHERE r.ref IS NOT NULL AND d.tenant_id = $2 AND d.${below} AND GREATEST(d.seq, r.rseq) > $3
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

  /**
   * Listeners hear the commits of every process on this schema, from the change feed, once they
   * are below the horizon (so a little after the writer was answered). The first listener starts
   * the feed at the horizon of that moment; this process's writes wait for that read.
   * (`early` changes nothing: a COMMIT here returns once PostgreSQL made it durable.)
   */
  onCommit(listener: (event: CommitEvent) => void): () => void {
    const unsubscribe = this.notifier.subscribe(listener);
    if (!this.feed && !this.closed) {
      const feed = new PostgresChangeFeed({
        source: this, notifier: this.notifier, listen: this.poolConfig, channel: this.channel, instanceId: this.instanceId,
        pollMs: this.feedPollMs, onError: this.onError,
      });
      this.feed = feed;
      const startFeed = (): Promise<void> => this.currentHorizon().then((horizon) => feed.start(horizon - 1));
      this.feedStarting = startFeed().catch((error: unknown) => {
        // Writes do not wait for a database that does not answer: the feed starts when it does
        // (commits in between are not streamed; devices find them by their next pull).
        this.onError('the change feed could not start; trying again every second', error);
        const retry = setInterval(() => {
          if (this.closed) return clearInterval(retry);
          startFeed().then(() => clearInterval(retry), () => undefined);
        }, 1000);
        retry.unref();
      }).finally(() => { this.feedStarting = undefined; });
    }
    return unsubscribe;
  }

  /** Internal (the change feed's source): documents after `cursor` and below the horizon, with that horizon. */
  async readAfter(cursor: number, limit: number): Promise<{ documents: StoredDocument[]; horizon: number; waiting: boolean }> {
    const rows = await this.query<DocumentRow & { hz: number; waiting: boolean }>(this.pool,
      `SELECT h.hz, h.waiting, d.collection, d.id, d.tenant_id, d.seq, d.body, d.committed_at
       FROM (SELECT hz, EXISTS (SELECT 1 FROM ${this.t('documents')} WHERE seq >= hz) AS waiting FROM (SELECT ${this.horizonSql()} AS hz) x) h
       LEFT JOIN LATERAL (SELECT * FROM ${this.t('documents')} WHERE seq > $1 AND seq < h.hz ORDER BY seq LIMIT $2) d ON TRUE
       ORDER BY d.seq`, [cursor, limit]);
    const horizon = rows[0]?.hz ?? cursor + 1;
    return { documents: rows.filter((row) => row.id !== null).map(toStored), horizon, waiting: rows[0]?.waiting ?? false };
  }

  /** Internal (the change feed's source): the transaction a position was handed out by. */
  transactionOf(position: number): number {
    const { basePos } = this.orderBase();
    return position < basePos ? -1 : Math.floor((position - basePos) / TX_SLOTS);
  }

  private async currentHorizon(): Promise<number> {
    const rows = await this.query<{ hz: number }>(this.pool, `SELECT ${this.horizonSql()} AS hz`, []);
    return rows[0]!.hz;
  }

  /**
   * The age of the oldest transaction with an xid still open in this database (any schema, any
   * client: it holds back every reader's horizon; those of other databases do not, see
   * horizonSql), and how many are open. For `/metrics`.
   */
  async writerStats(): Promise<{ oldestWriterAgeMs: number; openWriters: number }> {
    const rows = await this.query<{ age_ms: number | null; open: number }>(this.pool,
      `SELECT (extract(epoch FROM max(clock_timestamp() - xact_start)) * 1000)::bigint AS age_ms, count(*) AS open
       FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
         AND datid = (SELECT oid FROM pg_database WHERE datname = current_database())`, []);
    return { oldestWriterAgeMs: rows[0]?.age_ms ?? 0, openWriters: rows[0]?.open ?? 0 };
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
    if (query.userId !== undefined) {
      params.push(query.userId);
      where.push(`actor::jsonb ->> 'userId' = $${params.length}`);
    }
    params.push(query.limit);
    const rows = await this.query<QuarantineRow>(this.pool,
      `SELECT * FROM ${this.t('quarantine')} WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`, params);
    return rows.map(toQuarantineEntry);
  }

  // ---------------------------------------------------------------- outbox

  /**
   * The CAD queue only below the horizon, so its consumer, draining in id order, never passes an
   * entry that commits late; the hooks queue has no order to keep (it is claimed). Of one agency
   * only when `tenantId` is given (a CAD bridge's).
   */
  async dueOutbox(now: number, limit: number, queue: OutboxQueue = 'hooks', tenantId?: string): Promise<OutboxEntry[]> {
    const below = queue === 'cad' ? `AND id < ${this.horizonSql()}` : '';
    const rows = await this.query<OutboxRow>(this.pool,
      `SELECT * FROM ${this.t('outbox')} WHERE queue = $1 AND done = 0 AND next_attempt_at <= $2 ${below} AND ($4::text IS NULL OR tenant_id = $4) ORDER BY id LIMIT $3`, [queue, now, limit, tenantId ?? null]);
    return rows.map(toOutboxEntry);
  }

  /**
   * Claims due entries for `leaseMs` (database clock) with a new token: `FOR UPDATE SKIP LOCKED`
   * lets processes claim side by side without waiting for each other, and an entry claimed by a
   * process that died is claimable again once its lease ran out. The claim commits at once: no
   * lock is held while the effect runs.
   */
  async claimOutbox(now: number, limit: number, leaseMs: number, queue: OutboxQueue = 'hooks'): Promise<OutboxEntry[]> {
    // Host and process id first: an operator (or a test) can see which process holds a claim.
    const token = `${hostname()}/${process.pid}/${randomUUID()}`;
    const rows = await this.query<OutboxRow>(this.pool,
      `WITH clock AS (SELECT ${DB_NOW_MS} AS now),
       c AS (SELECT o.id FROM ${this.t('outbox')} o, clock
             WHERE o.queue = $1 AND o.done = 0 AND o.next_attempt_at <= $2 AND (o.claimed_until IS NULL OR o.claimed_until <= clock.now)
             ORDER BY o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED)
       UPDATE ${this.t('outbox')} o SET claim_token = $4, claimed_until = (SELECT now FROM clock) + $5
       FROM c WHERE o.id = c.id RETURNING o.*`, [queue, now, limit, token, leaseMs]);
    return rows.map(toOutboxEntry).sort((a, b) => a.id - b.id);
  }

  async completeOutbox(id: number, claimToken?: string): Promise<boolean> {
    return this.settleOutbox(`done = 1, attempts = attempts + 1`, [], id, claimToken);
  }

  async retryOutboxLater(id: number, nextAttemptAt: number, error: string, claimToken?: string): Promise<boolean> {
    return this.settleOutbox(`attempts = attempts + 1, next_attempt_at = $3, last_error = $4`, [Math.ceil(nextAttemptAt), error], id, claimToken);
  }

  async deadLetterOutbox(id: number, error: string, claimToken?: string): Promise<boolean> {
    return this.settleOutbox(`done = 2, attempts = attempts + 1, last_error = $3`, [error], id, claimToken);
  }

  /** Ends a claim: only with its token, if one is given (a claim that expired and was taken by another process is not ours to settle). */
  private async settleOutbox(set: string, values: unknown[], id: number, claimToken: string | undefined): Promise<boolean> {
    const result = await this.pool.query(this.named(
      `UPDATE ${this.t('outbox')} SET ${set}, claim_token = NULL, claimed_until = NULL
       WHERE id = $1 AND done = 0 AND ($2::text IS NULL OR claim_token = $2)`, [id, claimToken ?? null, ...values]));
    return (result.rowCount ?? 0) > 0;
  }

  /** A lease row (database clock): held by `holder` until it ends or is released; no connection or lock is held meanwhile. */
  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.query<{ holder: string }>(this.pool,
      `INSERT INTO ${this.t('leases')} AS l (key, holder, expires_at) VALUES ($1, $2, ${DB_NOW_MS} + $3)
       ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= ${DB_NOW_MS} OR l.holder = EXCLUDED.holder
       RETURNING l.holder`, [key, holder, ttlMs]);
    return rows.length > 0;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await this.query(this.pool, `DELETE FROM ${this.t('leases')} WHERE key = $1 AND holder = $2`, [key, holder]);
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

  async outboxStats(now: number, queue: OutboxQueue = 'hooks', tenantId?: string): Promise<{ depth: number; oldestAgeMs: number; deadLetters: number }> {
    const rows = await this.query<{ depth: number; oldest: number | null; dead: number }>(this.pool,
      `SELECT (SELECT count(*) FROM ${this.t('outbox')} WHERE queue = $1 AND done = 0 AND ($2::text IS NULL OR tenant_id = $2)) AS depth,
              (SELECT min(created_at) FROM ${this.t('outbox')} WHERE queue = $1 AND done = 0 AND ($2::text IS NULL OR tenant_id = $2)) AS oldest,
              (SELECT count(*) FROM ${this.t('outbox')} WHERE done = 2) AS dead`, [queue, tenantId ?? null]);
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

  // ---------------------------------------------------------------- audit

  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    await this.linkAudit(true);
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
   * Walks the chain in id order (= commit order, see the class comment) with its index rows,
   * through two cursors of one read-only REPEATABLE READ transaction: one snapshot, a page at a
   * time, however long the log. Entries are linked after commit (`linkAudit`): it links what it
   * can first (waiting a moment for entries committed just now), then verifies up to the last
   * linked entry; an entry below it without a hash (removed) breaks the chain.
   */
  async verifyAudit(options: AuditVerifyOptions = {}): Promise<AuditChainReport> {
    for (const deadline = Date.now() + VERIFY_WAIT_MS; ;) {
      await this.linkAudit(true);
      const unlinked = await this.query<{ n: number }>(this.pool, `SELECT count(*) AS n FROM ${this.t('audit')} WHERE hash IS NULL`, []);
      if ((unlinked[0]?.n ?? 0) === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const linked = await client.query<{ upto: number | null }>(`SELECT max(id) AS upto FROM ${this.t('audit')} WHERE hash IS NOT NULL`);
      const upto = linked.rows[0]?.upto ?? 0;
      await client.query(`DECLARE fs_audit NO SCROLL CURSOR FOR SELECT id, at, tenant_id, entry, prev_hash, hash FROM ${this.t('audit')} WHERE id <= ${Number(upto)} ORDER BY id`);
      await client.query(`DECLARE fs_audit_index NO SCROLL CURSOR FOR SELECT audit_id, document_id FROM ${this.t('audit_documents')} WHERE audit_id <= ${Number(upto)} ORDER BY audit_id`);
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
          merge.row({ id, at: Number(row.at), tenantId: row.tenant_id, entry: row.entry, prevHash: row.prev_hash ?? '', hash: row.hash ?? '' });
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

  /** The last linked entry and how many entries (linked or not) follow `afterId`. */
  async auditHead(afterId: number): Promise<{ lastId: number; lastHash: string; countAfter: number } | undefined> {
    await this.linkAudit(true);
    // One statement, one snapshot: the count and the head agree.
    const rows = await this.query<{ id: number; hash: string; after: number }>(this.pool,
      `SELECT id, hash, (SELECT COUNT(*) FROM ${this.t('audit')} WHERE id > $1 AND id <= a.id) AS after FROM ${this.t('audit')} a WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1`, [afterId]);
    const row = rows[0];
    return row ? { lastId: Number(row.id), lastHash: row.hash, countAfter: Number(row.after) } : undefined;
  }

  /**
   * Links the audit entries below the horizon into the hash chain, in id order: one process at a
   * time (a try-lock: a process that finds it taken leaves the work to the holder). Entries are
   * written unlinked so that writers need no global lock; the horizon guarantees that no entry
   * can later appear below one already linked. Runs every second and before audit reads.
   */
  linkAudit(wait = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (wait) return this.linkAuditNow(true);
    this.chaining ??= this.linkAuditNow(false).catch((error: unknown) => {
      this.onError('could not link the audit chain (the next run tries again)', error);
    }).finally(() => { this.chaining = undefined; });
    return this.chaining;
  }

  /** `wait`: for audit reads, which wait for another process's linker instead of leaving the work to it. */
  private async linkAuditNow(wait: boolean): Promise<void> {
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      const lock = wait
        ? `SELECT pg_advisory_xact_lock(${CHAIN_LOCK_NAMESPACE}, ${this.lockKey[1]}) IS NOT NULL AS got`
        : `SELECT pg_try_advisory_xact_lock(${CHAIN_LOCK_NAMESPACE}, ${this.lockKey[1]}) AS got`;
      const begun = await client.query(`BEGIN; ${lock}`) as unknown as pg.QueryResult<{ got: boolean }>[];
      if (!begun[1]?.rows[0]?.got) {
        await client.query('ROLLBACK');
        return;
      }
      for (;;) {
        const last = await this.query<{ hash: string }>(client,
          `SELECT hash FROM ${this.t('audit')} WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1`, []);
        const rows = await this.query<AuditRow>(client,
          `SELECT id, at, tenant_id, entry FROM ${this.t('audit')} WHERE hash IS NULL AND id < ${this.horizonSql()} ORDER BY id LIMIT $1`, [VERIFY_PAGE]);
        if (rows.length === 0) break;
        let prev = last[0]?.hash ?? GENESIS_HASH;
        const ids: number[] = [];
        const prevs: string[] = [];
        const hashes: string[] = [];
        for (const row of rows) {
          const hash = this.auditKey.hash(prev, row.at, row.tenant_id, row.entry);
          ids.push(row.id);
          prevs.push(prev);
          hashes.push(hash);
          prev = hash;
        }
        await this.query(client,
          `UPDATE ${this.t('audit')} a SET prev_hash = u.prev_hash, hash = u.hash
           FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, prev_hash, hash) WHERE a.id = u.id`, [ids, prevs, hashes]);
        if (rows.length < VERIFY_PAGE) break;
      }
      await client.query('COMMIT');
    } catch (error) {
      broken = await rollback(client);
      throw error;
    } finally {
      client.release(broken);
    }
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
    if (this.chainTimer) clearInterval(this.chainTimer);
    await this.feed?.stop();
    while (this.chaining) await this.chaining;
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
  /** Rows it may order (requests, entries): a group stays within one transaction's positions. */
  size: number;
  work: (tx: Transaction) => Promise<unknown>;
  committed: ((value: unknown) => string | undefined) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type OrderedTable = 'documents' | 'audit' | 'outbox' | 'quarantine';

interface Transaction {
  client: pg.PoolClient;
  /** Server clock for the whole transaction. */
  now: number;
  /** The next position of a table's rows in this transaction (see the class comment). */
  position(table: OrderedTable): number;
}

/** A write decided on a master another transaction replaced meanwhile: decided again. */
class WriteRace extends Error {
  constructor() {
    super('a document of this write was changed by another writer meanwhile');
  }
}

/** Rolled back to its savepoint and decided again: a race, a deadlock victim, a serialization failure. */
function isRetryable(error: unknown): boolean {
  if (error instanceof WriteRace) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Everything a write transaction inserts, as one statement of data-modifying CTEs fed by
 * arrays (one round trip whatever the batch size): this engine's primitives of the write path.
 * Rows that carry order (documents, audit, outbox, quarantine) get their transaction's positions
 * (see the class comment of PostgresStore) in input order.
 */
class WriteStatement implements WriteTransaction {
  private readonly parts: string[] = [];
  private readonly values: unknown[] = [];
  private readonly docs = { ids: [] as string[], seqs: [] as number[], deleted: [] as boolean[], bodies: [] as string[], expected: [] as number[] };
  private docMeta: { collection: string; tenantId: string } | undefined;
  private readonly q = { positions: [] as number[], collections: [] as string[], ids: [] as string[], tenants: [] as string[], actors: [] as string[], reasons: [] as string[], bodies: [] as string[] };
  private readonly a = { positions: [] as number[], tenants: [] as string[], entries: [] as string[], docAuditIds: [] as number[], docIds: [] as string[] };
  private readonly o = { positions: [] as number[], keys: [] as string[], kinds: [] as string[], tenants: [] as string[], payloads: [] as string[], causations: [] as string[], queues: [] as string[] };
  readonly now: number;

  constructor(private readonly t: (table: string) => string, private readonly tx: Transaction) {
    this.now = tx.now;
  }

  nextSeq(): number {
    return this.tx.position('documents');
  }

  putDocuments(collection: string, tenantId: string, writes: readonly DecidedWrite[]): void {
    this.docMeta = { collection, tenantId };
    for (const { stored, doc, before } of writes) {
      this.docs.ids.push(stored.id);
      this.docs.seqs.push(stored.seq);
      this.docs.deleted.push(Boolean(doc._deleted));
      this.docs.bodies.push(stored.json);
      // The version the decision was made on (0: none): replaced only if it still is the master.
      this.docs.expected.push(before?.seq ?? 0);
    }
  }

  putQuarantine(collection: string, tenantId: string, actor: Actor, items: readonly QuarantinedRequest[]): void {
    const actorJson = JSON.stringify(actor);
    for (const item of items) {
      this.q.positions.push(this.tx.position('quarantine'));
      this.q.collections.push(collection);
      this.q.ids.push(item.id);
      this.q.tenants.push(tenantId);
      this.q.actors.push(actorJson);
      this.q.reasons.push(item.reason);
      this.q.bodies.push(item.json);
    }
  }

  /**
   * Inserts the entries unlinked (the store links them into the hash chain once they are below
   * the horizon, see `linkAudit`). `index` false: one `audit_documents` row with document_id ''
   * instead of one per document (see WriteBatch.auditIndex).
   */
  appendAudit(entries: AuditEntryInput[], index = true): void {
    for (const entry of entries) {
      const id = this.tx.position('audit');
      this.a.positions.push(id);
      this.a.tenants.push(entry.tenantId);
      this.a.entries.push(JSON.stringify(entry));
      for (const documentId of !index && entry.documents?.length ? [''] : [...new Set((entry.documents ?? []).map((d) => d.id))]) {
        this.a.docAuditIds.push(id);
        this.a.docIds.push(documentId);
      }
    }
  }

  insertOutbox(entries: readonly OutboxEntryInput[]): void {
    for (const entry of entries) {
      this.o.positions.push(this.tx.position('outbox'));
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
    let written = '0';
    if (this.docMeta && this.docs.ids.length > 0) {
      const collection = this.p(this.docMeta.collection);
      const source = `unnest(${this.p(this.docs.ids)}::text[], ${this.p(this.docs.seqs)}::bigint[], ${this.p(this.docs.deleted)}::boolean[], ${this.p(this.docs.bodies)}::text[], ${this.p(this.docs.expected)}::bigint[]) AS u(id, seq, deleted, body, expected)`;
      // Replace only the version each decision was made on; insert only where there was none.
      // A row another transaction changed or created meanwhile is left alone: counted short, the
      // write is decided again (WriteRace). In id order, so two writers lock shared rows alike.
      this.parts.push(`s AS (SELECT * FROM ${source} ORDER BY u.id)`);
      this.parts.push(`du AS (UPDATE ${t('documents')} d SET seq = s.seq, deleted = s.deleted, body = s.body, committed_at = ${now}
        FROM s WHERE d.collection = ${collection} AND d.id = s.id AND s.expected > 0 AND d.seq = s.expected RETURNING 1)`);
      this.parts.push(`di AS (INSERT INTO ${t('documents')} (collection, id, tenant_id, seq, deleted, body, committed_at)
        SELECT ${collection}, s.id, ${this.p(this.docMeta.tenantId)}, s.seq, s.deleted, s.body, ${now} FROM s WHERE s.expected = 0
        ON CONFLICT (collection, id) DO NOTHING RETURNING 1)`);
      written = '(SELECT count(*) FROM du) + (SELECT count(*) FROM di)';
    }
    if (this.q.ids.length > 0) {
      this.parts.push(`q AS (INSERT INTO ${t('quarantine')} (id, collection, document_id, tenant_id, actor, reason, body, created_at) OVERRIDING SYSTEM VALUE
        SELECT u.pos, u.collection, u.id, u.tenant_id, u.actor, u.reason, u.body, ${now}
        FROM unnest(${this.p(this.q.positions)}::bigint[], ${this.p(this.q.collections)}::text[], ${this.p(this.q.ids)}::text[], ${this.p(this.q.tenants)}::text[], ${this.p(this.q.actors)}::text[], ${this.p(this.q.reasons)}::text[], ${this.p(this.q.bodies)}::text[])
          AS u(pos, collection, id, tenant_id, actor, reason, body))`);
    }
    if (this.a.positions.length > 0) {
      this.parts.push(`a AS (INSERT INTO ${t('audit')} (id, at, tenant_id, entry) OVERRIDING SYSTEM VALUE
        SELECT u.pos, ${now}, u.tenant_id, u.entry
        FROM unnest(${this.p(this.a.positions)}::bigint[], ${this.p(this.a.tenants)}::text[], ${this.p(this.a.entries)}::text[]) AS u(pos, tenant_id, entry))`);
      if (this.a.docIds.length > 0) {
        this.parts.push(`ad AS (INSERT INTO ${t('audit_documents')} (audit_id, document_id)
          SELECT x.audit_id, x.document_id FROM unnest(${this.p(this.a.docAuditIds)}::bigint[], ${this.p(this.a.docIds)}::text[]) AS x(audit_id, document_id)
          ON CONFLICT DO NOTHING)`);
      }
    }
    if (this.o.keys.length > 0) {
      this.parts.push(`o AS (INSERT INTO ${t('outbox')} (id, key, kind, tenant_id, payload, causation_id, created_at, next_attempt_at, queue) OVERRIDING SYSTEM VALUE
        SELECT u.pos, u.key, u.kind, u.tenant_id, u.payload, u.causation_id, ${now}, ${now}, u.queue
        FROM unnest(${this.p(this.o.positions)}::bigint[], ${this.p(this.o.keys)}::text[], ${this.p(this.o.kinds)}::text[], ${this.p(this.o.tenants)}::text[], ${this.p(this.o.payloads)}::text[], ${this.p(this.o.causations)}::text[], ${this.p(this.o.queues)}::text[])
          AS u(pos, key, kind, tenant_id, payload, causation_id, queue)
        ON CONFLICT (key) DO NOTHING)`);
    }
    if (this.parts.length === 0) return;
    // `now` is always $1; a statement that does not use it would fail to infer its type.
    const rows = await store.query<{ written: number }>(client, `WITH ${this.parts.join(',\n')} SELECT ${now}::bigint AS at, ${written}::bigint AS written`, this.values);
    if (this.docs.ids.length > 0 && rows[0]?.written !== this.docs.ids.length) throw new WriteRace();
  }
}

/**
 * The time a write transaction stamps on its rows (`committed_at`, the outbox's `created_at`,
 * audit entries), never below that of a transaction with a smaller xid nor above that of one with
 * a larger xid, as far as this process saw them. Rows are ordered by positions derived from the
 * xid; the clock is read once the xid has come back, and two connections' answers can come back
 * in either order: a transaction with the larger xid read the clock first and stamped its outbox
 * entry a millisecond below the entry of the smaller xid (the store contract's concurrent-writers
 * test, once in a CI run). Per schema, for the stores of this process; another process's
 * transactions are ordered by their positions alone.
 */
const xidClocks = new Map<string, { xid: number; at: number }[]>();
/** How many recent transactions the clamp remembers per schema (older ones are long committed). */
const XID_CLOCK_MEMORY = 256;
/** The most a stamp is moved: about a round trip to PostgreSQL under load. */
const XID_CLOCK_SLACK_MS = 1000;

export function xidOrderedNow(schema: string, xid: number, clock = Date.now()): number {
  let seen = xidClocks.get(schema);
  if (!seen) xidClocks.set(schema, seen = []);
  let at = clock;
  // Kept sorted by xid: the stamps of the neighbours bound this one's.
  let i = seen.length;
  while (i > 0 && seen[i - 1]!.xid > xid) i--;
  // Only by what two answers crossing can make up: a clock set back (or a test's fake time) is taken as it is.
  const before = i > 0 ? seen[i - 1]!.at : undefined;
  const after = i < seen.length ? seen[i]!.at : undefined;
  if (before !== undefined && before > at && before - at <= XID_CLOCK_SLACK_MS) at = before;
  if (after !== undefined && after < at && at - after <= XID_CLOCK_SLACK_MS) at = after;
  seen.splice(i, 0, { xid, at });
  if (seen.length > XID_CLOCK_MEMORY) seen.splice(0, seen.length - XID_CLOCK_MEMORY);
  return at;
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
-- Where positions start: seq and the ids of audit, outbox and quarantine are
-- base_pos + (xid - base_xid) * ${TX_SLOTS} + i (see PostgresStore). last_seq: the last seq handed
-- out under the global lock of earlier versions (kept so that new positions start above it).
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
CREATE TABLE IF NOT EXISTS ${t('agency_settings')} (
  tenant_id  TEXT   PRIMARY KEY,
  body       TEXT   NOT NULL,
  updated_at BIGINT NOT NULL
);
-- The change feed reads every collection in position order.
CREATE INDEX IF NOT EXISTS documents_by_position ON ${t('documents')} (seq);
-- Outbox claims: a token and a lease (ms, database clock).
ALTER TABLE ${t('outbox')} ADD COLUMN IF NOT EXISTS claim_token TEXT;
ALTER TABLE ${t('outbox')} ADD COLUMN IF NOT EXISTS claimed_until BIGINT;
-- Leases (a per-report hook lock, the CAD bridge's leader): a holder until expires_at (ms, database clock).
CREATE TABLE IF NOT EXISTS ${t('leases')} (
  key        TEXT   PRIMARY KEY,
  holder     TEXT   NOT NULL,
  expires_at BIGINT NOT NULL
);
-- Audit entries are linked into the hash chain after commit; unlinked ones have no hash yet.
DO $fs$ BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = ${pg.escapeLiteral(schema)} AND table_name = 'audit' AND column_name = 'hash' AND is_nullable = 'NO') THEN
    ALTER TABLE ${t('audit')} ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL;
  END IF;
END $fs$;
CREATE INDEX IF NOT EXISTS audit_unlinked ON ${t('audit')} (id) WHERE hash IS NULL;
ALTER TABLE ${t('head')} ADD COLUMN IF NOT EXISTS base_xid BIGINT;
ALTER TABLE ${t('head')} ADD COLUMN IF NOT EXISTS base_pos BIGINT;
-- Once: positions start above every number handed out before (clients keep checkpoints).
UPDATE ${t('head')} SET base_xid = pg_current_xact_id()::text::bigint, base_pos = 1 + GREATEST(last_seq,
    COALESCE((SELECT max(seq) FROM ${t('documents')}), 0), COALESCE((SELECT max(id) FROM ${t('audit')}), 0),
    COALESCE((SELECT max(id) FROM ${t('outbox')}), 0), COALESCE((SELECT max(id) FROM ${t('quarantine')}), 0))
  WHERE id = 1 AND base_xid IS NULL;
`;
}

/** 'FSNC': the advisory-lock namespace of fieldsync (migrations); the second key is the schema's. */
const LOCK_NAMESPACE = 0x46534e43;
/** The audit linker's try-lock namespace ('FSNd'). */
const CHAIN_LOCK_NAMESPACE = 0x46534e64;
/**
 * Positions per transaction and table. Positions stay below 2^53 (exact as JS numbers) for
 * 2^37 transactions after the schema was created (over 4 years at 1,000 commits/s).
 */
const TX_SLOTS = 65536;
/** Rows one group commit may order (a lone write may be larger, up to TX_SLOTS documents). */
const GROUP_ROWS = 8192;
/** Decisions of one write retried after a race or a deadlock before the write fails. */
const MAX_DECISION_ATTEMPTS = 5;
const AUDIT_LINK_MS = 1000;
/** How long `verifyAudit` waits for entries committed moments ago to become linkable. */
const VERIFY_WAIT_MS = 3000;
/** The (32-bit) xids of transactions running in other databases of the PostgreSQL server: they cannot write ours (see horizonSql). */
const OTHER_DATABASES_XIDS = `SELECT backend_xid::text::bigint FROM pg_stat_activity
  WHERE backend_xid IS NOT NULL AND datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * The oldest transaction in progress in the statement's snapshot that may be writing this
 * database, as a bigint xid (the snapshot's xmax when there is none): see horizonSql. Exported
 * for the scale-out benchmark's ordering comparison.
 */
export const OLDEST_OPEN_XID_SQL = `(SELECT COALESCE(min(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
  FROM pg_snapshot_xip(pg_current_snapshot()) AS x
  WHERE (x::text::bigint % 4294967296) NOT IN (${OTHER_DATABASES_XIDS}))`;

/** Milliseconds since the epoch on the database's clock (leases and claims: one clock for every process). */
const DB_NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
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

function onCheckedOutError(error: Error): void {
  console.error('postgres store: a connection in use was closed by the server; its transaction is rolled back and its caller told', error.message);
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
/** `prev_hash` and `hash` are null until the entry is linked (`linkAudit`). */
interface AuditRow { id: number; at: number; tenant_id: string; entry: string; prev_hash: string | null; hash: string | null }
interface QuarantineRow { id: number; collection: string; document_id: string; tenant_id: string; actor: string; reason: string; body: string; created_at: number }
interface OutboxRow {
  id: number; key: string; kind: string; tenant_id: string; payload: string; causation_id: string;
  attempts: number; created_at: number; next_attempt_at: number; last_error: string | null; done: number; queue: string;
  claim_token?: string | null;
}

function toStored(row: DocumentRow): StoredDocument {
  return { collection: row.collection, id: row.id, tenantId: row.tenant_id, seq: row.seq, json: row.body, committedAt: row.committed_at };
}

function toAuditEntry(row: AuditRow): AuditEntry {
  // Not linked yet (committed moments ago, or behind an older transaction still open): empty hashes.
  return { ...(JSON.parse(row.entry) as AuditEntryInput), id: row.id, at: row.at, prevHash: row.prev_hash ?? '', hash: row.hash ?? '' };
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
    ...(row.claim_token ? { claimToken: row.claim_token } : {}),
  };
}
