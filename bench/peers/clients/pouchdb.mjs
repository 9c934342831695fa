// Peer: PouchDB 9 as published (memory adapter on the device, its HTTP adapter to the server).
// Loaded by bench/workers/host.ts; implements bench/clients/types.ts (BenchClient).
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';

PouchDB.plugin(memoryAdapter);

const toCouch = ({ id, _deleted, ...rest }) => ({ _id: id, ...rest });
const localName = () => `p${Math.random().toString(36).slice(2, 10)}`;

function replicate(source, target, options) {
  return new Promise((resolve, reject) => {
    const replication = PouchDB.replicate(source, target, options);
    replication.on('complete', resolve);
    replication.on('error', reject);
    replication.on('denied', (error) => reject(new Error(`denied: ${JSON.stringify(error)}`)));
  });
}

export async function createClient(context) {
  const dbs = [];
  const local = () => {
    const db = new PouchDB(localName(), { adapter: 'memory' });
    dbs.push(db);
    return db;
  };
  const remote = (collection, fetch) => new PouchDB(`${context.serverUrl}/${collection}`, { skip_setup: true, ...(fetch ? { fetch } : {}) });
  let pushDb;

  return {
    dispatcherVia: 'PouchDB changes feed on the remote database (live, since now, include_docs), timed at its change event',
    async bulkPrepare({ docs }) {
      pushDb = local();
      for (let i = 0; i < docs.length; i += 1000) {
        const results = await pushDb.bulkDocs(docs.slice(i, i + 1000).map(toCouch));
        const failed = results.find((r) => r.error);
        if (failed) throw new Error(`local insert failed: ${JSON.stringify(failed)}`);
      }
    },
    async bulkPush({ collection, batchSize }) {
      const result = await replicate(pushDb, remote(collection), { batch_size: batchSize });
      if (!result.ok || result.doc_write_failures > 0) throw new Error(`push failed: ${JSON.stringify(result).slice(0, 300)}`);
    },
    async bulkPull({ collection, batchSize }) {
      const db = local();
      const result = await replicate(remote(collection), db, { batch_size: batchSize });
      if (!result.ok) throw new Error(`pull failed: ${JSON.stringify(result).slice(0, 300)}`);
      return (await db.info()).doc_count;
    },
    async openDevice({ collection, batchSize, instrument }) {
      const db = local();
      const replication = PouchDB.replicate(db, remote(collection, instrument(PouchDB.fetch)), { live: true, retry: true, batch_size: batchSize });
      return {
        async write(doc) {
          await db.put(toCouch(doc));
        },
        async close() {
          replication.cancel();
        },
      };
    },
    async openDispatcher({ onPoint }) {
      const feed = remote('gps_points').changes({ live: true, since: 'now', include_docs: true });
      feed.on('change', (change) => {
        if (change.doc) onPoint(change.doc.sourceId, change.doc.recordedAt);
      });
      // The feed is open once its first long-poll request is out; give it that moment.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return {
        async close() {
          feed.cancel();
        },
      };
    },
    async close() {
      await Promise.all(dbs.map((db) => db.destroy().catch(() => {})));
    },
  };
}
