import type Database from 'better-sqlite3';
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import path from 'node:path';
import type { WalCheckpointer } from './wal-checkpointer.ts';

/**
 * After a sync, a background checkpoint starts if none ran for this long. Each checkpoint costs
 * the process a round trip to the worker, the pages it copies and two fsyncs (WAL and database
 * file): at 100 ms, with 100 GPS points a second in groups of three, a third of the process's
 * fsyncs were checkpoints', and a page the points change every time (an index leaf) was copied
 * ten times a second. At 500 ms the WAL holds at most half a second of writes more.
 */
const CHECKPOINT_INTERVAL_MS = 500;
/**
 * The WAL starts over (is written from its beginning again) only when a write begins with every
 * frame already copied, which a background checkpoint racing with writes rarely leaves behind.
 * Past this many frames (16 MB of 4 KB pages), a background checkpoint is followed at once by one
 * with writes held: it copies only what came in meanwhile, and the next write starts the WAL over.
 */
const HOLD_AFTER_FRAMES = 4096;

/**
 * When a group is synced on the event loop instead of the thread pool (see `inline` below): its
 * transaction took less than `maxGroupMs`, and recent fsyncs of the WAL took less than
 * `maxSyncMs` on average.
 */
export const DEFAULT_INLINE_SYNC = { maxGroupMs: 2, maxSyncMs: 2 } as const;
/** Weight of the newest fsync in the running average of fsync durations. */
const SYNC_AVERAGE_WEIGHT = 0.2;

/**
 * The commit window (see `GroupCommit`): how long a write may wait for others to share its
 * commit and fsync, and how many writes end the wait at once.
 */
export interface CommitWindow {
  /** At most this long after the first write of a group arrived; 0 turns the window off. */
  maxWaitMs: number;
  /** A group this large commits without waiting further. */
  groupOf: number;
}

/** Weight of the newest gap between two writes in the running average the window decides by. */
const ARRIVAL_AVERAGE_WEIGHT = 0.2;

/** Callbacks of a write, in commit order across writes; a throwing one is logged, not propagated. */
export interface AfterCommit<T> {
  /** Right after COMMIT, possibly before the write is durable: for displays only, never for anything kept or acted on. */
  visible?: (value: T) => void;
  /** Once the write is durable, before its caller resumes (commit notifications). */
  durable?: (value: T) => void;
}

interface Queued {
  /** The clock's time (this.now()) when the write was queued. */
  at: number;
  work: () => unknown;
  after: AfterCommit<unknown> | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Someone waiting until every commit up to `gen` is on disk. */
interface Waiter { gen: number; done: () => void; fail: (error: Error) => void }

export interface GroupCommitOptions {
  /**
   * The connection's WAL file. When given, the connection must run with synchronous=NORMAL (its
   * COMMIT writes the WAL without syncing it) and this file is fsynced off the event loop before
   * any caller is answered: durable like synchronous=FULL, without blocking the loop on the disk.
   * Absent: callers are answered right after COMMIT (synchronous=NORMAL's guarantee, or :memory:).
   */
  walFile?: string;
  /** Replaces fs.fsync (tests hold it, to see that nobody is answered before it completes). */
  fsync?: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void;
  /**
   * Small groups on a quick disk are fsynced on the event loop (`fsyncInline`, fs.fsyncSync by
   * default): a hop to the thread pool and back costs more CPU than such an fsync blocks the loop.
   * `false`: every sync goes through `fsync` (what a test that holds `fsync` needs).
   */
  inline?: { maxGroupMs: number; maxSyncMs: number } | false;
  fsyncInline?: (fd: number) => void;
  /**
   * Checkpoints the WAL off the event loop (the connection must have wal_autocheckpoint=0):
   * started after syncs, at most every CHECKPOINT_INTERVAL_MS. If it fails, the connection's
   * own automatic checkpoint is turned back on.
   */
  checkpointer?: Pick<WalCheckpointer, 'failed' | 'checkpoint'>;
  /** After a group's COMMIT returned, before any of its callers hears of it. */
  committed?: () => void;
  /** After a group was rolled back as a whole (its COMMIT failed): undo in-memory state of its writes. */
  rolledBack?: () => void;
  /** After one write of a group threw and its savepoint was rolled back (the rest of the group goes on): undo in-memory state it may have changed. */
  writeRolledBack?: () => void;
  /** Inside the group's transaction, just before COMMIT; throwing fails the whole group (tests of that path). */
  beforeCommit?: () => void;
  /** Lets a write wait a little for others to share its commit (see `GroupCommit`); absent or maxWaitMs 0: none waits. */
  window?: CommitWindow;
  /** Milliseconds for the decisions above (default performance.now): tests set the time a transaction or an fsync takes. */
  clock?: () => number;
}

function callSafely(callback: (value: unknown) => void, value: unknown): void {
  try {
    callback(value);
  } catch (error) {
    console.error('a commit callback failed; the write itself is committed', error);
  }
}

/** Thrown to every caller of a group whose transaction could not be committed. */
export class GroupCommitFailed extends Error {
  constructor(cause: unknown) {
    super(`The store could not commit this write (${cause instanceof Error ? cause.message : String(cause)}); nothing of it was written. Retry the request; if it keeps failing, check the data directory's disk.`, { cause });
  }
}

/** Rolls back the transaction of a group of one write that threw (its caller gets the write's own error). */
class SoleWriteFailed extends Error {
  constructor() {
    super('the only write of this group failed; its transaction is rolled back');
  }
}

/** Thrown to callers whose committed writes could not be made durable: the disk reported an error. */
export class DurabilityFailed extends Error {
  constructor(cause: Error) {
    super(`The store committed this change but the disk failed to make it durable (fsync: ${cause.message}); it may be lost if the machine stops. Retry the request (a retry of a committed write changes nothing), and check the data directory's disk.`, { cause });
  }
}

/**
 * Group commit on one better-sqlite3 connection.
 *
 * A durable commit needs an fsync of the WAL. Done by SQLite inside COMMIT (synchronous=FULL) it
 * blocks the event loop for the whole disk round trip, once per request. Here the connection
 * commits with synchronous=NORMAL (COMMIT only writes the WAL into the page cache) and the WAL is
 * fsynced on libuv's thread pool. While that fsync runs, new writes queue up; when it completes,
 * everything queued is committed as one transaction and synced by the next fsync. So there is one
 * transaction and one fsync per disk round trip however many requests arrive, and the loop keeps
 * serving meanwhile. Without a sync in flight, writes of one event-loop turn form a group.
 *
 * Except for small groups on a quick disk (`inline`): a GPS point from one device is a group of
 * one row whose fsync takes well under a millisecond, and handing it to the thread pool and back
 * (waking a pool thread, then the loop) cost more server CPU than the fsync itself: with 100
 * devices on a 2-core VM, 2.28 → 1.95 ms per point in four interleaved rounds, and 2.64 → 2.43 in
 * three more; at 500 devices, CPU and latency were unchanged. Such a group is synced on the
 * loop. A group whose transaction took longer, or any group while recent fsyncs were slow (a busy
 * disk), goes to the thread pool as before. So a disk that turns slow holds the loop for the one
 * fsync that shows it, and not for the ones after; a pool fsync's time includes its wait for the
 * pool and the loop, so on a busy server the average stays high and every sync stays on the pool.
 *
 * Each write runs in its own SAVEPOINT, so a write that throws (a refused push, a failing
 * decide()) is rolled back alone and its caller gets the error; the others are unaffected. A
 * group of one write (a GPS point from one device, most groups at 100 devices) runs without a
 * savepoint: rolling back the whole transaction undoes the same, and the savepoint is not free.
 * SQLite keeps the original of every page a savepoint changes in a sub-journal, which spills to
 * a temporary file past 64 KiB: with 16 KiB pages a one-point write changes 7 pages, so every
 * write opened, wrote 7 pages to, and unlinked a file (strace, per request: openat, unlink, close,
 * 2 access, ~8 pwrite64). Writes
 * run in queue order, so anything numbered inside them (seqs, audit ids) is numbered in commit
 * order. A caller is answered, and `durable` callbacks (commit notifications) run, only after
 * the fsync covering its group completed (`visible` callbacks run right after COMMIT); if the COMMIT fails, every caller of the group gets
 * `GroupCommitFailed` and nothing of the group exists.
 *
 * The commit window (`window`): when writes arrive one at a time but often (100 devices each
 * pushing a GPS point a second: a push every 10 ms, each alone in its group), a group that is
 * still small waits up to `maxWaitMs` after its first write for others, if the recent rate of
 * writes says another one is due within that time. Up to `groupOf` writes then share one
 * transaction, one WAL append and one fsync, instead of one each. Writes that arrive rarely never
 * wait (no other write is expected), and neither do writes that queued behind a running fsync
 * (they already form a group). Nothing about durability changes: a write is answered only
 * after the fsync covering its group, and a crash during the wait loses only writes nobody was
 * answered for (their devices still hold them and send them again).
 *
 * Committed but not yet synced rows are visible to reads on this connection; a reader must not
 * act on them before they are durable (a device would keep a checkpoint past writes a power cut
 * could undo). `durable()` resolves when everything committed so far is on disk: reads await it
 * after reading and before answering.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly runGroup: (queue: Queued[], outcomes: Outcome[]) => void;
  private readonly runSole: (item: Queued, outcomes: Outcome[]) => void;
  private readonly inSavepoint: (work: () => unknown) => unknown;
  /** Groups committed, and groups known to be on disk (a counter each). */
  private committedGen = 0;
  private durableGen = 0;
  private syncing = false;
  private readonly waiters: Waiter[] = [];
  private walFd: number | undefined;
  private readonly now: () => number;
  private readonly fsync: NonNullable<GroupCommitOptions['fsync']>;
  private readonly fsyncInline: NonNullable<GroupCommitOptions['fsyncInline']>;
  private readonly inline: { maxGroupMs: number; maxSyncMs: number } | false;
  /** Running average of recent WAL fsync durations, ms (either path). */
  private syncMs = 0;
  private checkpointing = false;
  private lastCheckpointAt = 0;
  private holdNextCheckpoint = false;
  /** A checkpoint that runs with writes held: no group is committed until it settles. */
  private holding: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  /** Set by close(): no checkpoint starts any more (the connection and the worker are closing). */
  private closing = false;
  /** The commit window's timer, while a small group waits for more writes. */
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly window: CommitWindow | undefined;
  /** When the last write was queued, and the running average of the gaps between writes (ms). */
  private lastArrival = Number.NEGATIVE_INFINITY;
  private arrivalGapMs = Number.POSITIVE_INFINITY;
  /**
   * Writes were seen overlapping: one arrived while another was queued or being synced. Without
   * that, writes arriving often come from one writer that waits for each answer (a device
   * draining its backlog, a hook's write then its outbox completion), and a wait would only
   * delay the write the next one waits for. Cleared when a window ends with its write still alone.
   */
  private concurrent = false;

  constructor(private readonly db: Database.Database, private readonly options: GroupCommitOptions = {}) {
    this.now = options.clock ?? (() => performance.now());
    this.fsync = options.fsync ?? fsync;
    this.fsyncInline = options.fsyncInline ?? fsyncSync;
    this.inline = options.inline ?? DEFAULT_INLINE_SYNC;
    this.window = options.window && options.window.maxWaitMs > 0 ? options.window : undefined;
    // better-sqlite3 runs a transaction function called inside another one as a SAVEPOINT.
    this.inSavepoint = db.transaction((work: () => unknown) => work());
    this.runGroup = db.transaction((queue: Queued[], outcomes: Outcome[]) => {
      for (const item of queue) {
        try {
          outcomes.push({ ok: true, value: this.inSavepoint(item.work) });
        } catch (error) {
          // Some errors (I/O, disk full) end the whole transaction, not just the savepoint: then
          // nothing of the group can be committed, and the later writes must not run outside it.
          if (!this.db.inTransaction) throw error;
          this.options.writeRolledBack?.();
          outcomes.push({ ok: false, error });
        }
      }
      this.options.beforeCommit?.();
    }).immediate;
    this.runSole = db.transaction((item: Queued, outcomes: Outcome[]) => {
      try {
        outcomes.push({ ok: true, value: item.work() });
      } catch (error) {
        // As in a group: an error that ended the transaction itself fails the group (GroupCommitFailed).
        if (!this.db.inTransaction) throw error;
        outcomes.push({ ok: false, error });
        // Rolls the transaction back: nothing of the write is kept, as its savepoint would have done.
        throw new SoleWriteFailed();
      }
      this.options.beforeCommit?.();
    }).immediate;
  }

  /** Queues `work` for the next group; resolves with its value once it is durable. */
  run<T>(work: () => T, after?: AfterCommit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const at = this.now();
      if (this.window) {
        if (this.queue.length > 0 || this.syncing) this.concurrent = true;
        const gap = at - this.lastArrival;
        this.arrivalGapMs = Number.isFinite(this.arrivalGapMs) ? this.arrivalGapMs + ARRIVAL_AVERAGE_WEIGHT * (gap - this.arrivalGapMs) : gap;
        this.lastArrival = at;
      }
      this.queue.push({ at, work, after: after as AfterCommit<unknown> | undefined, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves when everything committed so far is durable (at once when it already is). */
  durable(): Promise<void> {
    if (this.durableGen === this.committedGen) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ gen: this.committedGen, done: resolve, fail: reject }));
  }

  /** Commits whatever is queued and waits until it is durable (before the connection closes). */
  async close(): Promise<void> {
    this.closing = true;
    await this.holding;
    this.flush();
    await this.durable().catch(() => undefined);
    await this.running;
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  private schedule(fromSync = false): void {
    if (this.windowTimer && this.queue.length >= this.window!.groupOf) {
      // The group the window waited for is complete: commit it in this turn.
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
      setImmediate(() => this.flush());
      return;
    }
    // While a sync runs, its completion starts the next group: one transaction per disk round trip.
    if (this.scheduled || this.syncing || this.holding || this.queue.length === 0) return;
    this.scheduled = true;
    const wait = fromSync ? 0 : this.windowWait();
    if (wait > 0) {
      this.windowTimer = setTimeout(() => {
        // Nobody joined: its writers are likely waiting for it (see `concurrent`).
        if (this.queue.length === 1) this.concurrent = false;
        this.flush();
      }, wait);
    } else {
      setImmediate(() => this.flush());
    }
  }

  /**
   * How long the queued group waits for more writes (ms; 0: commit now): only a group smaller
   * than `groupOf`, only while writes have been arriving more often than the window is long
   * and from writers that overlap (`concurrent`), and never past `maxWaitMs` after its first write.
   */
  private windowWait(): number {
    const window = this.window;
    if (!window || !this.concurrent || this.queue.length >= window.groupOf || !(this.arrivalGapMs < window.maxWaitMs)) return 0;
    return Math.max(0, window.maxWaitMs - (this.now() - this.queue[0]!.at));
  }

  private flush(): void {
    this.scheduled = false;
    if (this.windowTimer) {
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
    }
    if (this.holding) return; // the end of the hold schedules the queue again
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    const outcomes: Outcome[] = [];
    const began = this.now();
    try {
      if (queue.length === 1) this.runSole(queue[0]!, outcomes);
      else this.runGroup(queue, outcomes);
    } catch (error) {
      this.options.rolledBack?.();
      if (error instanceof SoleWriteFailed) {
        // The write's own error, as a write in a savepoint gets it: nothing was committed, nothing to sync.
        const outcome = outcomes[0]!;
        queue[0]!.reject(outcome.ok ? error : outcome.error);
        return;
      }
      const failure = new GroupCommitFailed(error);
      for (const item of queue) item.reject(failure);
      return;
    }
    this.options.committed?.();
    queue.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok && item.after?.visible) callSafely(item.after.visible, outcome.value);
    });
    const settle = (syncError?: Error) => {
      queue.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (!outcome.ok) {
          item.reject(outcome.error);
          return;
        }
        // The change is in the database either way; listeners must hear of it.
        if (item.after?.durable) callSafely(item.after.durable, outcome.value);
        if (syncError) item.reject(new DurabilityFailed(syncError));
        else item.resolve(outcome.value);
      });
    };
    if (this.options.walFile === undefined) {
      settle();
      return;
    }
    this.committedGen++;
    this.waiters.push({ gen: this.committedGen, done: () => settle(), fail: (error) => settle(error) });
    const small = this.inline && this.now() - began < this.inline.maxGroupMs && this.syncMs < this.inline.maxSyncMs;
    this.sync(small);
  }

  private sync(inline = false): void {
    if (this.syncing || this.durableGen === this.committedGen) return;
    this.syncing = true;
    const target = this.committedGen;
    let fd: number;
    try {
      fd = this.walDescriptor();
    } catch (error) {
      this.synced(target, error as Error);
      return;
    }
    const began = this.now();
    if (inline) {
      let failure: Error | undefined;
      try {
        this.fsyncInline(fd);
      } catch (error) {
        failure = error as Error;
      }
      this.synced(target, failure, this.now() - began);
      return;
    }
    this.fsync(fd, (error) => this.synced(target, error ?? undefined, this.now() - began));
  }

  private synced(target: number, error: Error | undefined, tookMs?: number): void {
    this.syncing = false;
    if (tookMs !== undefined) this.syncMs += SYNC_AVERAGE_WEIGHT * (tookMs - this.syncMs);
    this.durableGen = target;
    if (error) console.error('fsync of the store\'s WAL failed; waiting writes are answered with an error', error);
    while (this.waiters.length > 0 && this.waiters[0]!.gen <= target) {
      const waiter = this.waiters.shift()!;
      if (error) waiter.fail(new DurabilityFailed(error));
      else waiter.done();
    }
    // Nothing is being committed or synced right now: the moment to start a checkpoint.
    this.checkpoint();
    this.sync();
    // What queued during the sync is a group already: it does not wait for the window.
    this.schedule(true);
  }

  private checkpoint(now = false): void {
    const checkpointer = this.options.checkpointer;
    if (!checkpointer || this.closing || this.checkpointing || (!now && this.now() - this.lastCheckpointAt < CHECKPOINT_INTERVAL_MS)) return;
    if (checkpointer.failed) {
      if (this.lastCheckpointAt !== Number.POSITIVE_INFINITY) {
        console.error('the WAL checkpoint worker failed; the store checkpoints on its own connection again');
        this.db.pragma('wal_autocheckpoint = 1000');
        this.lastCheckpointAt = Number.POSITIVE_INFINITY;
      }
      return;
    }
    this.checkpointing = true;
    const hold = this.holdNextCheckpoint;
    const run = checkpointer.checkpoint().then((result) => {
      this.holdNextCheckpoint = !hold && result.log >= HOLD_AFTER_FRAMES;
    }, (error: unknown) => {
      this.holdNextCheckpoint = false;
      if (!checkpointer.failed) console.error('a WAL checkpoint failed; the next one retries', error);
    }).finally(() => {
      this.checkpointing = false;
      this.running = undefined;
      this.lastCheckpointAt = this.now();
      if (this.holdNextCheckpoint) this.checkpoint(true);
    });
    this.running = run;
    if (hold) {
      this.holding = run.finally(() => {
        this.holding = undefined;
        this.schedule(true);
      });
    }
  }

  /** The WAL exists once something was committed; its directory entry is synced once, too. */
  private walDescriptor(): number {
    if (this.walFd !== undefined) return this.walFd;
    const file = this.options.walFile!;
    this.walFd = openSync(file, 'r+');
    const dir = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return this.walFd;
  }
}
