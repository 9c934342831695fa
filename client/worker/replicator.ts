/**
 * The elected tab's replication: the sync engine (client/sync/), started when this tab's worker
 * is elected and started again when the push path changes (a service worker took control, or
 * the queue went away) or the session was renewed; what RxDB still holds (pending) and how far
 * the first sync of each collection got.
 */
import type { RxDatabase } from 'rxdb';
import type { Subscription } from 'rxjs';
import type { OutboxDb } from '../queue/index.ts';
import type { QueueProtection } from '../sync/queue-seal.ts';
import { startSync, type SyncEngine, type SyncStatus } from '../sync/sync-engine.ts';
import type { QueueOptions } from '../sync/replication.ts';
import type { CollectionProgress, HostCallbacks, OpenOptions, QueueView } from './api.ts';
import type { Badges } from './badges.ts';
import { metaSet } from './meta-store.ts';
import type { OutboxWatch } from './outbox-view.ts';
import { pendingDocumentIds } from './pending-ids.ts';
import { inspectedFetch } from './refusals.ts';
import { throttle } from './throttle.ts';

export interface ReplicatorContext {
  db: RxDatabase;
  /** The worker's options now (the push path changes with `serviceWorkerQueue`). */
  options: () => OpenOptions;
  host: HostCallbacks;
  /** How queued copies of patient data are kept. */
  protection: QueueProtection;
  outbox: OutboxWatch;
  badges: Badges;
  /** Per collection, the first sync's progress (loaded from the worker's notes at open). */
  progress: Record<string, CollectionProgress>;
  /** This tab's worker is elected and not closed: it may replicate. */
  leading: () => boolean;
  closed: () => boolean;
  /** Something the status shows changed. */
  changed: () => void;
}

export class Replicator {
  status: SyncStatus = { connected: false, updateRequired: false };
  /** Per collection, the documents RxDB has not handed over yet (to the server, or to the queue). */
  private rxPending = new Map<string, Set<string>>();
  private engine: SyncEngine | undefined;
  /** Bumped on every engine start: work scheduled for an older engine is dropped. */
  private generation = 0;
  private subscriptions: Subscription[] = [];
  /** Engine starts and restarts, one at a time. */
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly context: ReplicatorContext) {}

  /** Starts replicating (once elected). */
  start(): Promise<void> {
    return this.serially(() => this.startEngine());
  }

  /**
   * Changes the push path when it should (a service worker took control, or the queue went away)
   * while replication goes on; `force`: starts replication again (a new session: the live
   * stream's socket must sign in again). A restart in the middle of a first sync dropped the
   * pages pulled but not yet stored, and a new tablet pulled its slice twice.
   */
  restart(force = false): Promise<void> {
    return this.serially(async () => {
      const { context } = this;
      if (!context.leading()) return;
      const wanted: QueueView['mode'] = context.options().serviceWorkerQueue ? 'service-worker' : 'direct';
      if (!force && this.engine && context.outbox.mode === wanted) return;
      if (!force && this.engine) {
        const outboxDb = wanted === 'service-worker' ? await context.outbox.database().catch(() => undefined) : undefined;
        if (context.closed() || !this.engine) return;
        this.engine.usePushPath(outboxDb ? this.queueOptions(outboxDb) : undefined);
        context.outbox.mode = outboxDb ? 'service-worker' : 'direct';
        context.changed();
        return;
      }
      await this.stopEngine();
      await this.startEngine();
    });
  }

  /** Pull everything new now. */
  resync(): void {
    this.engine?.resync();
  }

  /** Per collection: documents not yet on the server, whether RxDB or the service worker's queue holds them. */
  pendingCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const name of this.context.options().collections) {
      const rx = this.rxPending.get(name);
      const queued = this.context.outbox.ids.get(name);
      if (!rx && !queued) {
        counts[name] = Number.NaN;
        continue;
      }
      let n = rx?.size ?? 0;
      for (const id of queued ?? []) if (!rx?.has(id)) n++;
      counts[name] = n;
    }
    return counts;
  }

  /** The worker closes: replication ends. */
  async close(): Promise<void> {
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
    await this.engine?.stop().catch(() => {});
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const next = this.work.then(work, work);
    this.work = next.catch(() => {});
    return next;
  }

  /**
   * Starts replication. With a service worker in control, pushes are handed to its durable queue
   * (acknowledged once committed there) and the page is asked to wake the service worker; without
   * one they go straight to the server.
   */
  private async startEngine(): Promise<void> {
    const { context } = this;
    const { db, progress } = context;
    if (!context.leading() || this.engine) return;
    const options = context.options();
    const outboxDb: OutboxDb | undefined = options.serviceWorkerQueue ? await context.outbox.database().catch(() => undefined) : undefined;
    if (context.closed()) return;
    context.outbox.mode = outboxDb ? 'service-worker' : 'direct';
    const generation = ++this.generation;
    const current = () => generation === this.generation && !context.closed();
    // The first sync's progress is for people to read: `received$` fires once per document, and
    // a status snapshot per document (sent to every page of the device, each redrawing its
    // progress line) kept the page's main thread busy through a first sync of thousands of documents
    // (bench:browser: key presses waited up to 0.6 s). A few updates a second say as much.
    const progressChanged = throttle(() => context.changed(), PROGRESS_UPDATE_MS);
    this.engine = startSync(db, {
      serverUrl: options.serverUrl,
      getToken: () => context.host.getToken(),
      collections: options.collections,
      replicationId: options.dbName,
      deviceId: options.deviceId,
      retryTimeMs: options.retryTimeMs ?? 2000,
      pullBatchSize: options.pullBatchSize ?? 1000,
      pushBatchSize: options.pushBatchSize ?? 200,
      onReceived: (name, count) => {
        const collection = progress[name];
        if (!collection || count === 0) return;
        collection.received += count;
        if (!collection.done) progressChanged();
      },
      fetch: (input, init) => inspectedFetch(input, init, {
        refused: (rejection) => context.badges.addRejection(rejection, true),
        authFailed: (message, token) => context.host.authFailed(message, token),
      }),
      // The service worker's outbound queue (sw/queue/): see SW OUTBOUND QUEUE in sw/service-worker.ts.
      ...(outboxDb ? { outbox: this.queueOptions(outboxDb) } : {}),
    });
    const engine = this.engine;
    const subscriptions = this.subscriptions;
    subscriptions.push(engine.status$.subscribe((status) => {
      this.status = status;
      context.changed();
    }));
    // These scans are O(documents): during a first sync of thousands of documents they run
    // rarely, and never more than about a fifth of the time.
    const initialDone = () => Object.values(progress).every((p) => p.done);
    let pendingCost = 0;
    const refreshPending = throttle(async () => {
      if (!current()) return;
      const t0 = performance.now();
      const next = new Map<string, Set<string>>();
      for (const [name, replication] of engine.replications) {
        const ids = await pendingDocumentIds(replication);
        if (ids) next.set(name, ids);
      }
      pendingCost = performance.now() - t0;
      if (!current()) return;
      this.rxPending = next;
      context.changed();
    }, () => Math.max(initialDone() ? 250 : 1500, pendingCost * 5));
    for (const [name, replication] of engine.replications) {
      let mastersCost = 0;
      const refreshMasters = throttle(async () => {
        if (!current()) return;
        const t0 = performance.now();
        await context.badges.recompute(name, db.collections[name]!, replication);
        mastersCost = performance.now() - t0;
      }, () => Math.max(progress[name]?.done ? 200 : 1500, mastersCost * 5));
      const changed = () => {
        refreshPending();
        if (context.options().badgeCollections.includes(name)) refreshMasters();
      };
      subscriptions.push(
        db.collections[name]!.$.subscribe(changed),
        replication.sent$.subscribe(changed),
        replication.active$.subscribe(changed),
        replication.received$.subscribe(changed),
        replication.error$.subscribe((error) => {
          progress[name]!.error = plainError(error);
          context.changed();
        }),
      );
      void replication.startPromise.then(() => changed());
      void replication.awaitInitialReplication().then(async () => {
        const collection = progress[name]!;
        collection.done = true;
        delete collection.error;
        await metaSet(`initial:${options.dbName}:${name}`, true).catch(() => {});
        context.changed();
      }).catch(() => {});
    }
    context.changed();
  }

  private async stopEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    this.generation++;
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
    await engine?.stop().catch(() => {});
  }

  private queueOptions(db: OutboxDb): QueueOptions {
    const options = this.context.options();
    return { db, onQueued: () => this.queued(), protection: this.context.protection, ...(options.userId ? { userId: options.userId } : {}) };
  }

  /** The push handler committed rows to the queue: wake the service worker, and show them as waiting at once. */
  private queued(): void {
    void this.context.outbox.refreshNow();
    void (async () => this.context.host.outboxQueued?.())().catch(() => {});
  }
}

/** How often the first sync's progress reaches the pages at most (ms). */
export const PROGRESS_UPDATE_MS = 250;

/** An error from RxDB's replication, in plain words (the sync library's own message when there is one). */
function plainError(error: unknown): string {
  const inner = (error as { parameters?: { errors?: { message?: string }[] } })?.parameters?.errors?.[0]?.message;
  const message = inner ?? (error instanceof Error ? error.message : String(error));
  return /Failed to fetch|NetworkError|ECONNREFUSED/i.test(message) ? 'server unreachable' : message;
}
