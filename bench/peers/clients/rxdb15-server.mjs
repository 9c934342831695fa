// Peer: RxDB 15 (bench/peers/node_modules/rxdb) with rxdb-server 15.22's replication client
// (HTTP push/pull, Server-Sent Events for live pull), as published; memory storage on the device.
// Loaded by bench/workers/host.ts; implements bench/clients/types.ts (BenchClient).
import { createRxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { replicateServer } from 'rxdb-server/plugins/replication-server';

function awaitInitial(replication) {
  return new Promise((resolve, reject) => {
    const subscription = replication.error$.subscribe((error) => {
      subscription.unsubscribe();
      reject(error instanceof Error ? error : new Error(String(error)));
    });
    replication.awaitInitialReplication().then(() => {
      subscription.unsubscribe();
      resolve();
    }, reject);
  });
}

export async function createClient(context) {
  const dbs = [];
  let pushCollection;
  let instrumented = false;
  const open = async (collection) => {
    const db = await createRxDatabase({ name: `r${Math.random().toString(36).slice(2, 10)}`, storage: getRxStorageMemory(), multiInstance: false });
    dbs.push(db);
    await db.addCollections({ [collection]: { schema: context.schemas[collection] } });
    return db.collections[collection];
  };
  const url = (collection) => `${context.serverUrl}/${collection}/0`;
  const noDeleted = ({ _deleted, ...rest }) => rest;

  return {
    dispatcherVia: 'replicateServer live pull (Server-Sent Events /pullStream), timed at replicationState.received$',
    async bulkPrepare({ collection, docs }) {
      pushCollection = await open(collection);
      const result = await pushCollection.bulkInsert(docs.map(noDeleted));
      if (result.error.length > 0) throw new Error(`local insert failed: ${JSON.stringify(result.error[0]).slice(0, 300)}`);
    },
    async bulkPush({ collection, batchSize }) {
      const replication = replicateServer({ replicationIdentifier: 'bench-push', collection: pushCollection, url: url(collection), live: false, retryTime: 1000, push: { batchSize } });
      await awaitInitial(replication);
      await replication.cancel();
    },
    async bulkPull({ collection, batchSize }) {
      const local = await open(collection);
      const replication = replicateServer({ replicationIdentifier: 'bench-pull', collection: local, url: url(collection), live: false, retryTime: 1000, pull: { batchSize } });
      await awaitInitial(replication);
      const count = await local.count().exec();
      await replication.cancel();
      return count;
    },
    async openDevice({ collection, deviceId, batchSize, instrument }) {
      // rxdb-server's client calls the global fetch; time it in this worker (one realm per worker).
      if (!instrumented) {
        globalThis.fetch = instrument(globalThis.fetch.bind(globalThis));
        instrumented = true;
      }
      const local = await open(collection);
      const replication = replicateServer({ replicationIdentifier: `dev-${deviceId}`, collection: local, url: url(collection), live: true, retryTime: 1000, push: { batchSize } });
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
      const replication = replicateServer({ replicationIdentifier: 'dispatcher', collection: local, url: url('gps_points'), live: true, retryTime: 1000, pull: { batchSize } });
      const subscription = replication.received$.subscribe((doc) => onPoint(doc.sourceId, doc.recordedAt));
      await awaitInitial(replication);
      return {
        async close() {
          subscription.unsubscribe();
          await replication.cancel();
        },
      };
    },
    async close() {
      await Promise.all(dbs.map((db) => db.destroy().catch(() => {})));
    },
  };
}
