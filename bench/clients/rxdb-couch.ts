import { createRxDatabase, type RxCollection, type RxDatabase, type RxJsonSchema } from 'rxdb';
import { replicateCouchDB } from 'rxdb/plugins/replication-couchdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import type { BenchClient, ClientContext, FetchLike } from './types.ts';
import { awaitInitial } from './replication-wait.ts';

/**
 * Peer: RxDB 17 (the root install) with its CouchDB replication plugin, as published, against the
 * express-pouchdb server. Memory storage on the device, no validator (RxDB's default).
 * This file lives outside bench/peers on purpose: `rxdb` must resolve to the root RxDB 17 here,
 * while bench/peers/node_modules/rxdb is RxDB 15 (for rxdb-server).
 */
export async function createClient(context: ClientContext): Promise<BenchClient> {
  const dbs: RxDatabase[] = [];
  let pushCollection: RxCollection | undefined;
  const open = async (collection: string): Promise<RxCollection> => {
    const db = await createRxDatabase({ name: `c${Math.random().toString(36).slice(2, 10)}`, storage: getRxStorageMemory(), multiInstance: false });
    dbs.push(db);
    await db.addCollections({ [collection]: { schema: context.schemas[collection] as unknown as RxJsonSchema<any> } });
    return db.collections[collection]!;
  };
  const url = (collection: string) => `${context.serverUrl}/${collection}/`;
  const noDeleted = (doc: Record<string, unknown>) => {
    const { _deleted, ...rest } = doc;
    return rest;
  };

  return {
    dispatcherVia: 'replicateCouchDB live pull (CouchDB _changes longpoll), timed at replicationState.received$',
    async bulkPrepare({ collection, docs }) {
      pushCollection = await open(collection);
      const result = await pushCollection.bulkInsert(docs.map(noDeleted));
      if (result.error.length > 0) throw new Error(`local insert failed: ${JSON.stringify(result.error[0]).slice(0, 300)}`);
    },
    async bulkPush({ collection, batchSize }) {
      const replication = replicateCouchDB({ replicationIdentifier: 'bench-push', collection: pushCollection!, url: url(collection), live: false, retryTime: 1000, push: { batchSize } });
      await awaitInitial(replication);
      await replication.cancel();
    },
    async bulkPull({ collection, batchSize }) {
      const local = await open(collection);
      const replication = replicateCouchDB({ replicationIdentifier: 'bench-pull', collection: local, url: url(collection), live: false, retryTime: 1000, pull: { batchSize } });
      await awaitInitial(replication);
      const count = await local.count().exec();
      await replication.cancel();
      return count;
    },
    async openDevice({ collection, deviceId, batchSize, instrument }) {
      const local = await open(collection);
      const replication = replicateCouchDB({
        replicationIdentifier: `dev-${deviceId}`, collection: local, url: url(collection), live: true, retryTime: 1000,
        push: { batchSize }, fetch: instrument(fetch as unknown as FetchLike) as unknown as typeof fetch,
      });
      await awaitInitial(replication);
      return {
        async write(doc) {
          await local.insert(noDeleted(doc));
        },
        async close() {
          await replication.cancel();
        },
      };
    },
    async openDispatcher({ batchSize, onPoint }) {
      const local = await open('gps_points');
      const replication = replicateCouchDB({ replicationIdentifier: 'dispatcher', collection: local, url: url('gps_points'), live: true, retryTime: 1000, pull: { batchSize } });
      const subscription = replication.received$.subscribe((doc: any) => onPoint(doc.sourceId, doc.recordedAt));
      await awaitInitial(replication);
      return {
        async close() {
          subscription.unsubscribe();
          await replication.cancel();
        },
      };
    },
    async close() {
      await Promise.all(dbs.map((db) => db.close().catch(() => {})));
    },
  };
}
