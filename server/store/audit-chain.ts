import { createHash, createHmac } from 'node:crypto';

/**
 * The audit chain's formula, shared by every store so that a chain written by one verifies the
 * same way everywhere: each entry's hash is an HMAC-SHA256, under a key kept away from the log
 * (AUDIT_KEY, server/audit/key.ts), of the previous hash, its time, tenant and content. Whoever
 * can write the database but does not hold the key cannot recompute the chain after an edit;
 * signed checkpoints outside the database (server/audit/checkpoints.ts) catch a shortened log.
 */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The formula before the chain was keyed (plain SHA-256). Entries written with it verify only as
 * an unbroken prefix of the chain, from genesis up to the first keyed entry (the switch point):
 * the first keyed entry's MAC covers the last plain hash, so the prefix cannot be rewritten
 * without the key either.
 */
export function plainAuditHash(prev: string, at: number, tenantId: string, entry: string): string {
  return createHash('sha256').update(`${prev}\n${at}\n${tenantId}\n${entry}`).digest('hex');
}

/** The chain's key: it makes entry hashes and checkpoint signatures; never written to the store. */
export class AuditKey {
  /** A fingerprint naming the key in checkpoints and messages (not the key, and no use for forging). */
  readonly id: string;
  readonly #secret: Buffer;

  constructor(secret: Buffer | string, readonly source = 'given') {
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (bytes.length < 32) throw new Error(`the audit key must be at least 32 bytes (got ${bytes.length}); make one with \`openssl rand -base64 48\``);
    this.#secret = bytes;
    this.id = createHmac('sha256', bytes).update('fieldsync audit key id').digest('hex').slice(0, 16);
  }

  /** The hash of an audit entry chained after `prev`. */
  hash(prev: string, at: number, tenantId: string, entry: string): string {
    return createHmac('sha256', this.#secret).update(`${prev}\n${at}\n${tenantId}\n${entry}`).digest('hex');
  }

  /** A signature over `text` in its own domain (checkpoints), so it can never pass as an entry hash. */
  sign(domain: string, text: string): string {
    return createHmac('sha256', this.#secret).update(`fieldsync ${domain}\n${text}`).digest('hex');
  }

  /**
   * A fixed key everyone can read in this source: for stores opened by tools, tests and
   * benchmarks without one. A server never uses it (server/audit/key.ts loads AUDIT_KEY, or in
   * development a generated key file); a chain made with it proves nothing.
   */
  static readonly PUBLIC_TEST_KEY = new AuditKey('fieldsync public test audit key: proves nothing, never for a server', 'public test key');
}

/** What a checkpoint records about the chain: how many entries, the last one's id and hash. */
export interface AuditHead {
  count: number;
  lastId: number;
  lastHash: string;
}

/** One stored audit row, as the verifier reads it. */
export interface AuditChainRow {
  id: number;
  at: number;
  tenantId: string;
  entry: string;
  prevHash: string;
  hash: string;
}

/** An entry the checkpointer wrote: checkpoint `n` of `stream` was written to the file (and sink). */
export interface CheckpointMarker {
  entryId: number;
  stream: string;
  n: number;
}

export interface AuditVerifyOptions {
  /** Entry ids whose position (entries up to and including it) and hash the report should give (checkpoint heads). */
  watch?: Iterable<number>;
}

export interface AuditChainReport {
  /** No problem found in the chain and its per-document index. Says nothing of truncation: checkpoints do (server/audit/verify.ts). */
  ok: boolean;
  /** Entries read. */
  checked: number;
  /** The first entry whose hash or link does not match. */
  firstBadId?: number;
  /** What is wrong, in words, first problem first (at most MAX_PROBLEMS). */
  problems: string[];
  head: AuditHead;
  /** Entries with the plain SHA-256 hash of before the switch to the keyed chain (a prefix). */
  legacyEntries: number;
  markers: CheckpointMarker[];
  /** For each watched id present: entries up to and including it, and its hash. */
  watched: Map<number, { count: number; hash: string }>;
}

const MAX_PROBLEMS = 20;
/** The audit action of the checkpointer's own entries. */
export const CHECKPOINT_ACTION = 'audit_checkpoint';
/** The tenant of the audit log's own entries (checkpoints): no agency's queries see them. */
export const AUDIT_SYSTEM_TENANT = '';

/**
 * Walks a chain in id order with the index rows of each entry and reports what does not match:
 * a link or a hash (an entry changed, inserted or removed in the middle, or the chain recomputed
 * without the key), and index rows that do not match the entry they index (deleted, so "who
 * touched this report" would miss the entry, or added). Each store feeds it from one snapshot.
 */
export class ChainVerifier {
  private prev = GENESIS_HASH;
  private keyed = false;
  private readonly report: AuditChainReport;
  private readonly watch: ReadonlySet<number>;

  constructor(private readonly key: AuditKey, options: AuditVerifyOptions = {}) {
    this.watch = new Set(options.watch ?? []);
    this.report = {
      ok: true, checked: 0, problems: [], head: { count: 0, lastId: 0, lastHash: GENESIS_HASH }, legacyEntries: 0, markers: [], watched: new Map(),
    };
  }

  private problem(text: string): void {
    this.report.ok = false;
    if (this.report.problems.length < MAX_PROBLEMS) this.report.problems.push(text);
  }

  /** The next row in id order, with the document ids of its index rows. */
  row(row: AuditChainRow, indexIds: readonly string[]): void {
    const report = this.report;
    report.checked++;
    report.head = { count: report.checked, lastId: row.id, lastHash: row.hash };
    if (this.watch.has(row.id)) report.watched.set(row.id, { count: report.checked, hash: row.hash });
    if (report.firstBadId === undefined) {
      if (row.prevHash !== this.prev) {
        const before = report.checked - 1;
        this.bad(row.id, `entry ${row.id} does not link to the entry before it (${before} ${before === 1 ? 'entry' : 'entries'} before it): an entry before it was removed or inserted, or this one was moved`);
      } else if (this.key.hash(this.prev, row.at, row.tenantId, row.entry) === row.hash) {
        this.keyed = true;
      } else if (!this.keyed && plainAuditHash(this.prev, row.at, row.tenantId, row.entry) === row.hash) {
        report.legacyEntries++;
      } else {
        this.bad(row.id, this.keyed
          ? `entry ${row.id} does not match its keyed hash (HMAC-SHA256 under key ${this.key.id}): it was changed, or recomputed without the audit key`
          : `entry ${row.id} matches neither the keyed hash (key ${this.key.id}) nor the plain SHA-256 of entries written before the switch: it was changed, or the configured AUDIT_KEY is not the key the log was written with`);
      }
    }
    this.prev = row.hash;
    let parsed: { action?: unknown; documents?: { id?: unknown }[]; details?: Record<string, unknown> };
    try {
      parsed = JSON.parse(row.entry) as typeof parsed;
    } catch {
      this.bad(row.id, `entry ${row.id} is not valid JSON: it was changed`);
      return;
    }
    if (parsed.action === CHECKPOINT_ACTION && typeof parsed.details?.['stream'] === 'string' && typeof parsed.details['n'] === 'number') {
      report.markers.push({ entryId: row.id, stream: parsed.details['stream'], n: parsed.details['n'] });
    }
    this.checkIndex(row.id, Array.isArray(parsed.documents) ? parsed.documents.map((d) => String(d?.id)) : [], indexIds);
  }

  private bad(id: number, text: string): void {
    this.report.firstBadId = id;
    this.problem(text);
  }

  /**
   * An entry naming documents is indexed either by each of them, or (WriteBatch.auditIndex false)
   * by one '' row that makes queries scan its text; one naming none has no index rows.
   */
  private checkIndex(id: number, documentIds: readonly string[], indexIds: readonly string[]): void {
    const expected = new Set(documentIds);
    const actual = new Set(indexIds);
    if (expected.size > 0 && actual.size === 1 && actual.has('')) return;
    const missing = [...expected].filter((d) => !actual.has(d));
    const extra = [...actual].filter((d) => !expected.has(d));
    if (missing.length > 0) {
      this.problem(`entry ${id} names ${missing.length === 1 ? 'document' : 'documents'} ${missing.slice(0, 5).join(', ')} but the per-document index has no row for ${missing.length === 1 ? 'it' : 'them'}: index rows were deleted, so "who touched this document" would not show this entry`);
    }
    if (extra.length > 0) {
      this.problem(`the per-document index links entry ${id} to ${extra.slice(0, 5).map((d) => d === '' ? '(unindexed)' : d).join(', ')}, which the entry does not name: index rows were added`);
    }
  }

  /** Index rows whose entry does not exist (read while merging index rows with the chain). */
  orphanIndex(auditId: number, documentId: string): void {
    this.problem(`the per-document index has a row for entry ${auditId} (document ${documentId || '(unindexed)'}), but there is no such entry: the entry was deleted`);
  }

  finish(): AuditChainReport {
    return this.report;
  }
}

/**
 * Feeds a verifier from two id-ordered streams (entries, and index rows by entry id): each
 * entry gets the index rows with its id; index rows without an entry are orphans.
 */
export class IndexMerge {
  private pending: { auditId: number; documentId: string } | undefined;

  constructor(private readonly verifier: ChainVerifier, private readonly nextIndex: () => { auditId: number; documentId: string } | undefined) {}

  row(row: AuditChainRow): void {
    const ids: string[] = [];
    for (;;) {
      const next = this.pending ?? this.nextIndex();
      this.pending = undefined;
      if (!next) break;
      if (next.auditId < row.id) {
        this.verifier.orphanIndex(next.auditId, next.documentId);
        continue;
      }
      if (next.auditId > row.id) {
        this.pending = next;
        break;
      }
      ids.push(next.documentId);
    }
    this.verifier.row(row, ids);
  }

  finish(): AuditChainReport {
    for (let next = this.pending ?? this.nextIndex(); next; next = this.nextIndex()) this.verifier.orphanIndex(next.auditId, next.documentId);
    this.pending = undefined;
    return this.verifier.finish();
  }
}

/**
 * The client-owned revision of a stored document, if it has one (foreign schemas may not). A
 * pattern instead of a parse keeps auditing cheap; no collection has a nested `rev` key.
 */
export function revOf(json: string): string | undefined {
  const match = /"rev":"([^"]{1,64})"/.exec(json);
  return match?.[1];
}

/** `revOf` of a document whose object is at hand: its `rev` field when that is what the pattern would find. */
export function revisionOf(doc: Readonly<Record<string, unknown>> | undefined, json: string): string | undefined {
  const rev = doc?.["rev"];
  if (typeof rev === 'string' && rev.length > 0 && rev.length <= 64 && !/["\\]/.test(rev)) return rev;
  return revOf(json);
}
