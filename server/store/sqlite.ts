import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CommitNotifier } from './commit-notifier.ts';
import { GroupCommit, type CommitWindow, type GroupCommitOptions } from './group-commit.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';
import { AuditKey, ChainVerifier, GENESIS_HASH, IndexMerge, type AuditChainReport, type AuditVerifyOptions } from './audit-chain.ts';
import { checkedPlanner } from './outbox-planner.ts';
import { quarantineJson, storableText } from './document-json.ts';
import type { OutboxPlanner } from './types.ts';
import { applyWriteBatch, type AppliedBatch, type WriteTransaction } from './write-path.ts';
import type {
  Actor, AuditEntry, AuditEntryInput, AuditQuery, CommitEvent, OutboxEntry, OutboxEntryInput, OutboxQueue, PullPage, PullQuery, QuarantineEntry, Store, StoredDocument,
  WireDocument, WriteBatch, WriteResult,
} from './types.ts';
import type { CommitListenerOptions, FieldTest, QuarantineQuery, ScopedPullQuery } from './types.ts';

export interface SqliteStoreOptions {
  /** Directory for `fieldsync.sqlite`; `:memory:` keeps everything in memory (tests of pure logic only). */
  dataDir: string;
  /**
   * FULL: an acknowledged write survives power loss; NORMAL: it survives a process crash only.
   * FULL is not SQLite's synchronous=FULL: the connection commits with NORMAL and the WAL is
   * fsynced (off the event loop, but for small groups on a quick disk) before anyone is answered
   * (group-commit.ts), which is as durable.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Plans the outbox entries of every write (the hooks' workflows); see `Store.useOutboxPlanner`. */
  outboxPlanner?: OutboxPlanner;
  /** The audit chain's key (the server's AUDIT_KEY); tools and tests without one get AuditKey.PUBLIC_TEST_KEY. */
  chainKey?: AuditKey;
  /** Runs inside every group transaction just before COMMIT; throwing fails the group (tests of that path only). */
  beforeCommit?: () => void;
  /** Replaces fs.fsync of the WAL for every sync, none on the event loop (tests hold it to see that nobody is answered before it completes). */
  fsync?: GroupCommitOptions['fsync'];
  /** How long a write that would commit alone may wait for others while writes arrive often (group-commit.ts); absent: none waits. */
  commitWindow?: CommitWindow;
}

interface DocumentRow { collection: string; id: string; tenant_id: string; seq: number; body: string; committed_at: number }
interface AuditRow { id: number; at: number; tenant_id: string; entry: string; prev_hash: string; hash: string }

interface OutboxRow {
  id: number; key: string; kind: string; tenant_id: string; payload: string; causation_id: string;
  attempts: number; created_at: number; next_attempt_at: number; last_error: string | null; done: number;
}

const PAGE_SIZE = 16384;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS documents (
  collection   TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  tenant_id    TEXT    NOT NULL,
  seq          INTEGER NOT NULL,
  deleted      INTEGER NOT NULL,
  body         TEXT    NOT NULL,
  committed_at INTEGER NOT NULL,
  PRIMARY KEY (collection, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_by_seq ON documents (collection, tenant_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  key             TEXT    NOT NULL UNIQUE,
  kind            TEXT    NOT NULL,
  tenant_id       TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  causation_id    TEXT    NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  -- 0 pending, 1 done, 2 dead letter
  done            INTEGER NOT NULL DEFAULT 0,
  -- which consumer drains the entry: the hook runner, or the CAD bridge (in id order)
  queue           TEXT    NOT NULL DEFAULT 'hooks'
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (queue, done, next_attempt_at, id);
CREATE TABLE IF NOT EXISTS audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  tenant_id TEXT    NOT NULL,
  entry     TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit (tenant_id, at);
-- "which entries touched document X": one small index row per document written; an entry
-- written without them (WriteBatch.auditIndex false) has one row with document_id '' instead
CREATE TABLE IF NOT EXISTS audit_documents (
  document_id TEXT    NOT NULL,
  audit_id    INTEGER NOT NULL,
  PRIMARY KEY (document_id, audit_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
  key          TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  content_type TEXT NOT NULL,
  content      TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);
-- One row per agency: its settings as the admin saved them (server/agencies/settings.ts).
CREATE TABLE IF NOT EXISTS agency_settings (
  tenant_id  TEXT PRIMARY KEY,
  body       TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  collection  TEXT    NOT NULL,
  document_id TEXT    NOT NULL,
  tenant_id   TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_by_tenant ON quarantine (tenant_id, id);
CREATE INDEX IF NOT EXISTS quarantine_by_document ON quarantine (tenant_id, document_id);
`;

/**
 * Embedded store on better-sqlite3 in WAL mode. One process owns the file and better-sqlite3
 * runs every transaction synchronously, so sequence numbers are handed out in commit order and a
 * reader can never see seq N+1 before seq N (the checkpoint race cannot happen here).
 *
 * Writes are group-committed (group-commit.ts): those that queue up while the previous group's
 * fsync runs (or within one event-loop turn) share one transaction and one fsync, each in its own
 * savepoint, and each caller is answered once its group is durable. Reads run at once against
 * what is committed and answer once what they read is durable.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly notifier = new CommitNotifier();
  /** Outbox claims of this process (see `claimOutbox`) and leases, by id and key. */
  private readonly claims = new Map<number, { token: string; until: number }>();
  private readonly leases = new Map<string, { holder: string; until: number }>();
  /** The written documents of a batch's result as objects, for its commit event. */
  private readonly writtenObjects = new WeakMap<WriteResult, WireDocument[]>();
  /** Listeners that hear commits before they are durable (`onCommit(…, { early: true })`). */
  private readonly earlyNotifier = new CommitNotifier();
  private lastSeq: number;
  /** `lastSeq` as of the last successful commit: what a failed group commit goes back to. */
  private committedSeq: number;
  /** Every write goes through it; every read awaits its `durable()` before answering. */
  private readonly groups: GroupCommit;
  /** Checkpoints the WAL from a worker thread (durable file stores only). */
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly stmts;
  /** Prepared statements of scoped pulls and quarantine queries, by SQL text (their shapes are few: one per access rule). */
  private readonly dynamicStmts = new Map<string, Database.Statement>();
  private planner: OutboxPlanner | undefined;
  private readonly auditKey: AuditKey;
  /**
   * The hash of the newest audit row on this connection, committed or in the open transaction;
   * undefined: not known, read from the table. Kept so an append (one per write, so one per GPS
   * point) does not query the chain's head first; forgotten whenever a savepoint or transaction
   * that may have appended is rolled back. This process alone writes the file, so nothing else
   * moves the head.
   */
  private auditHeadHash: string | undefined;

  constructor(options: SqliteStoreOptions) {
    this.auditKey = options.chainKey ?? AuditKey.PUBLIC_TEST_KEY;
    let file = ':memory:';
    if (options.dataDir !== ':memory:') {
      mkdirSync(options.dataDir, { recursive: true });
      file = path.join(options.dataDir, 'fieldsync.sqlite');
    }
    this.planner = options.outboxPlanner;
    this.db = new Database(file);
    // 16 KiB pages (a new file only; an existing one keeps its size): a ~2 KB ePCR then fits in
    // its leaf page instead of spilling to an overflow chain, and a batch is a quarter of the WAL
    // frames. Measured with 500-document transactions: ePCRs 42 → 25 µs, GPS points 11 → 8.6 µs
    // per document; a one-row commit costs about 45 µs more.
    this.db.pragma(`page_size = ${PAGE_SIZE}`);
    this.db.pragma('journal_mode = WAL');
    // Durability is group-commit.ts's business: it syncs the WAL itself before answering anyone.
    this.db.pragma('synchronous = NORMAL');
    const durable = file !== ':memory:' && (options.synchronous ?? 'FULL') === 'FULL';
    this.db.pragma('busy_timeout = 5000');
    // Savepoint sub-journals in memory: each write of a commit group runs in a savepoint, and
    // SQLite keeps the original of every page a savepoint changes in a sub-journal that spills to
    // a temporary file past 64 KiB (four of our 16 KiB pages): with the default, every group of
    // two or more GPS points created, wrote and unlinked a file (strace of 100 devices with a
    // commit window: 215 openat/unlink and ~2 pwrite64 more per group). A sub-journal holds at
    // most the pages its group changes, which the page cache holds anyway.
    this.db.pragma('temp_store = MEMORY');
    this.migrate();
    this.db.exec(SCHEMA_SQL);
    this.stmts = {
      getMany: this.db.prepare<[string, string], DocumentRow>(
        `SELECT collection, id, tenant_id, seq, body, committed_at FROM documents
         WHERE collection = ? AND id IN (SELECT value FROM json_each(?))`),
      get: this.db.prepare<[string, string], DocumentRow>(
        'SELECT collection, id, tenant_id, seq, body, committed_at FROM documents WHERE collection = ? AND id = ?'),
      upsert: this.db.prepare(
        `INSERT INTO documents (collection, id, tenant_id, seq, deleted, body, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (collection, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted,
           body = excluded.body, committed_at = excluded.committed_at`),
      pull: this.db.prepare<[string, string, number, number], DocumentRow>(
        `SELECT collection, id, tenant_id, seq, body, committed_at FROM documents
         WHERE collection = ? AND tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
      count: this.db.prepare<[string, string], { n: number }>(
        'SELECT COUNT(*) AS n FROM documents WHERE collection = ? AND tenant_id = ?'),
      maxSeq: this.db.prepare<[], { s: number | null }>('SELECT MAX(seq) AS s FROM documents'),
      outboxInsert: this.db.prepare(
        `INSERT INTO outbox (key, kind, tenant_id, payload, causation_id, created_at, next_attempt_at, queue)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`),
      outboxDue: this.db.prepare<[string, number, number], OutboxRow>(
        'SELECT * FROM outbox WHERE queue = ? AND done = 0 AND next_attempt_at <= ? ORDER BY id LIMIT ?'),
      outboxDueOfTenant: this.db.prepare<[string, string, number, number], OutboxRow>(
        'SELECT * FROM outbox WHERE queue = ? AND tenant_id = ? AND done = 0 AND next_attempt_at <= ? ORDER BY id LIMIT ?'),
      outboxDone: this.db.prepare('UPDATE outbox SET done = 1, attempts = attempts + 1 WHERE id = ?'),
      outboxRetry: this.db.prepare(
        'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?'),
      outboxStats: this.db.prepare<[string], { depth: number; oldest: number | null }>(
        'SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE queue = ? AND done = 0'),
      outboxStatsOfTenant: this.db.prepare<[string, string], { depth: number; oldest: number | null }>(
        'SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE queue = ? AND tenant_id = ? AND done = 0'),
      deadCount: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE done = 2'),
      outboxDead: this.db.prepare('UPDATE outbox SET done = 2, attempts = attempts + 1, last_error = ? WHERE id = ?'),
      deadList: this.db.prepare<[string | null, string | null, number], OutboxRow>(
        'SELECT * FROM outbox WHERE done = 2 AND (? IS NULL OR tenant_id = ?) ORDER BY id DESC LIMIT ?'),
      deadRetry: this.db.prepare<[number, number, string | null, string | null]>(
        // A retried dead letter gets a full retry budget again, not a single last attempt.
        'UPDATE outbox SET done = 0, attempts = 0, next_attempt_at = ? WHERE id = ? AND done = 2 AND (? IS NULL OR tenant_id = ?)'),
      auditInsert: this.db.prepare('INSERT INTO audit (at, tenant_id, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)'),
      auditDocInsert: this.db.prepare('INSERT OR IGNORE INTO audit_documents (audit_id, document_id) VALUES (?, ?)'),
      auditLast: this.db.prepare<[], { hash: string }>('SELECT hash FROM audit ORDER BY id DESC LIMIT 1'),
      auditAll: this.db.prepare<[], AuditRow>('SELECT * FROM audit ORDER BY id'),
      // By entry id for the verifier's merge: a sort in a temporary tree, no index kept for it on the write path.
      auditIndexAll: this.db.prepare<[], { audit_id: number; document_id: string }>('SELECT audit_id, document_id FROM audit_documents ORDER BY audit_id'),
      auditHead: this.db.prepare<[number], { id: number; hash: string; after: number }>(
        'SELECT id, hash, (SELECT COUNT(*) FROM audit WHERE id > ?) AS after FROM audit ORDER BY id DESC LIMIT 1'),
      auditQuery: this.db.prepare<[string, number, number, number], AuditRow>(
        'SELECT * FROM audit WHERE tenant_id = ? AND at >= ? AND at <= ? ORDER BY id DESC LIMIT ?'),
      auditByDoc: this.db.prepare<[string, string, number, number, number], AuditRow>(
        `SELECT a.* FROM audit_documents d JOIN audit a ON a.id = d.audit_id
         WHERE d.document_id = ? AND a.tenant_id = ? AND a.at >= ? AND a.at <= ? ORDER BY a.id DESC LIMIT ?`),
      // The unindexed entries naming a document: a scan of the tenant's unindexed entries, newest first.
      auditByDocScan: this.db.prepare<[string, number, number, string, number], AuditRow>(
        `SELECT a.* FROM audit_documents d JOIN audit a ON a.id = d.audit_id
         WHERE d.document_id = '' AND a.tenant_id = ? AND a.at >= ? AND a.at <= ? AND instr(a.entry, ?) > 0 ORDER BY a.id DESC LIMIT ?`),
      artifactPut: this.db.prepare(
        `INSERT INTO artifacts (key, tenant_id, content_type, content, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET content_type = excluded.content_type, content = excluded.content, created_at = excluded.created_at`),
      artifactGet: this.db.prepare<[string, string], { content_type: string; content: string; created_at: number }>(
        'SELECT content_type, content, created_at FROM artifacts WHERE key = ? AND tenant_id = ?'),
      settingsGet: this.db.prepare<[string], { body: string; updated_at: number }>('SELECT body, updated_at FROM agency_settings WHERE tenant_id = ?'),
      settingsPut: this.db.prepare(
        `INSERT INTO agency_settings (tenant_id, body, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (tenant_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`),
      quarantineInsert: this.db.prepare(
        `INSERT INTO quarantine (collection, document_id, tenant_id, actor, reason, body, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`),
      quarantineList: this.db.prepare<[string, number], {
        id: number; collection: string; document_id: string; tenant_id: string; actor: string; reason: string; body: string; created_at: number;
      }>('SELECT * FROM quarantine WHERE tenant_id = ? ORDER BY id DESC LIMIT ?'),
    };
    this.lastSeq = this.stmts.maxSeq.get()?.s ?? 0;
    this.committedSeq = this.lastSeq;
    if (durable) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new WalCheckpointer(file);
    }
    this.groups = new GroupCommit(this.db, {
      committed: () => { this.committedSeq = this.lastSeq; },
      rolledBack: () => {
        this.lastSeq = this.committedSeq;
        this.auditHeadHash = undefined;
      },
      writeRolledBack: () => { this.auditHeadHash = undefined; },
      ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}),
      ...(options.commitWindow ? { window: options.commitWindow } : {}),
      ...(durable ? { walFile: `${file}-wal` } : {}),
      ...(this.checkpointer ? { checkpointer: this.checkpointer } : {}),
      // A test's held fsync must see every sync.
      ...(options.fsync ? { fsync: options.fsync, inline: false as const } : {}),
    });
  }

  /**
   * Brings a data directory made by an earlier version up to the current tables before anything
   * else runs; each step is guarded, so it runs once.
   */
  private migrate(): void {
    const columns = (table: string) => (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    const outbox = columns('outbox');
    if (outbox.length > 0 && !outbox.includes('queue')) {
      this.db.exec(`ALTER TABLE outbox ADD COLUMN queue TEXT NOT NULL DEFAULT 'hooks'; DROP INDEX IF EXISTS outbox_due;`);
    }
  }

  useOutboxPlanner(planner: OutboxPlanner): void {
    this.planner = checkedPlanner(this.planner, planner);
  }

  writeBatch(batch: WriteBatch): Promise<WriteResult> {
    const event = (result: WriteResult): CommitEvent => {
      const objects = this.writtenObjects.get(result);
      return { collection: batch.collection, tenantId: batch.tenantId, documents: result.written, ...(objects ? { objects } : {}) };
    };
    return this.groups.run(() => this.writeBatchSync(batch), {
      visible: (result) => { if (result.written.length > 0) this.earlyNotifier.emit(event(result)); },
      durable: (result) => { if (result.written.length > 0) this.notifier.emit(event(result)); },
    });
  }

  /** One batch, inside its group's transaction (in a savepoint of its own): the shared write path over this connection's statements. */
  private writeBatchSync(batch: WriteBatch): WriteResult {
    const now = Date.now();
    const seqBefore = this.lastSeq;
    const masters = this.currentRows(batch.collection, batch.requests.map((r) => r.id));
    const tx: WriteTransaction = {
      now,
      nextSeq: () => ++this.lastSeq,
      putDocuments: (collection, tenantId, writes) => {
        for (const { stored, doc } of writes) {
          this.stmts.upsert.run(collection, stored.id, tenantId, stored.seq, doc._deleted ? 1 : 0, stored.json, now);
        }
      },
      putQuarantine: (collection, tenantId, actor, items) => {
        const actorJson = JSON.stringify(actor);
        for (const item of items) this.stmts.quarantineInsert.run(collection, item.id, tenantId, actorJson, item.reason, item.json, now);
      },
      appendAudit: (entries, index) => this.appendAuditSync(entries, now, index),
      insertOutbox: (entries) => {
        for (const entry of entries) this.insertOutbox(entry, now);
      },
    };
    let applied: AppliedBatch;
    try {
      applied = applyWriteBatch(batch, masters, tx, this.planner);
    } catch (error) {
      // The savepoint rolls the rows back; the seqs it handed out are handed out again.
      this.lastSeq = seqBefore;
      this.auditHeadHash = undefined;
      throw error;
    }
    if (applied.objects.length > 0) this.writtenObjects.set(applied.result, applied.objects);
    return applied.result;
  }

  /** The stored rows of these ids, by id: one lookup for a whole batch instead of a query per row. */
  private currentRows(collection: string, ids: string[]): Map<string, StoredDocument> {
    const masters = new Map<string, StoredDocument>();
    if (ids.length === 1) {
      // One row (a GPS point per request): a primary-key lookup, without the JSON array and json_each.
      const row = this.stmts.get.get(collection, ids[0]!);
      if (row) masters.set(row.id, toStored(row));
      return masters;
    }
    for (const row of this.stmts.getMany.all(collection, JSON.stringify(ids))) masters.set(row.id, toStored(row));
    return masters;
  }

  private quarantineSync(collection: string, id: string, tenantId: string, actor: Actor, reason: string, doc: unknown, now: number): void {
    this.stmts.quarantineInsert.run(collection, id, tenantId, JSON.stringify(actor), reason, quarantineJson(doc), now);
  }

  async pull(query: PullQuery): Promise<PullPage> {
    const rows = this.stmts.pull.all(query.collection, query.tenantId, query.afterSeq, query.limit);
    const documents = rows.map(toStored);
    // A device keeps the checkpoint it is given: never one past writes a power cut could undo.
    await this.groups.durable();
    return { documents, lastSeq: documents.length > 0 ? documents[documents.length - 1]!.seq : query.afterSeq };
  }

  async pullScoped(query: ScopedPullQuery): Promise<PullPage> {
    const { filter } = query;
    const params: (string | number)[] = [];
    let rows: DocumentRow[];
    let scanned: string[];
    if (filter.kind === 'where') {
      if (filter.anyOf.length === 0) {
        const lastSeq = this.highWater([query.collection], query.tenantId, query.afterSeq);
        await this.groups.durable();
        return { documents: [], lastSeq };
      }
      const clause = filter.anyOf.map((alt) => `(${alt.length === 0 ? '1' : alt.map((t) => fieldTestSql(t, params)).join(' AND ')})`).join(' OR ');
      rows = this.dynamic(`SELECT collection, id, tenant_id, seq, body, committed_at FROM documents
         WHERE collection = ? AND tenant_id = ? AND seq > ? AND (${clause}) ORDER BY seq LIMIT ?`)
        .all(query.collection, query.tenantId, query.afterSeq, ...params, query.limit) as DocumentRow[];
      scanned = [query.collection];
    } else {
      const clause = filter.where.length === 0 ? '1' : filter.where.map((t) => fieldTestSql(t, params)).join(' AND ');
      // Each target's position in the order is the later of its own seq and its newest referencing document's.
      rows = this.dynamic(`WITH refs AS (
           SELECT json_extract(body, ?) AS ref, MAX(seq) AS rseq FROM documents
           WHERE collection = ? AND tenant_id = ? AND deleted = 0 AND (${clause}) GROUP BY ref)
         SELECT d.collection, d.id, d.tenant_id, MAX(d.seq, r.rseq) AS seq, d.body, d.committed_at
         FROM refs r JOIN documents d ON d.collection = ? AND d.id = r.ref
         WHERE r.ref IS NOT NULL AND d.tenant_id = ? AND MAX(d.seq, r.rseq) > ? ORDER BY 4 LIMIT ?`)
        .all(jsonPath(filter.key), filter.collection, query.tenantId, ...params, query.collection, query.tenantId, query.afterSeq, query.limit) as DocumentRow[];
      scanned = [query.collection, filter.collection];
    }
    const documents = rows.map(toStored);
    // A full page may have more after it; a short page reached the end, so everything up to the
    // newest commit of the scanned collections was examined (same connection, no write between).
    const lastSeq = documents.length === query.limit
      ? documents[documents.length - 1]!.seq
      : this.highWater(scanned, query.tenantId, query.afterSeq);
    await this.groups.durable();
    return { documents, lastSeq };
  }

  private highWater(collections: string[], tenantId: string, floor: number): number {
    let high = floor;
    for (const collection of collections) {
      const row = this.dynamic('SELECT MAX(seq) AS s FROM documents WHERE collection = ? AND tenant_id = ?').get(collection, tenantId) as { s: number | null } | undefined;
      if (row?.s != null && row.s > high) high = row.s;
    }
    return high;
  }

  private dynamic(sql: string): Database.Statement {
    let stmt = this.dynamicStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.dynamicStmts.set(sql, stmt);
    }
    return stmt;
  }

  async findQuarantine(query: QuarantineQuery): Promise<QuarantineEntry[]> {
    const where = ['tenant_id = ?', 'id > ?'];
    const params: (string | number)[] = [query.tenantId, query.afterId ?? 0];
    if (query.collection !== undefined) {
      where.push('collection = ?');
      params.push(query.collection);
    }
    if (query.documentIds !== undefined) {
      where.push('document_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(query.documentIds));
    }
    if (query.deviceId !== undefined) {
      where.push("json_extract(actor, '$.deviceId') = ?");
      params.push(query.deviceId);
    }
    if (query.userId !== undefined) {
      where.push("json_extract(actor, '$.userId') = ?");
      params.push(query.userId);
    }
    const rows = this.dynamic(`SELECT * FROM quarantine WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...params, query.limit) as {
      id: number; collection: string; document_id: string; tenant_id: string; actor: string; reason: string; body: string; created_at: number;
    }[];
    await this.groups.durable();
    return rows.map((row) => ({
      id: row.id, collection: row.collection, documentId: row.document_id, tenantId: row.tenant_id,
      actor: JSON.parse(row.actor) as Actor, reason: row.reason, json: row.body, createdAt: row.created_at,
    }));
  }

  async getDocuments(collection: string, tenantId: string, ids: string[]): Promise<StoredDocument[]> {
    const found: StoredDocument[] = [];
    for (const id of ids) {
      const row = this.stmts.get.get(collection, id);
      if (row && row.tenant_id === tenantId) found.push(toStored(row));
    }
    await this.groups.durable();
    return found;
  }

  async countDocuments(collection: string, tenantId: string): Promise<number> {
    const n = this.stmts.count.get(collection, tenantId)?.n ?? 0;
    await this.groups.durable();
    return n;
  }

  onCommit(listener: (event: CommitEvent) => void, options?: CommitListenerOptions): () => void {
    return options?.early ? this.earlyNotifier.subscribe(listener) : this.notifier.subscribe(listener);
  }

  async quarantine(collection: string, tenantId: string, actor: Actor, items: { id: string; reason: string; doc: unknown }[]): Promise<void> {
    await this.groups.run(() => {
      const now = Date.now();
      for (const item of items) this.quarantineSync(collection, storableText(item.id), tenantId, actor, storableText(item.reason), item.doc, now);
      this.appendAuditSync([{
        tenantId, action: 'quarantine', actor, collection,
        documents: items.map((i) => ({ id: storableText(i.id) })), details: { reasons: items.map((i) => storableText(i.reason)) },
      }], now);
    });
  }

  async appendAudit(entries: AuditEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await this.groups.run(() => this.appendAuditSync(entries, Date.now()));
  }

  /** Each entry's hash covers the previous hash, so changing or removing any entry breaks the chain after it. */
  private appendAuditSync(entries: AuditEntryInput[], now: number, index = true): void {
    let prev = this.auditHeadHash ?? this.stmts.auditLast.get()?.hash ?? GENESIS_HASH;
    // Unknown until every row is in: a statement that throws midway leaves the head to be read again.
    this.auditHeadHash = undefined;
    for (const entry of entries) {
      const text = JSON.stringify(entry);
      const hash = this.auditKey.hash(prev, now, entry.tenantId, text);
      const { lastInsertRowid } = this.stmts.auditInsert.run(now, entry.tenantId, text, prev, hash);
      if (!index && entry.documents?.length) this.stmts.auditDocInsert.run(lastInsertRowid, '');
      else for (const doc of entry.documents ?? []) this.stmts.auditDocInsert.run(lastInsertRowid, doc.id);
      prev = hash;
    }
    this.auditHeadHash = prev;
  }

  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const from = query.from ?? 0;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const fetch = query.limit * (query.userId ? 10 : 1);
    let entries: AuditEntry[];
    if (query.documentId) {
      const documentId = query.documentId;
      const scanned = this.stmts.auditByDocScan.all(query.tenantId, from, to, `"id":${JSON.stringify(documentId)}`, fetch).map(toAuditEntry)
        .filter((e) => e.documents?.some((d) => d.id === documentId));
      entries = [...this.stmts.auditByDoc.all(documentId, query.tenantId, from, to, fetch).map(toAuditEntry), ...scanned].sort((a, b) => b.id - a.id);
    } else {
      entries = this.stmts.auditQuery.all(query.tenantId, from, to, fetch).map(toAuditEntry);
    }
    await this.groups.durable();
    return entries.filter((e) => !query.userId || e.actor.userId === query.userId).slice(0, query.limit);
  }

  async verifyAudit(options: AuditVerifyOptions = {}): Promise<AuditChainReport> {
    await this.groups.durable();
    // Two statements open at once on one connection share its read transaction: one snapshot.
    const index = this.stmts.auditIndexAll.iterate();
    const merge = new IndexMerge(new ChainVerifier(this.auditKey, options), () => {
      const next = index.next();
      return next.done ? undefined : { auditId: next.value.audit_id, documentId: next.value.document_id };
    });
    try {
      for (const row of this.stmts.auditAll.iterate()) {
        merge.row({ id: row.id, at: row.at, tenantId: row.tenant_id, entry: row.entry, prevHash: row.prev_hash, hash: row.hash });
      }
      return merge.finish();
    } finally {
      index.return?.();
    }
  }

  async auditHead(afterId: number): Promise<{ lastId: number; lastHash: string; countAfter: number } | undefined> {
    const row = this.stmts.auditHead.get(afterId);
    await this.groups.durable();
    return row ? { lastId: row.id, lastHash: row.hash, countAfter: row.after } : undefined;
  }

  async listQuarantine(tenantId: string, limit: number): Promise<QuarantineEntry[]> {
    const rows = this.stmts.quarantineList.all(tenantId, limit);
    await this.groups.durable();
    return rows.map((row) => ({
      id: row.id, collection: row.collection, documentId: row.document_id, tenantId: row.tenant_id,
      actor: JSON.parse(row.actor) as Actor, reason: row.reason, json: row.body, createdAt: row.created_at,
    }));
  }

  private insertOutbox(entry: OutboxEntryInput, now: number): void {
    this.stmts.outboxInsert.run(entry.key, entry.kind, entry.tenantId, JSON.stringify(entry.payload), entry.causationId, now, now, entry.queue ?? 'hooks');
  }

  async enqueueOutbox(entries: OutboxEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await this.groups.run(() => {
      const now = Date.now();
      for (const entry of entries) this.insertOutbox(entry, now);
    }, { durable: () => this.notifier.emit({ collection: '', tenantId: entries[0]!.tenantId, documents: [] }) });
  }

  async dueOutbox(now: number, limit: number, queue: OutboxQueue = 'hooks', tenantId?: string): Promise<OutboxEntry[]> {
    const rows = tenantId === undefined ? this.stmts.outboxDue.all(queue, now, limit) : this.stmts.outboxDueOfTenant.all(queue, tenantId, now, limit);
    // Hooks act on the world: only for changes that are durable.
    await this.groups.durable();
    return rows.map(toOutboxEntry);
  }

  /**
   * Claims in memory: one process owns a SQLite file (DATA_DIR is never shared), so a claim only
   * has to keep this process's consumers apart, and a crash ends every claim with the process.
   */
  async claimOutbox(now: number, limit: number, leaseMs: number, queue: OutboxQueue = 'hooks'): Promise<OutboxEntry[]> {
    const clock = Date.now();
    const rows = this.stmts.outboxDue.all(queue, now, limit + this.claims.size);
    // Claimed in the same turn as the read: no settle can end a claim between the two (settle()).
    const claimed: OutboxEntry[] = [];
    /** The expired claims these replace, given back if the claim fails. */
    const replaced = new Map<number, { token: string; until: number }>();
    for (const row of rows) {
      if (claimed.length >= limit) break;
      const held = this.claims.get(row.id);
      if (held && held.until > clock) continue;
      if (held) replaced.set(row.id, held);
      const claimToken = randomUUID();
      this.claims.set(row.id, { token: claimToken, until: clock + leaseMs });
      claimed.push({ ...toOutboxEntry(row), claimToken });
    }
    try {
      // Rows read before they are durable are not acted on until they are.
      await this.groups.durable();
    } catch (error) {
      for (const entry of claimed) {
        if (this.claims.get(entry.id)?.token !== entry.claimToken) continue;
        const before = replaced.get(entry.id);
        if (before) this.claims.set(entry.id, before);
        else this.claims.delete(entry.id);
      }
      throw error;
    }
    return claimed;
  }

  /**
   * Settles an outbox entry if `claimToken` still holds its claim (none given: whoever holds it).
   * The claim ends only once the settle is committed: ended before, a claim in between (the hook
   * runner claims while other effects run) read the entry still pending and ran its effect again.
   */
  private async settle(id: number, claimToken: string | undefined, write: () => boolean): Promise<boolean> {
    const held = this.claims.get(id);
    if (claimToken !== undefined && held?.token !== claimToken) return false;
    try {
      return await this.groups.run(write);
    } finally {
      if (this.claims.get(id) === held) this.claims.delete(id);
    }
  }

  async deadLetterOutbox(id: number, error: string, claimToken?: string): Promise<boolean> {
    return this.settle(id, claimToken, () => this.stmts.outboxDead.run(error, id).changes > 0);
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const held = this.leases.get(key);
    if (held && held.holder !== holder && held.until > now) return false;
    this.leases.set(key, { holder, until: now + ttlMs });
    return true;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    if (this.leases.get(key)?.holder === holder) this.leases.delete(key);
  }

  async listDeadLetters(tenantId: string | undefined, limit: number): Promise<OutboxEntry[]> {
    const t = tenantId ?? null;
    const rows = this.stmts.deadList.all(t, t, limit);
    await this.groups.durable();
    return rows.map(toOutboxEntry);
  }

  async retryDeadLetter(id: number, tenantId: string | undefined): Promise<boolean> {
    const t = tenantId ?? null;
    return this.groups.run(() => this.stmts.deadRetry.run(Date.now(), id, t, t).changes > 0);
  }

  async putArtifact(key: string, tenantId: string, contentType: string, content: string): Promise<void> {
    await this.groups.run(() => this.stmts.artifactPut.run(key, tenantId, contentType, content, Date.now()));
  }

  async getArtifact(key: string, tenantId: string): Promise<{ contentType: string; content: string; createdAt: number } | undefined> {
    const row = this.stmts.artifactGet.get(key, tenantId);
    await this.groups.durable();
    return row ? { contentType: row.content_type, content: row.content, createdAt: row.created_at } : undefined;
  }

  async getAgencySettings(tenantId: string): Promise<{ json: string; updatedAt: number } | undefined> {
    const row = this.stmts.settingsGet.get(tenantId);
    await this.groups.durable();
    return row ? { json: row.body, updatedAt: row.updated_at } : undefined;
  }

  async putAgencySettings(tenantId: string, json: string, audit: AuditEntryInput, expected?: string | null): Promise<boolean> {
    return this.groups.run(() => {
      if (expected !== undefined && (this.stmts.settingsGet.get(tenantId)?.body ?? null) !== expected) return false;
      const now = Date.now();
      this.stmts.settingsPut.run(tenantId, json, now);
      this.appendAuditSync([audit], now);
      return true;
    });
  }

  async completeOutbox(id: number, claimToken?: string): Promise<boolean> {
    return this.settle(id, claimToken, () => this.stmts.outboxDone.run(id).changes > 0);
  }

  async retryOutboxLater(id: number, nextAttemptAt: number, error: string, claimToken?: string): Promise<boolean> {
    return this.settle(id, claimToken, () => this.stmts.outboxRetry.run(nextAttemptAt, error, id).changes > 0);
  }

  async outboxStats(now: number, queue: OutboxQueue = 'hooks', tenantId?: string): Promise<{ depth: number; oldestAgeMs: number; deadLetters: number }> {
    const row = tenantId === undefined ? this.stmts.outboxStats.get(queue) : this.stmts.outboxStatsOfTenant.get(queue, tenantId);
    const deadLetters = this.stmts.deadCount.get()?.n ?? 0;
    await this.groups.durable();
    return { depth: row?.depth ?? 0, oldestAgeMs: row?.oldest ? now - row.oldest : 0, deadLetters };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    // Writes already queued are committed and synced, and their callers answered, before the file closes.
    if (this.db.open) await this.groups.close();
    await this.checkpointer?.close();
    this.notifier.clear();
    this.earlyNotifier.clear();
    if (this.db.open) this.db.close();
  }
}


const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `$.<field>` for json_extract; only plain top-level names, so nothing else can reach the SQL. */
function jsonPath(field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`scoped pull: "${field}" is not a plain top-level field name`);
  return `$.${field}`;
}

/** SQL for one field test, binding its values; JSON true/false are 1/0 to SQLite. */
function fieldTestSql(test: FieldTest, params: (string | number)[]): string {
  params.push(jsonPath(test.field));
  if ('present' in test) return 'json_extract(body, ?) IS NOT NULL';
  params.push(typeof test.equals === 'boolean' ? (test.equals ? 1 : 0) : test.equals);
  return 'json_extract(body, ?) = ?';
}


function toAuditEntry(row: AuditRow): AuditEntry {
  return { ...(JSON.parse(row.entry) as AuditEntryInput), id: row.id, at: row.at, prevHash: row.prev_hash, hash: row.hash };
}


function toOutboxEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id, key: row.key, kind: row.kind, tenantId: row.tenant_id, payload: JSON.parse(row.payload) as unknown,
    causationId: row.causation_id, attempts: row.attempts, createdAt: row.created_at, nextAttemptAt: row.next_attempt_at,
    status: row.done === 0 ? 'pending' : row.done === 1 ? 'done' : 'dead',
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
  };
}

function toStored(row: DocumentRow): StoredDocument {
  return { collection: row.collection, id: row.id, tenantId: row.tenant_id, seq: row.seq, json: row.body, committedAt: row.committed_at };
}
