import type { FastifyBaseLogger } from 'fastify';
import { nextRevision } from '../../shared/revision.ts';
import type { Actor, OutboxEntry, Store, WireDocument } from '../store/types.ts';
import type { WorkflowRegistry } from './registry.ts';
import type { EffectContext, HookPayload, WriteEffect } from './types.ts';

export interface HookRunnerOptions {
  store: Store;
  registry: WorkflowRegistry;
  log: FastifyBaseLogger;
  /** Attempts before an entry becomes a dead letter. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often due retries are looked for when no new change wakes the runner. */
  pollMs?: number;
  concurrency?: number;
  /**
   * How long a claimed entry is this runner's (ms). Longer than any effect takes (outbound calls
   * with their retries): an entry still running when its lease ends may be run by another process
   * too (effects are idempotent; the second completion is refused). A process that dies leaves its
   * claims to be taken by another after this long.
   */
  claimLeaseMs?: number;
}

/** See `HookRunnerOptions.claimLeaseMs`. */
export const DEFAULT_CLAIM_LEASE_MS = 120_000;

export interface HookFailure {
  tenantId: string;
  kind: string;
  causationId: string;
  attempts: number;
  error: string;
  deadLetter: boolean;
}

export interface HookRunStats {
  runs: Map<string, number>;
  failures: Map<string, number>;
}

/**
 * Drains the outbox. It runs beside the sync path, never in it: a slow or failing target delays
 * only its own entry, which is retried with backoff and ends as a dead letter, never lost.
 */
export class HookRunner {
  readonly stats: HookRunStats = { runs: new Map(), failures: new Map() };
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private wakeAgain = false;
  /** Wakes a drain that waits on running effects with a slot free (see drain). */
  private nudge: (() => void) | undefined;
  private stopped = true;
  private readonly inFlight = new Set<number>();
  /** Entries claimed again while their run here had not ended: run once it has (see drain). */
  private readonly claimedAgain = new Map<number, OutboxEntry>();
  /**
   * Entries whose effect ran here but whose completion the store refused (the lease ran out and
   * the entry was claimed again) or could not record: when this process claims one of them again
   * within a lease, it completes it rather than running the effect a second time. id → until.
   */
  private readonly doneHere = new Map<number, number>();
  private idle: Promise<void> = Promise.resolve();
  private readonly failureListeners = new Set<(failure: HookFailure) => void>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: HookRunnerOptions) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  /** Hears every failed attempt (for dispatch's live feed and metrics). */
  onFailure(listener: (failure: HookFailure) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle;
  }

  /** Called after commits that may have added entries, and by the poll timer. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      // A drain waiting on running effects claims what this wake-up is for now, not after them.
      this.nudge?.();
      return;
    }
    this.running = true;
    this.idle = this.drain().catch((error: unknown) => {
      // The store may be briefly unavailable; the poll timer tries again, nothing is lost.
      this.options.log.error({ err: error }, 'hook runner could not read the outbox; will retry');
    }).finally(() => {
      this.running = false;
      if (this.wakeAgain && !this.stopped) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /** Runs everything due now; resolves when the outbox has nothing due (used by tests and shutdown). */
  async drain(): Promise<void> {
    const concurrency = this.options.concurrency ?? 8;
    // Up to `concurrency` effects run at once, and a slot that frees is filled at once: a slow
    // effect (a partner that answers late) holds only its own slot. (Waiting for a whole round
    // before claiming the next held every later hook, a finalize check, a job's placement, for
    // as long as the slowest effect of the round took.)
    const running = new Set<Promise<void>>();
    /** Wakes the loop below: an effect ended (a slot freed), or `wake()` says more may be due. */
    let wakeLoop: (() => void) | undefined;
    try {
      for (;;) {
        if (this.stopped) return;
        const free = concurrency - running.size;
        // This claim sees every commit before it; a wake-up during it sets this again.
        if (free > 0) this.wakeAgain = false;
        // Claimed, not just read: of several processes on one database exactly one runs each entry.
        // Only as many as start now: a claimed entry waiting behind others here could outlive its
        // lease and be run by another process too (with 4 × concurrency claimed per round, finalize
        // checks on a loaded machine did, and a hospital notice went out twice).
        let due: OutboxEntry[] = [];
        try {
          if (free > 0) due = await this.options.store.claimOutbox(Date.now(), free, this.leaseMs);
        } catch (error) {
          // Nothing running: the caller logs it and the poll timer tries again. Effects running:
          // they go on, and the next slot that frees (or wake-up) claims again.
          if (running.size === 0) throw error;
          this.options.log.error({ err: error }, 'hook runner could not claim from the outbox; will retry');
        }
        for (const [id, until] of this.doneHere) if (until < Date.now()) this.doneHere.delete(id);
        for (const entry of due) {
          if (this.doneHere.has(entry.id)) {
            this.doneHere.delete(entry.id);
            const run: Promise<void> = this.completeDone(entry).finally(() => {
              running.delete(run);
              wakeLoop?.();
            });
            running.add(run);
            continue;
          }
          if (this.inFlight.has(entry.id)) {
            // Claimed again while its run here is still ending (its retry became due in the moment
            // between the store taking the retry and the run letting go of it, or its lease ran
            // out): settled under the new claim once that run ends. Dropped, it would stay
            // claimed, by nobody, for a whole lease.
            this.claimedAgain.set(entry.id, entry);
            continue;
          }
          // runEntry never rejects (it logs what it cannot record).
          const run: Promise<void> = this.runEntry(entry).finally(() => {
            running.delete(run);
            wakeLoop?.();
          });
          running.add(run);
        }
        // Every slot taken, or nothing more due now: on when one of the running effects ends, or
        // (with a slot free) when a commit or the poll timer says more may be due.
        if (due.length < free || running.size === concurrency) {
          if (running.size === 0) return;
          // A wake-up that came while the claim ran: claim again now.
          if (this.wakeAgain && running.size < concurrency) continue;
          await new Promise<void>((resolve) => {
            wakeLoop = resolve;
            if (running.size < concurrency) this.nudge = resolve;
          });
          wakeLoop = undefined;
          this.nudge = undefined;
        }
      }
    } finally {
      this.nudge = undefined;
      // Stopping (or a failed claim) leaves nothing running behind the caller's back.
      await Promise.allSettled(running);
    }
  }

  /** Runs one claimed entry and records its outcome; never rejects (what it cannot record is logged, and the claim's lease brings the entry back). */
  private async runEntry(entry: OutboxEntry): Promise<void> {
    const workflow = this.options.registry.get(entry.kind);
    const log = this.options.log.child({ causationId: entry.causationId, hook: entry.kind, outboxId: entry.id });
    this.inFlight.add(entry.id);
    let done = false;
    try {
      try {
        if (!workflow) throw new Error(`no workflow named ${entry.kind} is registered`);
        await workflow.run(this.contextFor(entry, log), entry.payload as HookPayload);
        done = true;
        this.count(this.stats.runs, entry.kind);
        if (await this.options.store.completeOutbox(entry.id, entry.claimToken)) log.debug('hook effect done');
        else {
          this.doneHere.set(entry.id, Date.now() + this.leaseMs);
          log.warn('hook effect done, but its claim had run out and the entry was claimed again (completed when claimed here again; an effect run elsewhere too is idempotent)');
        }
      } catch (error) {
        if (done) throw error;
        this.count(this.stats.failures, entry.kind);
        const message = error instanceof Error ? error.message : String(error);
        const deadLetter = entry.attempts + 1 >= this.maxAttempts;
        for (const listener of this.failureListeners) {
          try {
            listener({ tenantId: entry.tenantId, kind: entry.kind, causationId: entry.causationId, attempts: entry.attempts + 1, error: message, deadLetter });
          } catch (listenerError) {
            log.error({ err: listenerError }, 'a hook failure listener threw');
          }
        }
        if (deadLetter) {
          await this.options.store.deadLetterOutbox(entry.id, message, entry.claimToken);
          log.error({ err: error, attempts: entry.attempts + 1 }, 'hook effect failed for good; kept as a dead letter');
        } else {
          const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** entry.attempts);
          const jittered = delay / 2 + Math.random() * (delay / 2);
          // Whole milliseconds: PostgreSQL keeps them in a BIGINT (a fraction failed the update there).
          await this.options.store.retryOutboxLater(entry.id, Math.round(Date.now() + jittered), message, entry.claimToken);
          log.warn({ err: error, attempts: entry.attempts + 1, retryInMs: Math.round(jittered) }, 'hook effect failed; will retry');
        }
      }
    } catch (error) {
      // The store did not take the outcome (it is away): the entry is claimed again later (when
      // its claim is released or runs out); an effect done here is then completed, not run again.
      if (done) this.doneHere.set(entry.id, Date.now() + this.leaseMs);
      log.error({ err: error, effectDone: done }, 'could not record a hook effect\'s outcome; the entry is settled again when it is claimed again');
    } finally {
      this.inFlight.delete(entry.id);
    }
    const again = this.claimedAgain.get(entry.id);
    if (!again) return;
    this.claimedAgain.delete(entry.id);
    if (done) {
      // Done here already: completed under the new claim rather than run a second time.
      this.doneHere.delete(entry.id);
      await this.completeDone(again);
      return;
    }
    await this.runEntry(again);
  }

  /** Completes, under its new claim, an entry whose effect this process already ran (see doneHere). */
  private async completeDone(entry: OutboxEntry): Promise<void> {
    try {
      await this.options.store.completeOutbox(entry.id, entry.claimToken);
    } catch (error) {
      this.doneHere.set(entry.id, Date.now() + this.leaseMs);
      this.options.log.error({ err: error, hook: entry.kind, outboxId: entry.id }, 'could not record a hook effect\'s outcome; the entry is settled again when it is claimed again');
    }
  }

  private get leaseMs(): number {
    return this.options.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  private contextFor(entry: OutboxEntry, log: FastifyBaseLogger): EffectContext {
    const { store } = this.options;
    const actor: Actor = { kind: 'hook', tenantId: entry.tenantId, userId: 'system' };
    return {
      store,
      tenantId: entry.tenantId,
      causationId: entry.causationId,
      log,
      entry,
      now: () => new Date(),
      async getDocument(collection, id) {
        const [row] = await store.getDocuments(collection, entry.tenantId, [id]);
        return row ? (JSON.parse(row.json) as WireDocument) : undefined;
      },
      async write(collection: string, effect: WriteEffect) {
        let written: WireDocument | undefined;
        const result = await store.writeBatch({
          collection,
          tenantId: entry.tenantId,
          actor,
          causationId: entry.causationId,
          requests: [{
            id: effect.id,
            incoming: { _deleted: false },
            decide: (master) => {
              const current = master ? (JSON.parse(master.json) as WireDocument) : undefined;
              if (master && master.tenantId !== entry.tenantId) throw new Error(`${collection} ${effect.id} belongs to another tenant`);
              const next = effect.build(current);
              if (!next) return { action: 'noop' };
              written = { ...next, id: effect.id, tenantId: entry.tenantId, rev: nextRevision(current?.['rev'] as string | undefined, `srv.${Math.random().toString(36).slice(2, 8)}`) };
              return { action: 'write', doc: written };
            },
          }],
        });
        return result.written.length > 0 ? written : undefined;
      },
    };
  }
}
