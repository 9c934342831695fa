import type { RxCollection } from 'rxdb';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import { concatMap, merge, NEVER, type Observable } from 'rxjs';
import type { Checkpoint } from '../../shared/protocol/index.ts';
import type { PullStreamItem } from './change-stream.ts';
import type { SyncTransport } from './transport.ts';
import { enqueueRows, type OutboxDb } from '../../sw/queue/outbox-db.ts';
import { rebaseOnQueue } from './queue-rebase.ts';
import type { ScopeCheck } from './scope-check.ts';
import { protectRows, writerOf, type QueueProtection } from './queue-seal.ts';

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
  onError?: (error: unknown) => void;
  /**
   * Hand pushes to the service worker's durable outbound queue instead of sending them: the push
   * is acknowledged once queued, and the service worker delivers it (conflicts are merged on the
   * server with the shared merge function; the result comes back through pull).
   */
  outbox?: QueueOptions;
  /** Removes documents that left the caller's slice (scope-check.ts); needs `live`. */
  scope?: ScopeCheck;
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
  const outbox = options.outbox;
  const scope = options.scope;
  const incoming$ = scope ? merge(options.stream$ ?? NEVER, scope.removals$) : options.stream$;
  // In order (concatMap): a later change of a document must not overtake an earlier one.
  const stream$ = incoming$?.pipe(concatMap(async (item) => {
    if (item === 'RESYNC') return item;
    scope?.saw(item.checkpoint as Checkpoint);
    return outbox ? { ...item, documents: await rebaseOnQueue(outbox.db, options.name, item.documents, outbox.protection, outbox.userId) } : item;
  }));
  return replicateRxCollection<any, Checkpoint>({
    collection: options.collection,
    replicationIdentifier: options.replicationIdentifier,
    live: options.live,
    retryTime: options.retryTimeMs,
    waitForLeadership: true,
    pull: {
      batchSize: options.pullBatchSize,
      handler: async (checkpoint, batchSize) => {
        const page = await report(() => options.transport.pull<any>(options.name, options.schemaVersion, checkpoint, batchSize));
        scope?.saw(page.checkpoint);
        return (outbox ? { ...page, documents: await rebaseOnQueue(outbox.db, options.name, page.documents, outbox.protection, outbox.userId) } : page) as never;
      },
      ...(stream$ ? { stream$: stream$ as never } : {}),
    },
    push: {
      batchSize: options.pushBatchSize,
      handler: (rows) => {
        if (outbox) {
          return (async () => {
            const queued = await protectRows(options.name, rows as never, outbox.protection);
            await enqueueRows(outbox.db, options.name, options.schemaVersion, queued, Date.now(), writerOf(outbox.userId, outbox.protection, options.name));
            outbox.onQueued?.();
            return [];
          })() as never;
        }
        return report(() => options.transport.push<any>(options.name, options.schemaVersion, rows as never)) as never;
      },
    },
  });
}
