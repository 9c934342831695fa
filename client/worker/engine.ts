/**
 * The database worker: RxDB (Dexie) and the sync library off the main thread. Every tab of an
 * app runs one of these on the same IndexedDB database (RxDB multiInstance). RxDB's leader
 * election (Web Locks, available in dedicated workers) picks one worker per database; only that
 * one replicates (pull, push, change stream). The others relay its status over a
 * BroadcastChannel, so every tab shows the same sync state and badges.
 *
 * When a service worker controls the page, pushes are handed to its durable outbound queue
 * (client/queue/, delivered by sw/queue/) instead of being sent from here: RxDB's push is
 * acknowledged once the queue's transaction committed, the page wakes the service worker, and the
 * service worker delivers, also with every app closed. Every tab reads that queue to show what
 * waits there and to keep a document's badge at "saved on device" until it left the queue.
 */
import * as Comlink from 'comlink';
import { addRxPlugin, type RxCollection, type RxDatabase } from 'rxdb';
import { RxDBLeaderElectionPlugin } from 'rxdb/plugins/leader-election';
import { BehaviorSubject, type Subscription } from 'rxjs';
import type { OutboxDb } from '../queue/index.ts';
import type { CollectionName } from '../../shared/schemas/index.ts';
import { createFieldsyncDatabase } from '../sync/database.ts';
import { QueueKey, type QueueProtection } from '../sync/queue-seal.ts';
import { startSync, type SyncEngine, type SyncStatus } from '../sync/sync-engine.ts';
import { DocumentWriter } from '../sync/writes.ts';
import {
  channelName, REJECTION_CHANNEL, type ChannelMessage, type CollectionProgress, type DocView,
  type HostCallbacks, type JsonDoc, type Op, type OpenOptions, type QuerySpec, type QueueView, type Rejection,
  type SyncSnapshot, type Unsubscribe, type WorkerApi,
} from './api.ts';
import { Badges } from './badges.ts';
import { metaGet, metaSet } from './meta-store.ts';
import { OutboxWatch } from './outbox-view.ts';
import { pendingDocumentIds } from './pending-ids.ts';
import { inspectedFetch } from './refusals.ts';
import { throttle } from './throttle.ts';
import { WorkerWrites } from './writes.ts';

addRxPlugin(RxDBLeaderElectionPlugin);

const emptySnapshot = (): SyncSnapshot => ({
  role: 'starting', connected: false, updateRequired: false, pending: {}, totalPending: 0,
  initial: { done: false, received: 0, collections: {} }, rejections: [],
});

export class DatabaseWorker implements WorkerApi {
  private readonly tabId = Math.random().toString(36).slice(2, 10);
  private options!: OpenOptions;
  private host!: HostCallbacks;
  /** How queued copies of patient data are kept: sealed with the transport key when the page gave one. */
  private protection: QueueProtection = { kind: 'direct' };
  private db!: RxDatabase;
  private writes!: WorkerWrites;
  /** This tab's worker was elected: it replicates (through `engine`, restarted when the push path changes). */
  private leading = false;
  private engine: SyncEngine | undefined;
  /** Bumped on every engine start: work scheduled for an older engine is dropped. */
  private generation = 0;
  private engineSubscriptions: Subscription[] = [];
  /** Engine starts and restarts, one at a time. */
  private engineWork: Promise<void> = Promise.resolve();
  private channel: BroadcastChannel | undefined;
  private rejectionChannel: BroadcastChannel | undefined;
  /** The outbound queue as this tab sees it (outbox-view.ts). */
  private outbox!: OutboxWatch;
  /** Per-document badges (badges.ts). */
  private badges!: Badges;
  private readonly snapshot$ = new BehaviorSubject<SyncSnapshot>(emptySnapshot());
  private readonly subscriptions: Subscription[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private syncStatus: SyncStatus = { connected: false, updateRequired: false };
  /** Per collection, the documents RxDB has not handed over yet (to the server, or to the queue). */
  private rxPending = new Map<string, Set<string>>();
  private progress: Record<string, CollectionProgress> = {};
  private closed = false;
  private publishSoon = () => {};

  async open(options: OpenOptions, host: HostCallbacks): Promise<{ leader: boolean }> {
    this.options = options;
    this.host = host;
    for (const name of options.collections) {
      const done = (await metaGet<boolean>(`initial:${options.dbName}:${name}`).catch(() => undefined)) === true;
      this.progress[name] = { received: 0, done };
    }
    this.db = await createFieldsyncDatabase({ name: options.dbName, collections: options.collections, multiInstance: true, password: options.password });
    this.protection = options.developerSession ? { kind: 'clear' } : { kind: 'direct' };
    if (options.transportKey) {
      // A key that does not import leaves patient data out of the queue (direct), never in it in clear.
      const key = await QueueKey.import(options.transportKey).catch(() => undefined);
      if (key) this.protection = { kind: 'sealed', key };
    }
    this.writes = new WorkerWrites(new DocumentWriter(this.db, options.deviceId, options.userId), (name) => this.collection(name));
    this.publishSoon = throttle(() => this.publish(), 100);
    this.outbox = new OutboxWatch({
      ...(options.userId ? { userId: options.userId } : {}),
      badgeCollections: options.badgeCollections,
      closed: () => this.closed,
      onBadges: () => this.badges.bump(),
      onRead: () => this.updateSnapshot(),
      onLost: () => this.outboxLost(),
    });
    this.badges = new Badges(this.outbox, this.tabId, (message) => this.post(message), () => this.updateSnapshot());

    this.channel = new BroadcastChannel(channelName(options.dbName));
    this.channel.onmessage = (event: MessageEvent<ChannelMessage>) => this.onChannelMessage(event.data);
    this.rejectionChannel = new BroadcastChannel(REJECTION_CHANNEL);
    this.rejectionChannel.onmessage = (event: MessageEvent<ChannelMessage>) => this.onChannelMessage(event.data);
    // Every tab reads the queue itself (badges must not say "synced" while a change waits there).
    this.outbox.start();
    await this.outbox.refreshNow();
    this.updateSnapshot();
    this.post({ type: 'hello', from: this.tabId });

    // Only the elected worker replicates; the UI does not wait for the election to show data.
    void this.db.waitForLeadership().then(() => this.becomeLeader()).catch(() => {});
    return { leader: this.db.isLeader() };
  }

  // ---- leader: replication ------------------------------------------------------------------

  private async becomeLeader(): Promise<void> {
    if (this.closed || this.leading) return;
    this.leading = true;
    await this.serially(() => this.startEngine());
    // Followers learn the state from here; a heartbeat tells them the syncing tab is alive.
    this.timers.push(setInterval(() => this.publish(), 5000));
    this.updateSnapshot();
    for (const name of this.options.badgeCollections) this.badges.broadcast(name, true);
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const next = this.engineWork.then(work, work);
    this.engineWork = next.catch(() => {});
    return next;
  }

  /**
   * Starts replication. With a service worker in control, pushes are handed to its durable queue
   * (acknowledged once committed there) and the page is asked to wake the service worker; without
   * one they go straight to the server.
   */
  private async startEngine(): Promise<void> {
    if (this.closed || !this.leading || this.engine) return;
    const { options } = this;
    const outboxDb: OutboxDb | undefined = options.serviceWorkerQueue ? await this.outbox.database().catch(() => undefined) : undefined;
    if (this.closed) return;
    this.outbox.mode = outboxDb ? 'service-worker' : 'direct';
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.closed;
    this.engine = startSync(this.db, {
      serverUrl: options.serverUrl,
      getToken: () => this.host.getToken(),
      collections: options.collections,
      replicationId: options.dbName,
      deviceId: options.deviceId,
      retryTimeMs: options.retryTimeMs ?? 2000,
      pullBatchSize: options.pullBatchSize ?? 1000,
      pushBatchSize: options.pushBatchSize ?? 200,
      fetch: (input, init) => inspectedFetch(input, init, {
        refused: (rejection) => this.badges.addRejection(rejection, true),
        authFailed: (message, token) => this.host.authFailed(message, token),
      }),
      // The service worker's outbound queue (sw/queue/): see SW OUTBOUND QUEUE in sw/service-worker.ts.
      ...(outboxDb ? {
        outbox: { db: outboxDb, onQueued: () => this.queued(), protection: this.protection, ...(options.userId ? { userId: options.userId } : {}) },
      } : {}),
    });
    const engine = this.engine;
    const subscriptions = this.engineSubscriptions;
    subscriptions.push(engine.status$.subscribe((status) => {
      this.syncStatus = status;
      this.updateSnapshot();
    }));
    // These scans are O(documents): during a first sync of thousands of documents they run
    // rarely, and never more than about a fifth of the time.
    const initialDone = () => Object.values(this.progress).every((p) => p.done);
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
      this.updateSnapshot();
    }, () => Math.max(initialDone() ? 250 : 1500, pendingCost * 5));
    for (const [name, replication] of engine.replications) {
      let mastersCost = 0;
      const refreshMasters = throttle(async () => {
        if (!current()) return;
        const t0 = performance.now();
        await this.badges.recompute(name, this.db.collections[name]!, replication);
        mastersCost = performance.now() - t0;
      }, () => Math.max(this.progress[name]?.done ? 200 : 1500, mastersCost * 5));
      const changed = () => {
        refreshPending();
        if (this.options.badgeCollections.includes(name)) refreshMasters();
      };
      subscriptions.push(
        this.db.collections[name]!.$.subscribe(changed),
        replication.sent$.subscribe(changed),
        replication.active$.subscribe(changed),
        replication.received$.subscribe(() => {
          const progress = this.progress[name]!;
          progress.received++;
          if (!progress.done) this.updateSnapshot();
          changed();
        }),
        replication.error$.subscribe((error) => {
          const progress = this.progress[name]!;
          progress.error = plainError(error);
          this.updateSnapshot();
        }),
      );
      void replication.startPromise.then(() => changed());
      void replication.awaitInitialReplication().then(async () => {
        const progress = this.progress[name]!;
        progress.done = true;
        delete progress.error;
        await metaSet(`initial:${options.dbName}:${name}`, true).catch(() => {});
        this.updateSnapshot();
      }).catch(() => {});
    }
    this.updateSnapshot();
  }

  private async stopEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    this.generation++;
    for (const sub of this.engineSubscriptions.splice(0)) sub.unsubscribe();
    await engine?.stop().catch(() => {});
  }

  /** Restarts replication when the push path should change (a service worker took control, or the queue went away). */
  private restartEngine(force = false): Promise<void> {
    return this.serially(async () => {
      if (this.closed || !this.leading) return;
      const wanted: QueueView['mode'] = this.options.serviceWorkerQueue ? 'service-worker' : 'direct';
      if (!force && this.engine && this.outbox.mode === wanted) return;
      await this.stopEngine();
      await this.startEngine();
    });
  }

  /** A newer version of the queue's database was opened (a new service worker): this tab's code cannot use it. */
  private outboxLost(): void {
    if (this.outbox.mode !== 'service-worker') return;
    // Until the page reloads into the new version, push directly; what is already queued stays for the service worker.
    this.options = { ...this.options, serviceWorkerQueue: false };
    void this.restartEngine();
  }

  /** The push handler committed rows to the queue: wake the service worker, and show them as waiting at once. */
  private queued(): void {
    void this.outbox.refreshNow();
    void (async () => this.host.outboxQueued?.())().catch(() => {});
  }

  /** Per collection: documents not yet on the server, whether RxDB or the service worker's queue holds them. */
  private pendingCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const name of this.options.collections) {
      const rx = this.rxPending.get(name);
      const queued = this.outbox.ids.get(name);
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

  // ---- status and the channel between tabs ---------------------------------------------------

  private updateSnapshot(): void {
    const current = this.snapshot$.value;
    const queue = this.outbox.snapshot();
    if (this.leading) {
      const pending = this.pendingCounts();
      const totalPending = Object.values(pending).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
      const received = Object.values(this.progress).reduce((a, p) => a + p.received, 0);
      const done = Object.values(this.progress).every((p) => p.done);
      this.snapshot$.next({
        role: 'leader',
        connected: this.syncStatus.connected,
        ...(this.syncStatus.lastSyncedAt !== undefined ? { lastSyncedAt: this.syncStatus.lastSyncedAt } : {}),
        ...(this.syncStatus.lastError !== undefined ? { lastError: this.syncStatus.lastError } : {}),
        updateRequired: this.syncStatus.updateRequired,
        pending,
        totalPending,
        initial: { done, received, collections: structuredClone(this.progress) },
        rejections: this.badges.rejectionList(),
        ...(queue ? { queue } : {}),
      });
      this.publishSoon();
    } else if (current.role === 'starting') {
      const done = Object.values(this.progress).every((p) => p.done);
      this.snapshot$.next({
        ...current, initial: { done, received: 0, collections: structuredClone(this.progress) }, rejections: this.badges.rejectionList(),
        ...(queue ? { queue } : {}),
      });
    } else {
      this.snapshot$.next({ ...current, rejections: this.badges.rejectionList() });
    }
  }

  private publish(): void {
    if (this.leading) this.post({ type: 'status', from: this.tabId, snapshot: this.snapshot$.value });
  }

  private post(message: ChannelMessage): void {
    if (!this.closed) this.channel?.postMessage(message);
  }

  private onChannelMessage(message: ChannelMessage): void {
    switch (message.type) {
      case 'hello':
        if (this.leading) {
          this.publish();
          for (const name of this.options.badgeCollections) this.badges.broadcast(name, true);
        }
        return;
      case 'status':
        if (this.leading) return;
        this.snapshot$.next({ ...message.snapshot, role: 'follower', heardAt: Date.now() });
        for (const r of message.snapshot.rejections) this.badges.addRejection(r, false);
        if ((message.snapshot.queue?.total ?? 0) !== this.outbox.total) this.outbox.refreshSoon();
        return;
      case 'masters':
        if (this.leading) return;
        this.badges.receive(message);
        return;
      case 'rejected':
        this.badges.addRejection(message.rejection, false);
        return;
      case 'rejection-cleared':
        this.badges.clearRejection(message.collection, message.id);
        return;
    }
  }

  // ---- the API -----------------------------------------------------------------------------

  async watchStatus(callback: (snapshot: SyncSnapshot) => void): Promise<Unsubscribe> {
    const sub = this.snapshot$.subscribe((snapshot) => void callback(snapshot));
    return Comlink.proxy(() => sub.unsubscribe());
  }

  async watchQuery(collection: CollectionName, spec: QuerySpec, callback: (docs: DocView[]) => void): Promise<Unsubscribe> {
    const query = this.collection(collection).find({
      selector: (spec.selector ?? {}) as never,
      ...(spec.sort ? { sort: spec.sort as never } : {}),
      ...(spec.limit ? { limit: spec.limit } : {}),
    });
    const sub = this.badges.watch(collection, query.$, callback);
    return Comlink.proxy(() => sub.unsubscribe());
  }

  // Writes and counts (writes.ts).
  insert(collection: CollectionName, doc: JsonDoc): Promise<JsonDoc> {
    return this.writes.insert(collection, doc);
  }

  bulkInsert(collection: CollectionName, docs: JsonDoc[]): Promise<number> {
    return this.writes.bulkInsert(collection, docs);
  }

  mutate(collection: CollectionName, id: string, ops: Op[]): Promise<JsonDoc> {
    return this.writes.mutate(collection, id, ops);
  }

  upsert(collection: CollectionName, doc: JsonDoc, ops: Op[] = []): Promise<JsonDoc> {
    return this.writes.upsert(collection, doc, ops);
  }

  remove(collection: CollectionName, id: string): Promise<void> {
    return this.writes.remove(collection, id);
  }

  count(collection: CollectionName, selector: JsonDoc = {}): Promise<number> {
    return this.writes.count(collection, selector);
  }

  async resync(): Promise<void> {
    this.engine?.resync();
  }

  async networkChanged(online: boolean): Promise<void> {
    if (online) this.engine?.resync();
  }

  async reportRejection(rejection: Rejection): Promise<void> {
    this.badges.addRejection(rejection, true);
  }

  async useServiceWorkerQueue(enabled: boolean): Promise<void> {
    if ((this.options.serviceWorkerQueue ?? false) === enabled) return;
    this.options = { ...this.options, serviceWorkerQueue: enabled };
    await this.restartEngine();
    this.updateSnapshot();
  }

  async sessionRenewed(): Promise<void> {
    // A refused handshake or a server-ended socket is not retried by socket.io: start over with the new token.
    await this.restartEngine(true);
    this.updateSnapshot();
  }

  async refreshQueue(): Promise<void> {
    await this.outbox.refreshNow();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subscriptions) sub.unsubscribe();
    for (const sub of this.engineSubscriptions.splice(0)) sub.unsubscribe();
    for (const timer of this.timers) clearInterval(timer);
    this.channel?.close();
    this.rejectionChannel?.close();
    await this.engine?.stop().catch(() => {});
    await this.outbox?.close();
    await this.db?.close();
  }

  private collection(name: CollectionName): RxCollection {
    const collection = this.db.collections[name];
    if (!collection) throw new Error(`${name} is not open in this app`);
    return collection;
  }
}

/** An error from RxDB's replication, in plain words (the sync library's own message when there is one). */
function plainError(error: unknown): string {
  const inner = (error as { parameters?: { errors?: { message?: string }[] } })?.parameters?.errors?.[0]?.message;
  const message = inner ?? (error instanceof Error ? error.message : String(error));
  return /Failed to fetch|NetworkError|ECONNREFUSED/i.test(message) ? 'server unreachable' : message;
}
