import { createRxDatabase, type RxDatabase } from 'rxdb';
import { wrappedValidateAjvStorage } from 'rxdb/plugins/validate-ajv';
import { conflictHandlerFor } from '../../shared/merge/index.ts';
import { collectionMigrationStrategies, collectionSchemas, schemaVersionOf } from '../../shared/schemas/index.ts';
import { replicateRxCollection } from 'rxdb/plugins/replication';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { io, type Socket } from 'socket.io-client';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';
import { replicateCollection } from '../../client/sync/replication.ts';
import { SyncTransport } from '../../client/sync/transport.ts';
import { devToken } from '../../server/auth/identity.ts';
import type { CollectionName } from '../../shared/schemas/index.ts';
import { BENCH_UNIT } from '../lib/docs.ts';
import type { BenchClient, ClientContext, FetchLike } from './types.ts';
import { awaitInitial } from './replication-wait.ts';

/**
 * fieldsync's own client library: RxDB 17 on memory storage through createFieldsyncDatabase
 * (which validates every document with ajv on the device, as the product does), our transport
 * (SyncTransport) and replicateCollection. The dispatcher is the socket.io /live feed that the
 * dispatch console uses.
 */
export async function createClient(context: ClientContext): Promise<BenchClient> {
  // A crew device pushes its unit's documents (crews may only write their own unit's); an
  // admin console pulls the whole collection.
  const crewToken = devToken({ tenantId: context.tenant, role: 'crew', deviceId: 'bench-crew', subject: BENCH_UNIT });
  const adminToken = devToken({ tenantId: context.tenant, role: 'admin', deviceId: 'bench-admin' });
  const databases = benchDatabases();
  const open = (collection: string) => databases.open(collection);

  return {
    dispatcherVia: 'socket.io /live feed, event unit:position (what the dispatch console uses)',
    notes: () => [...databases.notes],
    bulkPrepare: ({ collection, docs }) => databases.prepare(collection, docs),
    async bulkPush({ collection, batchSize }) {
      // Push only (replicateCollection would also pull the same documents back): the push half of
      // replicateCollection, with our transport.
      const transport = new SyncTransport({ serverUrl: context.serverUrl, getToken: () => crewToken });
      const replication = replicateRxCollection({
        collection: databases.prepared().collections[collection]!, replicationIdentifier: 'bench-push', live: false, retryTime: 1000,
        push: { batchSize, handler: (rows) => transport.push(collection, 0, rows as never) as never },
      });
      await awaitInitial(replication);
      await replication.cancel();
    },
    async bulkPull({ collection, batchSize }) {
      // Pull only, like every peer's client here (startSync would also run the push half, which
      // checks every pulled document for local changes to send back): the pull half of
      // replicateCollection, with our transport.
      const db = await open(collection);
      const transport = new SyncTransport({ serverUrl: context.serverUrl, getToken: () => adminToken });
      const replication = replicateRxCollection({
        collection: db.collections[collection]!, replicationIdentifier: 'bench-pull', live: false, retryTime: 1000,
        pull: { batchSize, handler: (checkpoint, limit) => transport.pull(collection, 0, checkpoint as never, limit) as never },
      });
      await awaitInitial(replication);
      const count = await db.collections[collection]!.count().exec();
      await replication.cancel();
      return count;
    },
    async openDevice({ collection, deviceId, unitId, batchSize, instrument }) {
      const db = await open(collection);
      const deviceToken = devToken({ tenantId: context.tenant, role: 'crew', deviceId, subject: unitId });
      const transport = new SyncTransport({ serverUrl: context.serverUrl, getToken: () => deviceToken, fetch: instrument(fetch as unknown as FetchLike) as unknown as typeof fetch });
      // Live replication as the product runs it, minus the /sync socket: a crew device does not
      // follow every other unit's GPS points, so nothing but its own pushes goes over the wire.
      const replication = replicateCollection({
        collection: db.collections[collection]!, name: collection, schemaVersion: schemaVersionOf(collection), transport, replicationIdentifier: `dev-${deviceId}`,
        live: true, pushBatchSize: batchSize, pullBatchSize: batchSize, retryTimeMs: 1000,
      });
      await awaitInitial(replication);
      return {
        async write(doc) {
          await db.collections[collection]!.insert(doc);
        },
        async close() {
          await replication.cancel();
        },
      };
    },
    async openDispatcher({ onPoint }) {
      const socket: Socket = io(`${context.serverUrl}/live`, {
        transports: ['websocket'], auth: { token: devToken({ tenantId: context.tenant, role: 'dispatcher', deviceId: 'console-1' }) }, reconnection: false,
      });
      socket.on('unit:position', (payload: { sourceId: string; recordedAt: string }) => onPoint(payload.sourceId, payload.recordedAt));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('/live did not become ready in 10 s')), 10_000);
        socket.once('live:ready', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('connect_error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      return {
        async close() {
          socket.close();
        },
      };
    },
    close: () => databases.close(),
  };
}

/** The device databases of one bench client, opened as our client opens them and closed together. */
export function benchDatabases() {
  const dbs: RxDatabase[] = [];
  const notes = new Set<string>();
  let prepared: RxDatabase | undefined;
  const open = async (collection: string) => {
    const db = await openBenchDatabase(collection, notes);
    dbs.push(db);
    return db;
  };
  return {
    notes,
    open,
    /** bulkPrepare: a device database holding `docs`, not yet replicated. */
    async prepare(collection: string, docs: Record<string, unknown>[]): Promise<void> {
      prepared = await open(collection);
      const result = await prepared.collections[collection]!.bulkInsert(docs);
      if (result.error.length > 0) throw new Error(`local insert failed: ${JSON.stringify(result.error[0]).slice(0, 300)}`);
    },
    prepared(): RxDatabase {
      if (!prepared) throw new Error('bulkPush before bulkPrepare: there is no device database to push from');
      return prepared;
    },
    async close(): Promise<void> {
      await Promise.all(dbs.map((db) => db.close().catch(() => {})));
    },
  };
}

/**
 * A device database as createFieldsyncDatabase opens it, on memory storage. No database key: "only
 * tests and tools that never hold patient data may leave it out"; the figures are about protocol
 * and server, not the device's field encryption.
 */
export async function openBenchDatabase(collection: string, notes: Set<string>): Promise<RxDatabase> {
  const name = `b${Math.random().toString(36).slice(2, 10)}`;
  try {
    return await createFieldsyncDatabase({ name, collections: [collection as CollectionName], storage: getRxStorageMemory() as never, multiInstance: false });
  } catch (error) {
    if ((error as { code?: string }).code !== 'UT6') throw error;
    // The schema lists encrypted fields and createFieldsyncDatabase opens them only with a key.
    // Open it the way it describes "no key": ajv-validated storage, our conflict handler, no
    // field encrypted.
    notes.add(`createFieldsyncDatabase refused ${collection} without a database key (RxDB UT6); the bench opened it as createFieldsyncDatabase documents it without a key (ajv-validated memory storage, our conflict handler, nothing encrypted)`);
    const db = await createRxDatabase({ name: `${name}x`, storage: wrappedValidateAjvStorage({ storage: getRxStorageMemory() }), multiInstance: false });
    const { encrypted: _encrypted, ...schema } = collectionSchemas[collection as CollectionName] as Record<string, unknown>;
    await db.addCollections({
      [collection]: {
        schema: schema as never, conflictHandler: conflictHandlerFor(collection as CollectionName) as never,
        migrationStrategies: collectionMigrationStrategies[collection as CollectionName] as never,
      },
    });
    return db;
  }
}
