import { revisionOf, revOf } from './audit-chain.ts';
import type { OutboxPlanner } from './types.ts';
import { decideBatch, type DecidedBatch, type DecidedWrite, type QuarantinedRequest } from './decisions.ts';
import type { Actor, AuditEntryInput, OutboxEntryInput, StoredDocument, WireDocument, WriteBatch, WriteResult, WrittenChange } from './types.ts';

/**
 * What an engine does inside one write transaction: the small primitives the write path is made
 * of. Each runs synchronously: SQLite executes its statement at once (better-sqlite3 transactions
 * cannot await), PostgreSQL collects the rows and sends them as one statement afterwards.
 */
export interface WriteTransaction {
  /** Server clock for the whole write. */
  readonly now: number;
  /** Hands out the next document seq, in commit order. */
  nextSeq(): number;
  /** Inserts or replaces the written documents (one per id, in seq order). */
  putDocuments(collection: string, tenantId: string, writes: readonly DecidedWrite[]): void;
  /** Keeps refused content with who sent it and why. */
  putQuarantine(collection: string, tenantId: string, actor: Actor, items: readonly QuarantinedRequest[]): void;
  /** Appends to the hash chain; `index` false: see `WriteBatch.auditIndex`. */
  appendAudit(entries: AuditEntryInput[], index: boolean): void;
  /** Inserts outbox entries in order; a key already present is ignored. */
  insertOutbox(entries: readonly OutboxEntryInput[]): void;
}

/** What the write path hands back to the engine: the writer's result and, for the commit event, the written objects. */
export interface AppliedBatch {
  result: WriteResult;
  /** Index for index with `result.written`; never to be changed. */
  objects: WireDocument[];
}

/**
 * The one write path of every store: decides each request against the current masters (the
 * engine read them inside this transaction), lets the writer refuse the batch as a whole, then
 * writes the documents, the quarantined requests, one audit entry and the outbox entries the
 * store's planner plans for what was written, all through `tx`, so all of it commits (or rolls
 * back) together: a change and its hook triggers exist together or not at all.
 */
export function applyWriteBatch(
  batch: WriteBatch,
  masters: ReadonlyMap<string, StoredDocument>,
  tx: WriteTransaction,
  planner: OutboxPlanner | undefined,
): AppliedBatch {
  const decided = decideBatch(batch, masters, () => tx.nextSeq(), tx.now);
  const { result, writes, quarantined } = decided;
  // Lets the caller refuse the batch as a whole once every row is decided (rolls back).
  batch.afterDecisions?.(result);
  if (writes.length > 0) tx.putDocuments(batch.collection, batch.tenantId, writes);
  if (quarantined.length > 0) tx.putQuarantine(batch.collection, batch.tenantId, batch.actor, quarantined);
  if (writes.length > 0 || result.rejected.length > 0) tx.appendAudit([writeAuditEntry(batch, decided)], batch.auditIndex ?? true);
  if (planner && writes.length > 0 && batch.planOutbox !== false) {
    const changes: WrittenChange[] = writes.map((w) => ({ before: w.before, after: w.stored, afterDoc: w.doc }));
    const entries = planner.outboxFor(batch.collection, batch.actor, changes);
    if (entries.length > 0) tx.insertOutbox(entries);
  }
  return { result, objects: writes.map((w) => w.doc) };
}

/** The audit entry of a write batch: each written document with its revisions before and after, and what was refused. */
function writeAuditEntry(batch: WriteBatch, { result, writes }: DecidedBatch): AuditEntryInput {
  const documents = writes.map((w) => {
    const beforeRev = w.before ? revOf(w.before.json) : undefined;
    const afterRev = revisionOf(w.doc, w.stored.json);
    return { id: w.stored.id, ...(beforeRev ? { beforeRev } : {}), ...(afterRev ? { afterRev } : {}) };
  });
  return {
    tenantId: batch.tenantId, action: 'write', actor: batch.actor, collection: batch.collection, documents,
    ...(batch.causationId ? { causationId: batch.causationId } : {}),
    ...(result.rejected.length > 0 || batch.actor.kind === 'hook' ? {
      details: {
        ...(batch.actor.kind === 'hook' ? { auto_created: true } : {}),
        ...(result.rejected.length > 0 ? { rejected: result.rejected } : {}),
      },
    } : {}),
  };
}
