// Peers in the browser (bench:browser, issue #21): a new device's first sync of a slice, into
// IndexedDB, as each library publishes it. Bundled for the page by bench/browser/first-sync.ts
// with esbuild (resolved from bench/peers/node_modules: RxDB 15, rxdb-server 15; PouchDB 9 is its
// own browser build, dist/pouchdb.min.js, loaded before this bundle).
// The page is served by the bench's gateway, which proxies /couch to express-pouchdb and /rx to
// RxServer, so every request is same-origin (no CORS in the way of either peer).
import { createRxDatabase } from 'rxdb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { replicateServer } from 'rxdb-server/plugins/replication-server';

// PouchDB's own browser build (dist/pouchdb.min.js, served beside this bundle): window.PouchDB.
const PouchDB = () => globalThis.PouchDB;

function replicate(source, target, options) {
  return new Promise((resolve, reject) => {
    const replication = PouchDB().replicate(source, target, options);
    replication.on('complete', resolve);
    replication.on('error', reject);
  });
}

/** PouchDB 9 with its default browser adapter (`idb`: IndexedDB), PouchDB.replicate from express-pouchdb. */
async function pouchdb({ collections, batchSize }) {
  const t0 = performance.now();
  const counts = {};
  await Promise.all(collections.map(async (name) => {
    const local = new (PouchDB())(`first-sync-${name}`);
    const result = await replicate(new (PouchDB())(`${location.origin}/couch/${name}`, { skip_setup: true }), local, { batch_size: batchSize });
    if (!result.ok) throw new Error(`PouchDB replication of ${name} failed: ${JSON.stringify(result).slice(0, 300)}`);
    counts[name] = (await local.info()).doc_count;
  }));
  return { ms: performance.now() - t0, counts, adapter: new (PouchDB())('probe').adapter };
}

/** RxDB 15 on Dexie (IndexedDB) with rxdb-server's replicateServer, pull only, from RxServer. */
async function rxdb15({ collections, batchSize, schemas }) {
  const t0 = performance.now();
  const db = await createRxDatabase({ name: `firstsync${Math.random().toString(36).slice(2, 8)}`, storage: getRxStorageDexie(), multiInstance: false });
  await db.addCollections(Object.fromEntries(collections.map((name) => [name, { schema: schemas[name] }])));
  const counts = {};
  await Promise.all(collections.map(async (name) => {
    const replication = replicateServer({ replicationIdentifier: `first-sync-${name}`, collection: db.collections[name], url: `${location.origin}/rx/${name}/0`, live: false, retryTime: 1000, pull: { batchSize } });
    const failed = new Promise((_, reject) => replication.error$.subscribe((error) => reject(error instanceof Error ? error : new Error(String(error)))));
    await Promise.race([replication.awaitInitialReplication(), failed]);
    counts[name] = await db.collections[name].count().exec();
    await replication.cancel();
  }));
  return { ms: performance.now() - t0, counts };
}

globalThis.peers = { pouchdb, rxdb15 };
