import { replicateRxCollection } from 'rxdb/plugins/replication';
import { epcrDoc, gpsDoc } from '../lib/docs.ts';
import { benchDatabases } from './ours.ts';
import { awaitInitial } from './replication-wait.ts';
import type { BenchClient, ClientContext } from './types.ts';

/**
 * The ceiling of any RxDB-based client on this machine: the same device database as our client
 * (createFieldsyncDatabase on memory storage), replicated by RxDB with handlers that answer at
 * once, in this thread: no serialization, no network, no server. A bulk push or pull through a
 * real server cannot be faster than this, whoever the server is, because RxDB's own work on the
 * device (reading the changes, the replication meta copies, validating and writing pulled
 * documents) is all that is left here.
 */
export async function createClient(context: ClientContext): Promise<BenchClient> {
  const databases = benchDatabases();
  const unsupported = () => Promise.reject(new Error('the RxDB-alone ceiling has no live devices: it has no server'));
  return {
    dispatcherVia: 'none (no server)',
    notes: () => [...databases.notes],
    bulkPrepare: ({ collection, docs }) => databases.prepare(collection, docs),
    async bulkPush({ collection, batchSize }) {
      let pushed = 0;
      const replication = replicateRxCollection({
        collection: databases.prepared().collections[collection]!, replicationIdentifier: 'ceiling-push', live: false, retryTime: 1000,
        push: {
          batchSize,
          handler: async (rows) => {
            pushed += rows.length;
            return [];
          },
        },
      });
      await awaitInitial(replication);
      await replication.cancel();
      if (pushed === 0) throw new Error('the ceiling push handler was never called');
    },
    async bulkPull({ collection, batchSize, expected }) {
      // The pages a server would send: `expected` documents of the collection's kind, in order.
      const make = collection === 'epcrs' ? epcrDoc : gpsDoc;
      const docs = Array.from({ length: expected }, (_, i) => make(context.tenant, i));
      const db = await databases.open(collection);
      const replication = replicateRxCollection<Record<string, unknown>, { i: number }>({
        collection: db.collections[collection]!, replicationIdentifier: 'ceiling-pull', live: false, retryTime: 1000,
        pull: {
          batchSize,
          handler: async (checkpoint, limit) => {
            const from = checkpoint?.i ?? 0;
            const documents = docs.slice(from, from + limit);
            return { documents: documents as never, checkpoint: { i: from + documents.length } };
          },
        },
      });
      await awaitInitial(replication);
      const count = await db.collections[collection]!.count().exec();
      await replication.cancel();
      return count;
    },
    openDevice: unsupported,
    openDispatcher: unsupported,
    close: () => databases.close(),
  };
}
