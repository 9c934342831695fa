import type { RxCollection } from 'rxdb';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import type { Observable } from 'rxjs';
import type { Checkpoint } from '../../shared/protocol/index.ts';
import type { PullStreamItem } from './change-stream.ts';
import type { SyncTransport } from './transport.ts';
import { enqueueRows, type OutboxDb } from '../../sw/queue/outbox-db.ts';

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
  outbox?: { db: OutboxDb; onQueued?: () => void };
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
  return replicateRxCollection<any, Checkpoint>({
    collection: options.collection,
    replicationIdentifier: options.replicationIdentifier,
    live: options.live,
    retryTime: options.retryTimeMs,
    waitForLeadership: true,
    pull: {
      batchSize: options.pullBatchSize,
      handler: (checkpoint, batchSize) =>
        report(() => options.transport.pull<any>(options.name, options.schemaVersion, checkpoint, batchSize)) as never,
      ...(options.stream$ ? { stream$: options.stream$ as never } : {}),
    },
    push: {
      batchSize: options.pushBatchSize,
      handler: (rows) => {
        const outbox = options.outbox;
        if (outbox) {
          return enqueueRows(outbox.db, options.name, options.schemaVersion, rows as never).then(() => {
            outbox.onQueued?.();
            return [];
          }) as never;
        }
        return report(() => options.transport.push<any>(options.name, options.schemaVersion, rows as never)) as never;
      },
    },
  });
}
