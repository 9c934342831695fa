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
import { addRxPlugin, getAssumedMasterState, type RxCollection, type RxDatabase } from 'rxdb';
import { RxDBLeaderElectionPlugin } from 'rxdb/plugins/leader-election';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { BehaviorSubject, combineLatest, type Subscription } from 'rxjs';
import { OutboxConnection, STATUS_CHANNEL, type OutboxDb } from '../queue/index.ts';
import { bearerToken, ErrorCode, HEADERS, matchPath, REJECTIONS_HEADER, SYNC, type RejectionNotice } from '../../shared/protocol/index.ts';
import { openConflicts } from '../../shared/merge/conflicts.ts';
import type { ErrorBody, PushRow } from '../../shared/protocol/index.ts';
import type { CollectionName } from '../../shared/schemas/index.ts';
import { createFieldsyncDatabase } from '../sync/database.ts';
import { QueueKey, type QueueProtection } from '../sync/queue-seal.ts';
import { startSync, type SyncEngine, type SyncStatus } from '../sync/sync-engine.ts';
import { DocumentWriter } from '../sync/writes.ts';
import {
  channelName, REJECTION_CHANNEL, type ChannelMessage, type CollectionProgress, type DocBadge, type DocView,
  type HostCallbacks, type JsonDoc, type Op, type OpenOptions, type QuerySpec, type QueuedRejection, type QueueView, type Rejection,
  type SyncSnapshot, type Unsubscribe, type WorkerApi,
} from './api.ts';
import { metaGet, metaSet } from './meta-store.ts';
import { applyOps } from './ops.ts';
import { readOutbox, type OutboxSnapshot } from './outbox-view.ts';
import { pendingDocumentIds } from './pending-ids.ts';
import { refusedWrite } from './write-errors.ts';

addRxPlugin(RxDBLeaderElectionPlugin);

/** Document refusals a retry cannot fix (docs/protocol.md §11) and access-control refusals. */
const REFUSAL_CODES: ReadonlySet<string> = new Set<ErrorCode>([ErrorCode.INVALID_DOCUMENT, ErrorCode.TENANT_MISMATCH, ErrorCode.FOREIGN_DOCUMENT, ErrorCode.FORBIDDEN, ErrorCode.ACCESS_DENIED]);

/** Runs `fn` at most once per `ms` (a number, or computed each time), never twice at once. */
function throttle(fn: () => Promise<void> | void, ms: number | (() => number)): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  const run = async () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } catch {
      // a failed refresh is retried on the next trigger
    } finally {
      running = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };
  const schedule = () => {
    timer ??= setTimeout(run, typeof ms === 'number' ? ms : ms());
  };
  return schedule;
}

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
  private writer!: DocumentWriter;
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
  /** The service worker's queue announces every delivery run here (sw/queue/sw-runtime.ts). */
  private outboxChannel: BroadcastChannel | undefined;
  private readonly outbox = new OutboxConnection(() => this.outboxLost());
  private queueMode: QueueView['mode'] = 'direct';
  private outboxIds = new Map<string, Set<string>>();
  private outboxRejected = new Map<string, QueuedRejection>();
  private queueView: OutboxSnapshot['view'] | undefined;
  private outboxBadgeKey = '';
  private outboxRefresh: Promise<void> | undefined;
  private outboxAgain = false;
  private mastersInbox: Promise<void> = Promise.resolve();
  private readonly snapshot$ = new BehaviorSubject<SyncSnapshot>(emptySnapshot());
  /** Per badge collection: document id → the revision the server is known to hold (null: none). */
  private readonly masters = new Map<string, Map<string, string | null>>();
  private readonly mastersKnown = new Set<string>();
  private readonly rejections = new Map<string, Rejection>();
  private readonly badgeVersion$ = new BehaviorSubject(0);
  private readonly subscriptions: Subscription[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private syncStatus: SyncStatus = { connected: false, updateRequired: false };
  /** Per collection, the documents RxDB has not handed over yet (to the server, or to the queue). */
  private rxPending = new Map<string, Set<string>>();
  private progress: Record<string, CollectionProgress> = {};
  private closed = false;
  private publishSoon = () => {};
  private refreshOutboxSoon = () => {};

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
    this.writer = new DocumentWriter(this.db, options.deviceId, options.userId);
    this.publishSoon = throttle(() => this.publish(), 100);
    this.refreshOutboxSoon = throttle(() => this.refreshOutboxNow(), 150);

    this.channel = new BroadcastChannel(channelName(options.dbName));
    this.channel.onmessage = (event: MessageEvent<ChannelMessage>) => this.onChannelMessage(event.data);
    this.rejectionChannel = new BroadcastChannel(REJECTION_CHANNEL);
    this.rejectionChannel.onmessage = (event: MessageEvent<ChannelMessage>) => this.onChannelMessage(event.data);
    // Every tab reads the queue itself (badges must not say "synced" while a change waits there).
    this.outboxChannel = new BroadcastChannel(STATUS_CHANNEL);
    this.outboxChannel.onmessage = () => this.refreshOutboxSoon();
    this.timers.push(setInterval(() => this.refreshOutboxSoon(), 2000));
    await this.refreshOutboxNow();
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
    for (const name of this.options.badgeCollections) this.broadcastMasters(name, true);
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
    const outboxDb: OutboxDb | undefined = options.serviceWorkerQueue ? await this.outbox.get().catch(() => undefined) : undefined;
    if (this.closed) return;
    this.queueMode = outboxDb ? 'service-worker' : 'direct';
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
      fetch: (input, init) => this.inspectedFetch(input, init),
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
        await this.recomputeMasters(name, replication);
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
      if (!force && this.engine && this.queueMode === wanted) return;
      await this.stopEngine();
      await this.startEngine();
    });
  }

  /** A newer version of the queue's database was opened (a new service worker): this tab's code cannot use it. */
  private outboxLost(): void {
    if (this.queueMode !== 'service-worker') return;
    // Until the page reloads into the new version, push directly; what is already queued stays for the service worker.
    this.options = { ...this.options, serviceWorkerQueue: false };
    void this.restartEngine();
  }

  /** The push handler committed rows to the queue: wake the service worker, and show them as waiting at once. */
  private queued(): void {
    void this.refreshOutboxNow();
    void (async () => this.host.outboxQueued?.())().catch(() => {});
  }

  // ---- the service worker's outbound queue ----------------------------------------------------

  /** Reads the queue now; concurrent calls share one read and trigger one more after it. */
  private refreshOutboxNow(): Promise<void> {
    if (this.outboxRefresh) {
      this.outboxAgain = true;
      return this.outboxRefresh;
    }
    this.outboxRefresh = (async () => {
      try {
        do {
          this.outboxAgain = false;
          await this.applyOutbox();
        } while (this.outboxAgain && !this.closed);
      } finally {
        this.outboxRefresh = undefined;
      }
    })();
    return this.outboxRefresh;
  }

  private async applyOutbox(): Promise<void> {
    if (this.closed) return;
    let snapshot: OutboxSnapshot;
    try {
      snapshot = await readOutbox(await this.outbox.get(), this.options.userId);
    } catch {
      return; // no IndexedDB here, or the queue is being migrated: try again on the next trigger
    }
    this.outboxIds = snapshot.ids;
    this.outboxRejected = snapshot.rejectedByDoc;
    this.queueView = snapshot.view;
    const key = this.options.badgeCollections
      .map((name) => `${name}:${[...(snapshot.ids.get(name) ?? [])].sort().join(',')}`)
      .concat([...snapshot.rejectedByDoc].map(([k, r]) => `${k}@${r.rev ?? ''}`))
      .join('|');
    if (key !== this.outboxBadgeKey) {
      this.outboxBadgeKey = key;
      this.badgeVersion$.next(this.badgeVersion$.value + 1);
    }
    this.updateSnapshot();
  }

  private queueSnapshot(): QueueView | undefined {
    return this.queueView ? { mode: this.queueMode, ...this.queueView } : undefined;
  }

  /** Per collection: documents not yet on the server, whether RxDB or the service worker's queue holds them. */
  private pendingCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const name of this.options.collections) {
      const rx = this.rxPending.get(name);
      const queued = this.outboxIds.get(name);
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

  /** The server's known revision of every document of `name`, from RxDB's replication meta. */
  private async recomputeMasters(name: string, replication: RxReplicationState<any, any>): Promise<void> {
    const state = replication.internalReplicationState;
    if (!state) return;
    // A push just handed to the queue makes RxDB assume the server has it: the queue's ids must be
    // known first, or the badge would say "synced" for a moment.
    await this.outboxRefresh?.catch(() => {});
    const docs = await this.db.collections[name]!.find().exec();
    const ids = docs.map((d) => d.primary as string);
    const assumed = ids.length > 0 ? await getAssumedMasterState(state as never, ids) : {};
    const next = new Map<string, string | null>();
    for (const id of ids) {
      const master = assumed[id]?.docData as { rev?: string; _deleted?: boolean } | undefined;
      next.set(id, master && !master._deleted ? (master.rev ?? null) : null);
    }
    const previous = this.masters.get(name);
    const entries: [string, string | null][] = [];
    for (const [id, rev] of next) if (previous?.get(id) !== rev) entries.push([id, rev]);
    const firstTime = !this.mastersKnown.has(name);
    this.masters.set(name, next);
    this.mastersKnown.add(name);
    if (entries.length > 0 || firstTime) {
      this.badgeVersion$.next(this.badgeVersion$.value + 1);
      this.post({ type: 'masters', from: this.tabId, collection: name, full: firstTime, entries: firstTime ? [...next] : entries });
    }
  }

  private broadcastMasters(name: string, full: boolean): void {
    const map = this.masters.get(name);
    if (!map || !this.mastersKnown.has(name)) return;
    this.post({ type: 'masters', from: this.tabId, collection: name, full, entries: [...map] });
  }

  /**
   * Sees every sync request: a 401 goes to the session; refused documents get their reason, from
   * the access-control rejection channel (header `x-fieldsync-rejections` on push answers, 403
   * details; shared/access/rejections.ts) or from a refused push body (INVALID_DOCUMENT, …).
   */
  private async inspectedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const push = matchPath(SYNC.push, url);
    const rowsOf = (): PushRow<JsonDoc>[] => {
      try {
        return typeof init?.body === 'string' ? (JSON.parse(init.body) as PushRow<JsonDoc>[]) : [];
      } catch {
        return [];
      }
    };
    const notices = response.headers.get(REJECTIONS_HEADER);
    if (push && notices) {
      try {
        const rows = rowsOf();
        for (const notice of JSON.parse(notices) as RejectionNotice[]) {
          const row = rows.find((r) => r.newDocumentState['id'] === notice.id);
          this.addRejection({
            collection: push.collection, id: notice.id, code: notice.code, reason: notice.reason, at: Date.now(),
            ...(row ? { rev: String(row.newDocumentState['rev']) } : {}),
          }, true);
        }
      } catch {
        // a malformed header is ignored; the durable list has the same reasons
      }
    }
    if (response.ok) return response;
    let body: ErrorBody | undefined;
    try {
      body = (await response.clone().json()) as ErrorBody;
    } catch {
      body = undefined;
    }
    if (response.status === 401) {
      // The token the request carried: a 401 for a token the page has since replaced is old news.
      const auth = new Headers(init?.headers).get(HEADERS.authorization);
      this.host.authFailed(body?.error.message ?? 'Your sign-in has expired.', bearerToken(auth));
    }
    if (push && body && REFUSAL_CODES.has(body.error.code)) {
      const collection = push.collection;
      const rows = rowsOf();
      const named = new Set((body.error.details ?? []).map((d) => d.id ?? (d.index !== undefined ? rows[d.index]?.newDocumentState['id'] : undefined)).filter(Boolean) as string[]);
      const refused = named.size > 0 ? rows.filter((r) => named.has(String(r.newDocumentState['id']))) : rows;
      for (const row of refused) {
        const id = String(row.newDocumentState['id']);
        const detail = body.error.details?.find((d) => d.id === id);
        this.addRejection({
          collection, id, code: body.error.code, at: Date.now(), rev: String(row.newDocumentState['rev']),
          reason: detail ? detail.message : body.error.message,
        }, true);
      }
    }
    return response;
  }

  // ---- status and the channel between tabs ---------------------------------------------------

  private updateSnapshot(): void {
    const current = this.snapshot$.value;
    const queue = this.queueSnapshot();
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
        rejections: [...this.rejections.values()],
        ...(queue ? { queue } : {}),
      });
      this.publishSoon();
    } else if (current.role === 'starting') {
      const done = Object.values(this.progress).every((p) => p.done);
      this.snapshot$.next({
        ...current, initial: { done, received: 0, collections: structuredClone(this.progress) }, rejections: [...this.rejections.values()],
        ...(queue ? { queue } : {}),
      });
    } else {
      this.snapshot$.next({ ...current, rejections: [...this.rejections.values()] });
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
          for (const name of this.options.badgeCollections) this.broadcastMasters(name, true);
        }
        return;
      case 'status':
        if (this.leading) return;
        this.snapshot$.next({ ...message.snapshot, role: 'follower', heardAt: Date.now() });
        for (const r of message.snapshot.rejections) this.addRejection(r, false);
        if ((message.snapshot.queue?.total ?? 0) !== (this.queueView?.total ?? 0)) this.refreshOutboxSoon();
        return;
      case 'masters': {
        if (this.leading) return;
        // The syncing tab queued the change before it announced the new revision: read the queue
        // first, so this tab's badge does not say "synced" for a document that still waits there.
        // (Chained, so announcements apply in the order they came.)
        this.mastersInbox = this.mastersInbox.then(() => this.refreshOutboxNow().catch(() => {})).then(() => {
          const map = message.full ? new Map<string, string | null>() : (this.masters.get(message.collection) ?? new Map<string, string | null>());
          for (const [id, rev] of message.entries) map.set(id, rev);
          this.masters.set(message.collection, map);
          if (message.full) this.mastersKnown.add(message.collection);
          this.badgeVersion$.next(this.badgeVersion$.value + 1);
        });
        return;
      }
      case 'rejected':
        this.addRejection(message.rejection, false);
        return;
      case 'rejection-cleared':
        if (this.rejections.delete(`${message.collection}|${message.id}`)) {
          this.badgeVersion$.next(this.badgeVersion$.value + 1);
          this.updateSnapshot();
        }
        return;
    }
  }

  private addRejection(rejection: Rejection, announce: boolean): void {
    const key = `${rejection.collection}|${rejection.id}`;
    const known = this.rejections.get(key);
    if (known && known.rev === rejection.rev && known.reason === rejection.reason) return;
    this.rejections.set(key, rejection);
    this.badgeVersion$.next(this.badgeVersion$.value + 1);
    this.updateSnapshot();
    if (announce) this.post({ type: 'rejected', rejection });
  }

  /**
   * "Saved on device" while the service worker's queue or RxDB still holds the document; "refused"
   * while the queue set this very revision aside; "synced" only when the server holds this revision.
   */
  private badgeOf(collection: string, doc: JsonDoc): DocBadge {
    const rev = String(doc['rev'] ?? '');
    const id = String(doc['id']);
    if (this.outboxIds.get(collection)?.has(id)) return { state: 'pending' };
    const refused = this.outboxRejected.get(`${collection}|${id}`);
    if (refused && refused.rev === rev) return { state: 'rejected', reason: refused.reason, code: refused.code };
    const rejection = this.rejections.get(`${collection}|${String(doc['id'])}`);
    const known = this.mastersKnown.has(collection);
    const master = this.masters.get(collection)?.get(String(doc['id']));
    if (known && master === rev) {
      // Fields still waiting for a person's choice (resolved conflicts stay in the history).
      const conflicts = new Set(openConflicts(doc).map((c) => c.path)).size;
      // A merge in which no value lost (two people edited different fields) is not a conflict to them.
      if (conflicts > 0) return { state: 'conflict', conflicts };
      return { state: 'synced' };
    }
    if (rejection && (!rejection.rev || rejection.rev === rev)) return { state: 'rejected', reason: rejection.reason, code: rejection.code };
    if (!known) return { state: 'unknown' };
    return { state: 'pending' };
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
    const sub = combineLatest([query.$, this.badgeVersion$]).subscribe(([docs]) => {
      const views = docs.map((d) => {
        const doc = d.toJSON() as JsonDoc;
        return { doc, badge: this.badgeOf(collection, doc) };
      });
      void callback(views);
    });
    return Comlink.proxy(() => sub.unsubscribe());
  }

  // Refused writes reach the page as a `WriteRefusedError` (write-errors.ts): the app says why, where the person acted.
  async insert(collection: CollectionName, doc: JsonDoc): Promise<JsonDoc> {
    try {
      return (await this.writer.insert(collection, doc as never)) as JsonDoc;
    } catch (error) {
      throw refusedWrite(error, collection, String(doc['id']));
    }
  }

  async bulkInsert(collection: CollectionName, docs: JsonDoc[]): Promise<number> {
    if (docs.length === 0) return 0;
    try {
      await this.writer.bulkInsert(collection, docs as never);
    } catch (error) {
      throw refusedWrite(error, collection, undefined);
    }
    return docs.length;
  }

  async mutate(collection: CollectionName, id: string, ops: Op[]): Promise<JsonDoc> {
    try {
      return (await this.writer.update(collection, id, (current) => applyOps(current as JsonDoc, ops) as never)) as JsonDoc;
    } catch (error) {
      throw refusedWrite(error, collection, id);
    }
  }

  async upsert(collection: CollectionName, doc: JsonDoc, ops: Op[] = []): Promise<JsonDoc> {
    const existing = await this.collection(collection).findOne(String(doc['id'])).exec();
    if (!existing) {
      try {
        return await this.insert(collection, applyOps(doc, ops));
      } catch (error) {
        // Another tab (or the server's stub arriving) won the race: edit that one instead.
        if (!(await this.collection(collection).findOne(String(doc['id'])).exec())) throw error;
      }
    }
    return ops.length > 0 ? this.mutate(collection, String(doc['id']), ops) : (existing?.toJSON() as JsonDoc);
  }

  async remove(collection: CollectionName, id: string): Promise<void> {
    await this.writer.remove(collection, id);
  }

  async count(collection: CollectionName, selector: JsonDoc = {}): Promise<number> {
    return this.collection(collection).count({ selector: selector as never }).exec();
  }

  async resync(): Promise<void> {
    this.engine?.resync();
  }

  async networkChanged(online: boolean): Promise<void> {
    if (online) this.engine?.resync();
  }

  async reportRejection(rejection: Rejection): Promise<void> {
    this.addRejection(rejection, true);
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
    await this.refreshOutboxNow();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subscriptions) sub.unsubscribe();
    for (const sub of this.engineSubscriptions.splice(0)) sub.unsubscribe();
    for (const timer of this.timers) clearInterval(timer);
    this.channel?.close();
    this.rejectionChannel?.close();
    this.outboxChannel?.close();
    await this.engine?.stop().catch(() => {});
    await this.outbox.close();
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
