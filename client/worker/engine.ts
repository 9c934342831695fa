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
import { addRxPlugin, isRxDatabaseFirstTimeInstantiated, type RxCollection, type RxDatabase } from 'rxdb';
import { RxDBLeaderElectionPlugin } from 'rxdb/plugins/leader-election';
import { BehaviorSubject, type Subscription } from 'rxjs';
import type { CollectionName } from '../../shared/schemas/index.ts';
import { createFieldsyncDatabase } from '../sync/database.ts';
import { heldFromServer } from '../sync/first-sync-import.ts';
import { QueueKey, type QueueProtection } from '../sync/queue-seal.ts';
import { DocumentWriter } from '../sync/writes.ts';
import {
  channelName, REJECTION_CHANNEL, type ChannelMessage, type CollectionProgress, type DocView,
  type AttachmentBytes, type CapturedAttachment, type HostCallbacks, type JsonDoc, type Op, type OpenOptions, type QuerySpec, type Rejection,
  type SyncSnapshot, type Unsubscribe, type WorkerApi,
} from './api.ts';
import { WorkerAttachments } from './attachments.ts';
import { Badges } from './badges.ts';
import { metaGet } from './meta-store.ts';
import { OutboxWatch } from './outbox-view.ts';
import { Replicator } from './replicator.ts';
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
  /** How queued copies of patient data are kept: sealed with the transport key when the page gave one. */
  private protection: QueueProtection = { kind: 'direct' };
  private db!: RxDatabase;
  private writes!: WorkerWrites;
  /** This tab's worker was elected: it replicates (replicator.ts). */
  private leading = false;
  private replicator!: Replicator;
  private channel: BroadcastChannel | undefined;
  private rejectionChannel: BroadcastChannel | undefined;
  /** The outbound queue as this tab sees it (outbox-view.ts). */
  private outbox!: OutboxWatch;
  /** Per-document badges (badges.ts). */
  private badges!: Badges;
  /** Signatures and photos (attachments.ts). */
  private attachments!: WorkerAttachments;
  private readonly snapshot$ = new BehaviorSubject<SyncSnapshot>(emptySnapshot());
  private readonly subscriptions: Subscription[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** Per collection, how far the first sync got (kept current by the replicator). */
  private progress: Record<string, CollectionProgress> = {};
  private closed = false;
  private publishSoon = () => {};

  async open(options: OpenOptions, host: HostCallbacks): Promise<{ leader: boolean }> {
    this.options = options;
    this.outbox = new OutboxWatch({
      ...(options.userId ? { userId: options.userId } : {}),
      badgeCollections: options.badgeCollections,
      closed: () => this.closed,
      onBadges: () => this.badges.bump(),
      onRead: () => this.updateSnapshot(),
      onLost: () => this.outboxLost(),
    });
    // The queue's database (read before open returns: badges) opens beside RxDB's, not after it.
    void this.outbox.database().catch(() => undefined);
    // The notes of finished first syncs are read while the database opens.
    const [db] = await Promise.all([
      createFieldsyncDatabase({ name: options.dbName, collections: options.collections, multiInstance: true, password: options.password }),
      Promise.all(options.collections.map(async (name) => {
        const progress: CollectionProgress = { received: 0, done: false };
        this.progress[name] = progress;
        progress.done = (await metaGet<boolean>(`initial:${options.dbName}:${name}`).catch(() => undefined)) === true;
      })),
    ]);
    this.db = db;
    // A first sync cut by a reload or a closed app goes on from its checkpoint: what it already
    // stored from the server counts as received, so the progress line never starts again at zero
    // (the import counts only what it stores anew: a page pulled again is not counted twice; the
    // crew's own writes are not received). Also in the collections it completed before: the line
    // shows while any other is unfinished, and said "0 received" of 6,000 GPS points held (and
    // its total left them out). Once every collection is complete the line is gone and nothing is counted.
    // A database this open created holds nothing yet (a new device: the count's full reads skipped).
    if (!Object.values(this.progress).every((p) => p.done) && !await isRxDatabaseFirstTimeInstantiated(this.db).catch(() => false)) {
      await Promise.all(options.collections.map(async (name) => {
        this.progress[name]!.received = await heldFromServer(this.db.collections[name]!).catch(() => 0);
      }));
    }
    this.protection = options.developerSession ? { kind: 'clear' } : { kind: 'direct' };
    if (options.transportKey) {
      // A key that does not import leaves patient data out of the queue (direct), never in it in clear.
      const key = await QueueKey.import(options.transportKey).catch(() => undefined);
      if (key) this.protection = { kind: 'sealed', key };
    }
    this.writes = new WorkerWrites(new DocumentWriter(this.db, options.deviceId, options.userId), (name) => this.collection(name));
    this.publishSoon = throttle(() => this.publish(), 100);
    this.attachments = new WorkerAttachments({
      outbox: () => this.outbox.database(),
      protection: () => this.protection,
      userId: () => this.options.userId,
      serverUrl: () => this.options.serverUrl,
      getToken: () => host.getToken(),
      mutate: (collection, id, ops) => this.writes.mutate(collection, id, ops),
      queued: () => {
        this.outbox.refreshSoon();
        void (async () => host.outboxQueued?.())().catch(() => {});
      },
    });
    this.badges = new Badges(this.outbox, this.tabId, (message) => this.post(message), () => this.updateSnapshot());
    this.replicator = new Replicator({
      db: this.db, options: () => this.options, host, protection: this.protection, outbox: this.outbox, badges: this.badges,
      progress: this.progress, leading: () => this.leading && !this.closed, closed: () => this.closed, changed: () => this.updateSnapshot(),
    });

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
    await this.replicator.start();
    // Followers learn the state from here; a heartbeat tells them the syncing tab is alive.
    this.timers.push(setInterval(() => this.publish(), 5000));
    this.updateSnapshot();
    for (const name of this.options.badgeCollections) this.badges.broadcast(name, true);
  }

  /** A newer version of the queue's database was opened (a new service worker): this tab's code cannot use it. */
  private outboxLost(): void {
    if (this.outbox.mode !== 'service-worker') return;
    // Until the page reloads into the new version, push directly; what is already queued stays for the service worker.
    this.options = { ...this.options, serviceWorkerQueue: false };
    void this.replicator.restart();
  }

  // ---- status and the channel between tabs ---------------------------------------------------

  private updateSnapshot(): void {
    const current = this.snapshot$.value;
    const queue = this.outbox.snapshot();
    if (this.leading) {
      const pending = this.replicator.pendingCounts();
      const totalPending = Object.values(pending).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
      const received = Object.values(this.progress).reduce((a, p) => a + p.received, 0);
      const done = Object.values(this.progress).every((p) => p.done);
      this.snapshot$.next({
        role: 'leader',
        connected: this.replicator.status.connected,
        ...(this.replicator.status.lastSyncedAt !== undefined ? { lastSyncedAt: this.replicator.status.lastSyncedAt } : {}),
        ...(this.replicator.status.lastError !== undefined ? { lastError: this.replicator.status.lastError } : {}),
        updateRequired: this.replicator.status.updateRequired,
        pending,
        totalPending,
        initial: { done, received, collections: structuredClone(this.progress) },
        rejections: this.badges.rejectionList(),
        ...(queue ? { queue } : {}),
      });
      this.publishSoon();
    } else if (current.role === 'starting') {
      const done = Object.values(this.progress).every((p) => p.done);
      const received = Object.values(this.progress).reduce((a, p) => a + p.received, 0);
      this.snapshot$.next({
        ...current, initial: { done, received, collections: structuredClone(this.progress) }, rejections: this.badges.rejectionList(),
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
    this.replicator?.resync();
  }

  async networkChanged(online: boolean): Promise<void> {
    if (online) this.replicator?.resync();
  }

  async reportRejection(rejection: Rejection): Promise<void> {
    this.badges.addRejection(rejection, true);
  }

  async useServiceWorkerQueue(enabled: boolean): Promise<void> {
    if ((this.options.serviceWorkerQueue ?? false) === enabled) return;
    this.options = { ...this.options, serviceWorkerQueue: enabled };
    await this.replicator.restart();
    this.updateSnapshot();
  }

  async sessionRenewed(): Promise<void> {
    // A refused handshake or a server-ended socket is not retried by socket.io: start over with the new token.
    await this.replicator.restart(true);
    this.updateSnapshot();
  }

  async refreshQueue(): Promise<void> {
    await this.outbox.refreshNow();
  }

  attach(collection: CollectionName, docId: string, captured: CapturedAttachment): Promise<JsonDoc> {
    return this.attachments.attach(collection, docId, captured);
  }

  async attachmentBytes(collection: CollectionName, docId: string, sha256: string): Promise<AttachmentBytes> {
    const found = await this.attachments.bytes(collection, docId, sha256);
    return Comlink.transfer(found, [found.bytes.buffer]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subscriptions) sub.unsubscribe();
    for (const timer of this.timers) clearInterval(timer);
    this.channel?.close();
    this.rejectionChannel?.close();
    await this.replicator?.close();
    await this.outbox?.close();
    await this.db?.close();
  }

  private collection(name: CollectionName): RxCollection {
    const collection = this.db.collections[name];
    if (!collection) throw new Error(`${name} is not open in this app`);
    return collection;
  }
}
