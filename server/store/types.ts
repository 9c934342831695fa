import type { AuditChainReport, AuditVerifyOptions } from './audit-chain.ts';

/**
 * The store contract. Replication routes and hooks talk to storage only through this, so a
 * PostgreSQL store can replace SQLite without touching them. The store knows documents,
 * sequences, the outbox and quarantine; it knows nothing of HTTP, RxDB or hooks.
 */

/** A document as it is stored and sent on the wire: the collection's fields plus `_deleted`. */
export type WireDocument = Record<string, unknown> & { _deleted: boolean };

export interface StoredDocument {
  collection: string;
  id: string;
  tenantId: string;
  /** Position in the store's commit order; the only thing checkpoints are made of. */
  seq: number;
  /** The document exactly as written; the store never rewrites a field of it. */
  json: string;
  /** Server clock at commit, for display and metrics only: ordering always uses `seq`. */
  committedAt: number;
}

export type WriteDecision =
  /** Write this state as the new version. */
  | { action: 'write'; doc: WireDocument }
  /** Do not write; report the current master state back to the writer. */
  | { action: 'conflict' }
  /** Nothing to do: the master already is this state (a retried request). */
  | { action: 'noop' }
  /** Refused by a rule: keep the content in quarantine with the reason, write nothing else. */
  | { action: 'reject'; reason: string };

export interface WriteRequest {
  id: string;
  /** The document the writer sent, kept verbatim if the write ends in quarantine. */
  incoming: WireDocument;
  /** Called inside the transaction with the current master, so the decision cannot race. */
  decide(master: StoredDocument | undefined): WriteDecision;
  /** `JSON.stringify(incoming)`, if already made: stored as is when the decision writes `incoming` itself. */
  incomingJson?: string | undefined;
}

export interface Actor {
  kind: 'device' | 'hook' | 'cad-bridge' | 'system';
  tenantId: string;
  userId?: string;
  deviceId?: string;
  role?: string;
}

/** Who drains an outbox entry: the hook runner, or the CAD bridge (strictly in id order). */
export type OutboxQueue = 'hooks' | 'cad';

export interface OutboxEntryInput {
  queue?: OutboxQueue;
  /** Deterministic key: inserting the same key twice is a no-op, which makes effects idempotent. */
  key: string;
  kind: string;
  tenantId: string;
  payload: unknown;
  /** The change that caused this entry, e.g. "epcrs/<id>@<seq>". */
  causationId: string;
}

export interface OutboxEntry extends OutboxEntryInput {
  id: number;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  lastError?: string;
  status: 'pending' | 'done' | 'dead';
  /** Set on an entry handed out by `claimOutbox`: settling it needs this token. */
  claimToken?: string;
}

/** One line of the append-only, hash-chained audit log. */
export interface AuditEntryInput {
  tenantId: string;
  /** e.g. `write`, `read`, `quarantine`, `auto_create`, `login`. */
  action: string;
  actor: Actor;
  collection?: string;
  /** Per document: id and the revisions before and after (absent for reads). */
  documents?: { id: string; beforeRev?: string; afterRev?: string }[];
  causationId?: string;
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEntryInput {
  id: number;
  at: number;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  tenantId: string;
  documentId?: string;
  userId?: string;
  from?: number;
  to?: number;
  limit: number;
}

/**
 * Decides which outbox entries a write adds (hook triggers, CAD notices). The store is opened
 * with one and asks it on every document write, inside the write's transaction, so the change and
 * its entries commit together and no writer can forget them (a writer that did would silently
 * skip every hook). The hooks' WorkflowRegistry is the product's planner; the store knows only
 * this interface, not the hooks.
 */
export interface OutboxPlanner {
  /**
   * Entries for the written changes of one batch (never called for a batch that wrote nothing).
   * Runs inside the write transaction: throwing rolls the whole batch back.
   */
  outboxFor(collection: string, actor: Actor, changes: WrittenChange[]): OutboxEntryInput[];
}

export interface WriteBatch {
  collection: string;
  /** The tenant the writer is authenticated for; documents of other tenants are never touched. */
  tenantId: string;
  actor: Actor;
  requests: WriteRequest[];
  /**
   * `false`: this write plans no outbox entries, although the store has a planner. Only for a
   * write whose hooks must not run, and the place that sets it says why (e.g. a test seeding a
   * state as if its hooks had already run). Absent: the store's planner plans them, always.
   */
  planOutbox?: false;
  /** Links the audit entry of this write to the change that caused it (hook effects). */
  causationId?: string;
  /**
   * Index the batch's audit entry by each document it names (default true). False for
   * documents written once and never changed (GPS points): one index row per document is then
   * most of the audit's cost, and `queryAudit` by document finds the entry by scanning the
   * tenant's unindexed entries instead (slower, and only for these documents).
   */
  auditIndex?: boolean;
  /**
   * Called inside the transaction after every request is decided and before anything is
   * committed; throwing rolls the whole batch back (e.g. a push with a row no rule allows).
   */
  afterDecisions?: (result: WriteResult) => void;
  /**
   * Called before the requests are decided again: a store whose writers run side by side
   * (PostgreSQL) re-decides a batch whose master changed under it (another transaction wrote it
   * first). Clears whatever earlier `decide()` calls of this batch collected.
   */
  onRedecide?: () => void;
}

/** One written document with the version it replaced, for hooks that react to transitions. */
export interface WrittenChange {
  before: StoredDocument | undefined;
  after: StoredDocument;
  /** `after` as an object (what the writer's decision wrote), so it need not be parsed again; never to be changed. */
  afterDoc?: WireDocument;
}

export interface WriteResult {
  written: StoredDocument[];
  conflicts: StoredDocument[];
  rejected: { id: string; reason: string }[];
  noops: number;
}

export interface PullQuery {
  collection: string;
  tenantId: string;
  afterSeq: number;
  limit: number;
}

export interface PullPage {
  documents: StoredDocument[];
  /** The highest sequence examined; the next pull continues after it. */
  lastSeq: number;
}

/** A commit; `documents` is empty when only outbox entries were added. */
export interface CommitEvent {
  collection: string;
  tenantId: string;
  documents: StoredDocument[];
  /**
   * The same documents as objects, index for index, when the store has them (what the writer's
   * decisions wrote), so listeners need not parse `json` again. Shared by every listener: never
   * to be changed.
   */
  objects?: readonly WireDocument[];
}

export interface CommitListenerOptions {
  /**
   * Hear commits as soon as they are visible, possibly before they are durable (a store that
   * syncs after COMMIT, like SQLite's group commit): a power cut could still undo them, and the
   * writer has not been answered yet. For live displays only (dispatch's unit positions), never
   * for anything a reader keeps (checkpoints) or acts on (hooks). Still in commit order.
   */
  early?: boolean;
}

export interface QuarantineEntry {
  id: number;
  collection: string;
  documentId: string;
  tenantId: string;
  actor: Actor;
  reason: string;
  json: string;
  createdAt: number;
}

/**
 * A test on one top-level field of a stored document, for pulls scoped by access rules:
 * equal to a value, or present (not absent and not null).
 */
export type FieldTest =
  | { readonly field: string; readonly equals: string | number | boolean }
  | { readonly field: string; readonly present: true };

/** Which documents a scoped pull returns (access control binds the caller's attributes first). */
export type DocumentFilter =
  /** Documents passing all tests of at least one alternative. */
  | { readonly kind: 'where'; readonly anyOf: readonly (readonly FieldTest[])[] }
  /**
   * Documents whose id is the `key` field of a live document of `collection` passing `where`
   * (e.g. the tickets behind a technician's jobs). Such a document counts as changed when it
   * or its referencing document changed: its position in the pull order is the later of the
   * two sequences, so one made visible by a new job reaches a device already past its own seq.
   */
  | { readonly kind: 'via'; readonly collection: string; readonly where: readonly FieldTest[]; readonly key: string };

export interface ScopedPullQuery extends PullQuery {
  filter: DocumentFilter;
}

export interface QuarantineQuery {
  tenantId: string;
  collection?: string;
  /** Only entries about these documents. */
  documentIds?: string[];
  /** Only entries sent by this device. */
  deviceId?: string;
  /**
   * Only entries sent by this user. A device id is chosen by the device at sign-in, so a list
   * shown to a person is keyed by the user the token names as well (issue 17: crew of M2 signed
   * in with M1's device id and saw M1's refusals).
   */
  userId?: string;
  /** Only entries with an id greater than this (paging, "since"). */
  afterId?: number;
  limit: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Decides and writes a batch in one transaction with its audit entry and the outbox entries
   * the store's planner plans for what was written (see `useOutboxPlanner`): no writer passes
   * hook triggers itself, so none can forget them.
   */
  writeBatch(batch: WriteBatch): Promise<WriteResult>;
  /**
   * The planner every later write asks for its outbox entries: given when the store is opened
   * (`openStore`, the stores' `outboxPlanner` option), or by the server it is handed to
   * (`buildServer`). A store serves one server: giving it a second, different planner throws.
   * Without one (tools, benchmarks), writes plan no entries.
   */
  useOutboxPlanner(planner: OutboxPlanner): void;
  pull(query: PullQuery): Promise<PullPage>;
  /**
   * Like `pull`, but only documents passing `filter`, still in commit order. Fewer than `limit`
   * documents means the end was reached, and `lastSeq` then covers every document examined
   * (the skipped ones too), so the next pull does not scan them again.
   */
  pullScoped(query: ScopedPullQuery): Promise<PullPage>;
  getDocuments(collection: string, tenantId: string, ids: string[]): Promise<StoredDocument[]>;
  countDocuments(collection: string, tenantId: string): Promise<number>;
  /** Subscribe to committed changes, in commit order, once they are durable. Returns the unsubscribe function. */
  onCommit(listener: (event: CommitEvent) => void, options?: CommitListenerOptions): () => void;
  /** Keep refused content, with who sent it and why, for the agency's admin to see. */
  quarantine(collection: string, tenantId: string, actor: Actor, items: { id: string; reason: string; doc: unknown }[]): Promise<void>;
  listQuarantine(tenantId: string, limit: number): Promise<QuarantineEntry[]>;
  /** Quarantine entries matching a query, oldest first (a device's rejected writes, a document's refusals). */
  findQuarantine(query: QuarantineQuery): Promise<QuarantineEntry[]>;
  /**
   * Outbox entries of a queue due at `now`, oldest first (claimed or not: for a single consumer in
   * id order, and for reading); of one agency only when `tenantId` is given (a CAD bridge's).
   */
  dueOutbox(now: number, limit: number, queue?: OutboxQueue, tenantId?: string): Promise<OutboxEntry[]>;
  /**
   * Claims up to `limit` due entries for `leaseMs`: no other claim gets them until the lease
   * ends, so of several processes exactly one runs each entry; one whose process died is claimed
   * again after its lease. Each carries a `claimToken` that settling it needs.
   */
  claimOutbox(now: number, limit: number, leaseMs: number, queue?: OutboxQueue): Promise<OutboxEntry[]>;
  /** Adds entries outside a document write (e.g. a notice a hook sends); duplicate keys are ignored. */
  enqueueOutbox(entries: OutboxEntryInput[]): Promise<void>;
  /**
   * Settling an entry: with `claimToken`, only while that claim holds (false: the lease ran out
   * and the entry is another claim's now, or it is settled already).
   */
  completeOutbox(id: number, claimToken?: string): Promise<boolean>;
  retryOutboxLater(id: number, nextAttemptAt: number, error: string, claimToken?: string): Promise<boolean>;
  /** After the retry budget: kept as a dead letter an admin can see and retry. */
  deadLetterOutbox(id: number, error: string, claimToken?: string): Promise<boolean>;
  /**
   * A named lease for `ttlMs` (e.g. a per-report hook lock): true if `holder` has it now (taken,
   * renewed, or the previous holder's ran out). No connection or lock is held while it lasts.
   */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
  /** Open write transactions and the age of the oldest (a store whose readers wait for them), for `/metrics`. */
  writerStats?(): Promise<{ oldestWriterAgeMs: number; openWriters: number }>;
  listDeadLetters(tenantId: string | undefined, limit: number): Promise<OutboxEntry[]>;
  /** Puts a dead letter back in the queue, due now. Returns false if there is no such dead letter. */
  retryDeadLetter(id: number, tenantId: string | undefined): Promise<boolean>;
  /** Pending entries of a queue (of one agency when `tenantId` is given), and dead letters of all queues. */
  outboxStats(now: number, queue?: OutboxQueue, tenantId?: string): Promise<{ depth: number; oldestAgeMs: number; deadLetters: number }>;
  /** Server-made artefacts (e.g. NEMSIS exports), keyed deterministically so re-making one replaces it. */
  putArtifact(key: string, tenantId: string, contentType: string, content: string): Promise<void>;
  getArtifact(key: string, tenantId: string): Promise<{ contentType: string; content: string; createdAt: number } | undefined>;
  /**
   * An agency's settings (server/agencies/settings.ts: its NEMSIS identity, its state submission
   * endpoint), as the JSON the agency's admin last saved; undefined when never saved.
   */
  getAgencySettings(tenantId: string): Promise<{ json: string; updatedAt: number } | undefined>;
  /**
   * Replaces an agency's settings and appends `audit` to the audit chain, in one transaction.
   * `expected`: the settings JSON the caller read (`null`: none yet); when the stored settings are
   * no longer those, nothing is written and the answer is false (a read-modify-write that lost a race).
   */
  putAgencySettings(tenantId: string, json: string, audit: AuditEntryInput, expected?: string | null): Promise<boolean>;
  /** Appends to the audit chain (writes are audited by `writeBatch` itself, in its transaction). */
  appendAudit(entries: AuditEntryInput[]): Promise<void>;
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /**
   * Recomputes the keyed hash chain and the per-document index from one snapshot; reports the
   * first entry that does not match and every index row that does not match its entry. Whether
   * the log was shortened is for the checkpoints to tell (server/audit/verify.ts).
   */
  verifyAudit(options?: AuditVerifyOptions): Promise<AuditChainReport>;
  /**
   * The chain's last entry, and how many entries come after `afterId`, from one snapshot of what
   * is durable (what a checkpoint records). `undefined` when the log is empty.
   */
  auditHead(afterId: number): Promise<{ lastId: number; lastHash: string; countAfter: number } | undefined>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
