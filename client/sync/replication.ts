import type { RxCollection } from 'rxdb';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import { concatMap, map, merge, type Observable } from 'rxjs';
import type { Checkpoint } from '../../shared/protocol/index.ts';
import type { PullStreamItem } from './change-stream.ts';
import type { SyncTransport } from './transport.ts';
import type { OutboxDb } from '../queue/index.ts';
import { OwnVersions } from './own-versions.ts';
import { pushToQueue, ReplayedHeads } from './queue-head.ts';
import { rebaseOnQueue } from './queue-rebase.ts';
import type { ScopeCheck } from './scope-check.ts';
import { importFirstSync } from './first-sync-import.ts';
import { writerOf, type QueueProtection } from './queue-seal.ts';

export interface CollectionReplicationOptions {
  collection: RxCollection<any>;
  /** The collection's name on the server, and the schema version the app was built with. */
  name: string;
  schemaVersion: number;
  transport: SyncTransport;
  replicationIdentifier: string;
  live: boolean;
  stream$?: Observable<PullStreamItem>;
  pushBatchSize: number;
  pullBatchSize: number;
  retryTimeMs: number;
  onSuccess?: () => void;
  /**
   * How many documents arrived from the server (each pull page and live change). Counted here, as
   * they are handed to RxDB: its `received$` missed most of a first sync's pages (a pull of 4,000
   * documents in 1,000s reported 1,000), so a progress line built on it stopped at a quarter.
   */
  onReceived?: (count: number) => void;
  onError?: (error: unknown) => void;
  /**
   * Hand pushes to the service worker's durable outbound queue instead of sending them: the push
   * is acknowledged once queued, and the service worker delivers it (conflicts are merged on the
   * server with the shared merge function; the result comes back through pull). A function:
   * asked at each push and pull, so the push path can change while replication runs (a service
   * worker taking control of a new tablet's page in the middle of its first sync).
   */
  outbox?: QueueOptions | (() => QueueOptions | undefined);
  /** Removes documents that left the caller's slice (scope-check.ts); needs `live`. */
  scope?: ScopeCheck;
  /** How this device's revision tags begin (writes.ts deviceRevisionTag): copies of its own versions are recognised after a reload too. */
  deviceTag?: string;
  /**
   * While the replication has no checkpoint (a new device), import the slice in large batches
   * before RxDB's replication starts (first-sync-import.ts); `keepServerStates`: someone may
   * change this collection's documents (access: documentsChangeable), or the scope check may
   * remove them (it needs the server state). Absent: RxDB pulls it.
   */
  firstSyncImport?: { keepServerStates: boolean; pageSize?: number };
}

export interface QueueOptions {
  db: OutboxDb;
  onQueued?: () => void;
  /** How queued copies of patient data are kept (queue-seal.ts); `direct` collections must not get an outbox at all. */
  protection: QueueProtection;
  /** The signed-in user, recorded beside each queued row. */
  userId?: string;
}

/**
 * One collection replicated over the HTTP pull/push endpoints (docs/protocol.md). Failures are
 * reported and rethrown: RxDB keeps the changes and retries, so nothing waits in memory only.
 */
export function replicateCollection(options: CollectionReplicationOptions): RxReplicationState<any, Checkpoint> {
  const report = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      options.onSuccess?.();
      return result;
    } catch (error) {
      options.onError?.(error);
      throw error;
    }
  };
  const outboxOption = options.outbox;
  const outboxNow: () => QueueOptions | undefined = typeof outboxOption === 'function' ? outboxOption : () => outboxOption;
  const scope = options.scope;
  // Copies of this device's own versions coming back are never stored over what it holds (own-versions.ts).
  const own = new OwnVersions(options.deviceTag);
  const replayed = new ReplayedHeads();
  const onReplayed = (id: string, rev: unknown, headRev: unknown, computed: boolean) => {
    replayed.record(id, rev, headRev);
    // A merge computed here: the server, merging the same states, makes the same revision.
    if (computed) own.record(id, rev);
  };
  const fromServer = async <D extends Record<string, unknown>>(documents: D[]): Promise<D[]> => {
    const news = await own.withoutOwnCopies(options.collection, documents);
    const outbox = outboxNow();
    return outbox ? rebaseOnQueue(outbox.db, options.name, news, outbox.protection, outbox.userId, onReplayed) : news;
  };
  const server$ = options.stream$?.pipe(map((item) => ({ item, fromServer: true })));
  const removals$ = scope?.removals$.pipe(map((item) => ({ item, fromServer: false })));
  const incoming$ = server$ && removals$ ? merge(server$, removals$) : (server$ ?? removals$);
  // In order (concatMap): a later change of a document must not overtake an earlier one.
  const stream$ = incoming$?.pipe(concatMap(async ({ item, fromServer: isServer }) => {
    if (item === 'RESYNC') return item;
    scope?.saw(item.checkpoint as Checkpoint);
    // Scope removals are this device's own deletions of what left its slice: stored as they are.
    const outbox = outboxNow();
    if (!isServer) return outbox ? { ...item, documents: await rebaseOnQueue(outbox.db, options.name, item.documents, outbox.protection, outbox.userId) } : item;
    options.onReceived?.(item.documents.length);
    return { ...item, documents: await fromServer(item.documents) };
  }));
  const pull = (checkpoint: Checkpoint | undefined, batchSize: number) =>
    report(() => options.transport.pull<any>(options.name, options.schemaVersion, checkpoint, batchSize));
  const imports = options.firstSyncImport;
  // Read by RxDB when the replication starts: an import sets it first (the push checkpoint it writes itself: first-sync-import.ts).
  const initial: { pull?: Checkpoint } = {};
  const replication = replicateRxCollection<any, Checkpoint>({
    collection: options.collection,
    replicationIdentifier: options.replicationIdentifier,
    live: options.live,
    retryTime: options.retryTimeMs,
    waitForLeadership: true,
    autoStart: !imports,
    pull: {
      get initialCheckpoint() { return initial.pull; },
      batchSize: options.pullBatchSize,
      handler: async (checkpoint, batchSize) => {
        let page = await pull(checkpoint, batchSize);
        scope?.saw(page.checkpoint);
        let documents: any[] = await own.withoutOwnCopies(options.collection, page.documents);
        // RxDB stops reading at a page shorter than the batch: one that only lost copies of the
        // device's own versions is topped up from the following pages.
        while (page.documents.length >= batchSize && documents.length < batchSize) {
          page = await pull(page.checkpoint, batchSize);
          scope?.saw(page.checkpoint);
          if (page.documents.length === 0) break;
          documents = documents.concat(await own.withoutOwnCopies(options.collection, page.documents));
        }
        options.onReceived?.(documents.length);
        const outbox = outboxNow();
        const handedOn = outbox ? await rebaseOnQueue(outbox.db, options.name, documents, outbox.protection, outbox.userId, onReplayed) : documents;
        return { documents: handedOn, checkpoint: page.checkpoint } as never;
      },
      ...(stream$ ? { stream$: stream$ as never } : {}),
    },
    push: {
      batchSize: options.pushBatchSize,
      handler: (rows) => {
        for (const row of rows) own.record(String((row.newDocumentState as Record<string, unknown>)['id']), (row.newDocumentState as Record<string, unknown>)['rev']);
        const outbox = outboxNow();
        if (outbox) {
          return (async () => {
            const conflicts = await pushToQueue({
              db: outbox.db, collection: options.name, schemaVersion: options.schemaVersion, protection: outbox.protection,
              ...(outbox.userId ? { writer: writerOf(outbox.userId, outbox.protection, options.name)! } : {}),
              builtOnHead: (id, rev) => replayed.headOf(id, rev),
            }, rows as never);
            if (conflicts.length < rows.length) outbox.onQueued?.();
            return conflicts;
          })() as never;
        }
        return report(() => options.transport.push<any>(options.name, options.schemaVersion, rows as never)) as never;
      },
    },
  });
  if (imports) {
    void (async () => {
      const db = options.collection.database;
      // Only the tab that replicates imports (as RxDB's start waits for it with waitForLeadership).
      if (db.multiInstance) await db.waitForLeadership();
      try {
        const checkpoints = await importFirstSync({
          collection: options.collection, name: options.name, schemaVersion: options.schemaVersion, transport: options.transport,
          replicationIdentifier: options.replicationIdentifier, keepServerStates: imports.keepServerStates,
          ...(imports.pageSize ? { pageSize: imports.pageSize } : {}),
          stopped: () => replication.isStopped(),
          onError: (error) => options.onError?.(error),
          onStored: (count) => options.onReceived?.(count),
          prepare: async (documents, checkpoint) => {
            options.onSuccess?.();
            scope?.saw(checkpoint);
            const news = await own.withoutOwnCopies(options.collection, documents);
            const outbox = outboxNow();
            return outbox ? rebaseOnQueue(outbox.db, options.name, news, outbox.protection, outbox.userId, onReplayed) : news;
          },
        });
        if (checkpoints.pull) initial.pull = checkpoints.pull;
      } catch (error) {
        // The replication's meta storage did not open: RxDB's replication does it all, as before the import existed.
        options.onError?.(error);
      }
      if (!replication.isStopped()) await replication.start();
    })().catch((error: unknown) => options.onError?.(error));
  }
  return replication;
}
