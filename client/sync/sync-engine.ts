import type { RxDatabase } from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { BehaviorSubject } from 'rxjs';
import { collectionSchemas, type CollectionName } from '../../shared/schemas/index.ts';
import { documentsChangeable } from '../../shared/access/policy.ts';
import { ChangeStream } from './change-stream.ts';
import { countPendingDocuments } from './pending.ts';
import { queueable } from './queue-seal.ts';
import { ScopeCheck } from './scope-check.ts';
import { replicateCollection, type QueueOptions } from './replication.ts';
import { ApiError } from '../../shared/protocol/index.ts';
import { SyncTransport, type TokenSource } from './transport.ts';
import { deviceRevisionTag } from './writes.ts';

const DEFAULT_SCOPE_CHECK_MS = 60_000;

export interface SyncOptions {
  serverUrl: string;
  getToken: TokenSource;
  collections: readonly CollectionName[];
  /** Distinguishes this device's replication checkpoints; one per device and user. */
  replicationId: string;
  /**
   * Rows per push and documents per pull request (default 1000): every request is a round trip,
   * and on a poor link the round trip, not the bytes, is what a large backlog costs.
   */
  pushBatchSize?: number;
  pullBatchSize?: number;
  /** How long to wait after a failed request before trying again. */
  retryTimeMs?: number;
  /** Use the socket.io change stream (default true); without it the app re-syncs on demand. */
  live?: boolean;
  /**
   * How often to ask the server which held documents left this device's slice (default 60 s;
   * 0: only when `checkScope()` is called). Live mode only.
   */
  scopeCheckIntervalMs?: number;
  fetch?: typeof fetch;
  /**
   * Push through the service worker's outbound queue (browsers); absent: push directly over HTTP.
   * Collections that must be sealed and cannot be (no transport key) are pushed directly.
   */
  outbox?: QueueOptions;
  /** The id this device's writes tag their revisions with (DocumentWriter): its own versions coming back are recognised by it. */
  deviceId?: string;
  /**
   * A collection whose replication has no checkpoint yet (a new device) is imported in large
   * batches before RxDB's replication starts (first-sync-import.ts); default true. (It was off for
   * a while: the reload test of test/e2e/first-sync-progress.test.ts timed out beside two busy
   * cores. The device had not hung: its worker finished the first sync before the test's reload
   * took effect, and the test's wait read "done, 0 received" as "not yet". The test now holds the
   * sync in the middle until the reload; false gives RxDB's own pull in pages of `pullBatchSize`.)
   */
  firstSyncImport?: boolean;
  /** Documents per request of that import (default first-sync-import.ts IMPORT_PAGE_SIZE, the server's largest). */
  importPageSize?: number;
  /** Told how many documents of `collection` arrived from the server, per page and per live change (a first sync's progress). */
  onReceived?: (collection: CollectionName, count: number) => void;
}

export interface SyncStatus {
  /** The change stream is connected (the server is reachable right now). */
  connected: boolean;
  /** Server time is not used: this is the device clock when the last request succeeded. */
  lastSyncedAt?: number;
  /** The last error in plain words, cleared by the next success. */
  lastError?: string;
  /** The server says this app is outdated (426); syncing resumes after an update. */
  updateRequired: boolean;
}

export interface SyncEngine {
  readonly replications: ReadonlyMap<CollectionName, RxReplicationState<any, any>>;
  readonly status$: BehaviorSubject<SyncStatus>;
  /** Local changes not yet confirmed by the server, per collection. */
  pending(): Promise<Record<string, number>>;
  /** Resolves when every collection has pushed and pulled everything it knows of. */
  awaitInSync(): Promise<void>;
  /**
   * Pushes go to this service worker queue from now on (undefined: straight to the server), while
   * replication goes on. Stopping and starting it instead, when a service worker took control of a
   * new tablet's page in the middle of its first sync, dropped the pages pulled but not yet stored
   * and pulled them again (bench:browser: a first sync downloading its slice twice).
   */
  usePushPath(outbox: QueueOptions | undefined): void;
  /** Re-reads every collection from its checkpoint (e.g. when the app regains focus). */
  resync(): void;
  /** Removes local documents the caller may no longer read (also runs on its own every `scopeCheckIntervalMs`). */
  checkScope(): Promise<number>;
  stop(): Promise<void>;
}

export function startSync(db: RxDatabase, options: SyncOptions): SyncEngine {
  const transport = new SyncTransport({ serverUrl: options.serverUrl, getToken: options.getToken, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const status$ = new BehaviorSubject<SyncStatus>({ connected: false, updateRequired: false });
  const update = (patch: Partial<SyncStatus>) => status$.next({ ...status$.value, ...patch });
  const versions = Object.fromEntries(options.collections.map((c) => [c, collectionSchemas[c].version]));
  const live = options.live ?? true;
  const stream = live
    ? new ChangeStream({
      serverUrl: options.serverUrl,
      getToken: options.getToken,
      collections: versions,
      onStatus: (connected, error) => update({ connected, ...(error ? { lastError: `live updates unavailable: ${error}` } : {}) }),
    })
    : undefined;

  const succeeded = () => update({ lastSyncedAt: Date.now(), lastError: undefined, updateRequired: false });
  const failed = (error: unknown) => {
    if (error instanceof ApiError) update({ lastError: error.message, updateRequired: error.status === 426 });
    else update({ lastError: `server unreachable: ${error instanceof Error ? error.message : String(error)}` });
  };

  let outbox = options.outbox;
  const replications = new Map<CollectionName, RxReplicationState<any, any>>();
  const scopeChecks = new Map<CollectionName, ScopeCheck>();
  for (const name of options.collections) {
    const collection = db.collections[name];
    if (!collection) throw new Error(`collection ${name} is not open in database ${db.name}`);
    // GPS points are not patient data and only ever added: not worth asking about by the thousand.
    const scopeChecked = name !== 'gps_points';
    const scope = live && scopeChecked
      ? new ScopeCheck({ collection, name, schemaVersion: collectionSchemas[name].version, transport, get outbox() { return outbox?.db; } })
      : undefined;
    if (scope) scopeChecks.set(name, scope);
    const replication = replicateCollection({
      collection,
      name,
      ...(scope ? { scope } : {}),
      schemaVersion: collectionSchemas[name].version,
      transport,
      replicationIdentifier: `fieldsync-${options.replicationId}-${name}`,
      live,
      ...(stream ? { stream$: stream.stream(name).asObservable() } : {}),
      pushBatchSize: options.pushBatchSize ?? 1000,
      pullBatchSize: options.pullBatchSize ?? 1000,
      retryTimeMs: options.retryTimeMs ?? 5000,
      onSuccess: succeeded,
      ...(options.onReceived ? { onReceived: (count: number) => options.onReceived!(name, count) } : {}),
      onError: failed,
      // Collections that must be sealed and cannot be are pushed directly, whatever the path.
      outbox: () => (outbox && queueable(name, outbox.protection) ? outbox : undefined),
      ...(options.deviceId ? { deviceTag: deviceRevisionTag(options.deviceId) } : {}),
      // Server states kept also where the scope check runs (now or in a later live session): it
      // removes only documents whose kept server state is their own revision, so an imported
      // status event without one would stay on the device after leaving its slice.
      ...(options.firstSyncImport ?? true ? { firstSyncImport: { keepServerStates: documentsChangeable(name) || scopeChecked, ...(options.importPageSize ? { pageSize: options.importPageSize } : {}) } } : {}),
    });
    replications.set(name, replication);
  }

  const checkScope = async (): Promise<number> => {
    let removed = 0;
    for (const [name, scope] of scopeChecks) removed += await scope.run(replications.get(name)!);
    return removed;
  };
  const scopeInterval = options.scopeCheckIntervalMs ?? DEFAULT_SCOPE_CHECK_MS;
  const scopeTimer = scopeChecks.size > 0 && scopeInterval > 0
    ? setInterval(() => void checkScope().catch(() => { /* offline: the next round asks again */ }), scopeInterval)
    : undefined;
  // Node (tests, benches): the check alone must not keep a process alive.
  (scopeTimer as { unref?: () => void } | undefined)?.unref?.();

  return {
    replications,
    status$,
    checkScope,
    async pending() {
      const counts: Record<string, number> = {};
      for (const [name, replication] of replications) counts[name] = await countPendingDocuments(replication);
      return counts;
    },
    async awaitInSync() {
      await Promise.all([...replications.values()].map((r) => r.awaitInSync()));
    },
    usePushPath(next) {
      outbox = next;
    },
    resync() {
      for (const replication of replications.values()) replication.reSync();
    },
    async stop() {
      clearInterval(scopeTimer);
      stream?.close();
      await Promise.all([...replications.values()].map((r) => r.cancel()));
      status$.complete();
    },
  };
}
