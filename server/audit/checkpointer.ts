import { randomUUID } from 'node:crypto';
import { postOnce } from '../integrations/http-post.ts';
import { AUDIT_SYSTEM_TENANT, CHECKPOINT_ACTION, type AuditKey } from '../store/audit-chain.ts';
import type { Store } from '../store/types.ts';
import { appendCheckpoint, readLastCheckpoint, signCheckpoint, type Checkpoint } from './checkpoints.ts';

export interface CheckpointerOptions {
  store: Store;
  key: AuditKey;
  /** The append-only file of checkpoints. */
  file: string;
  /** Also POSTed here (JSON), when set. */
  sinkUrl?: string | undefined;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Checkpoints held for the sink while it does not answer; the oldest are dropped past this (they stay in the file). */
const MAX_UNSENT = 1000;
const SINK_TIMEOUT_MS = 5000;

/**
 * Writes signed checkpoints of the audit chain when it grew (the server calls `checkpoint` at a
 * cadence and at shutdown). After each one it appends an `audit_checkpoint` entry naming it to
 * the log itself: the log then shows how many checkpoints the file should hold, so lines cut
 * from the end of the file show against the log, while the entry is covered by the next
 * checkpoint like any other. Several processes (PostgreSQL) each keep their own file (stream).
 */
export class AuditCheckpointer {
  private last: Checkpoint | undefined;
  private stream: string;
  /** The log's last entry after our own checkpoint entry: nothing new to checkpoint while it still is. */
  private ownHead: number | undefined;
  private running: Promise<void> | undefined;
  private readonly unsent: Checkpoint[] = [];

  constructor(private readonly options: CheckpointerOptions) {
    // Only the last line: where to continue. audit:verify checks the whole file.
    const read = readLastCheckpoint(options.file, options.key);
    if (read.problem) options.log.error({ file: options.file }, `audit checkpoints: ${read.problem} (run npm run audit:verify)`);
    this.last = read.checkpoint;
    this.stream = this.last?.stream ?? randomUUID();
  }

  /** Writes a checkpoint if the log grew since the last one; one at a time. */
  checkpoint(): Promise<void> {
    const run = (this.running ?? Promise.resolve()).then(() => this.write()).catch((error: unknown) => {
      this.options.log.error({ err: error, file: this.options.file }, 'audit checkpoint failed; retried at the next one');
    });
    this.running = run;
    return run;
  }

  private async write(): Promise<void> {
    const { store, key, file, log } = this.options;
    const last = this.last;
    const head = await store.auditHead(last?.lastId ?? 0);
    if (head === undefined) {
      if (last && last.count > 0) {
        log.error({ file, checkpoint: last.n }, `the audit log is empty, but checkpoint ${last.n} recorded ${last.count} entries: it was emptied (run npm run audit:verify); no checkpoint written over it`);
        return;
      }
      if (last) return;
    } else if (last && head.lastId < last.lastId) {
      log.error({ file, checkpoint: last.n }, `the audit log ends at entry ${head.lastId}, before the last entry of checkpoint ${last.n} (${last.lastId}): entries were removed (run npm run audit:verify); no checkpoint written over it`);
      return;
    } else if (last && head.lastId === last.lastId && head.lastHash !== last.head) {
      log.error({ file, checkpoint: last.n }, `entry ${last.lastId} no longer has the hash checkpoint ${last.n} recorded: the log was rewritten (run npm run audit:verify); no checkpoint written over it`);
      return;
    } else if (last && (head.lastId === last.lastId || head.lastId === this.ownHead)) {
      // Nothing but our own checkpoint entry since.
      await this.flushSink();
      return;
    }
    const checkpoint = signCheckpoint(key, {
      stream: this.stream, n: (last?.n ?? 0) + 1, at: new Date().toISOString(),
      count: (last?.count ?? 0) + (head?.countAfter ?? 0), lastId: head?.lastId ?? 0, head: head?.lastHash ?? '0'.repeat(64), prev: last?.sig ?? '',
    });
    await appendCheckpoint(file, checkpoint);
    this.last = checkpoint;
    this.unsent.push(checkpoint);
    if (this.unsent.length > MAX_UNSENT) this.unsent.splice(0, this.unsent.length - MAX_UNSENT);
    await store.appendAudit([{
      tenantId: AUDIT_SYSTEM_TENANT, action: CHECKPOINT_ACTION, actor: { kind: 'system', tenantId: AUDIT_SYSTEM_TENANT },
      details: { stream: checkpoint.stream, n: checkpoint.n, count: checkpoint.count, lastId: checkpoint.lastId },
    }]);
    this.ownHead = (await store.auditHead(checkpoint.lastId))?.lastId;
    await this.flushSink();
  }

  /** Sends what the sink has not acknowledged yet, in order; stops at the first failure (tried again next time). */
  private async flushSink(): Promise<void> {
    const url = this.options.sinkUrl;
    if (!url) {
      this.unsent.length = 0;
      return;
    }
    while (this.unsent.length > 0) {
      const checkpoint = this.unsent[0]!;
      try {
        await postOnce('audit checkpoint sink', url, JSON.stringify(checkpoint), {
          'content-type': 'application/json', 'idempotency-key': `${checkpoint.stream}-${checkpoint.n}`,
        }, AbortSignal.timeout(SINK_TIMEOUT_MS));
      } catch (error) {
        this.options.log.warn({ err: error, url, checkpoint: checkpoint.n }, `the audit checkpoint sink did not take checkpoint ${checkpoint.n}; ${this.unsent.length} waiting, sent again with the next checkpoint`);
        return;
      }
      this.unsent.shift();
    }
  }

  /** The last checkpoint written (or found in the file). */
  get latest(): Checkpoint | undefined {
    return this.last;
  }
}
