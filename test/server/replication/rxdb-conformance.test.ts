/**
 * RxDB's own replication conformance suite, run against our server over HTTP and socket.io.
 * The suite brings its own "humans" schema, so the server is started with that collection.
 */
import { addRxPlugin, type RxCollection } from 'rxdb';
import { RxDBDevModePlugin } from 'rxdb/plugins/dev-mode';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { runReplicationBaseTestSuite, schemas, setConfig } from 'rxdb/plugins/test-utils';
import { wrappedValidateAjvStorage } from 'rxdb/plugins/validate-ajv';
import { afterAll, beforeAll, describe } from 'vitest';
import { ChangeStream } from '../../../client/sync/change-stream.ts';
import { replicateCollection } from '../../../client/sync/replication.ts';
import { SyncTransport } from '../../../client/sync/transport.ts';
import { devToken } from '../../../server/auth/identity.ts';
import { freePort, startTestServer, type TestServer } from '../../helpers/server.ts';

addRxPlugin(RxDBDevModePlugin);
setConfig({
  storage: {
    name: 'memory',
    getStorage: () => wrappedValidateAjvStorage({ storage: getRxStorageMemory() }),
    getPerformanceStorage: () => ({ description: 'memory', storage: getRxStorageMemory() }),
    hasPersistence: false,
    hasMultiInstance: false,
    hasAttachments: false,
    hasReplication: true,
  } as never,
});

const token = devToken({ tenantId: 'conformance', role: 'admin', deviceId: 'suite' });
let server: TestServer;
let port: number;
const streams: ChangeStream[] = [];

async function freshServer(): Promise<void> {
  if (server) await server.close();
  server = await startTestServer({ port, collections: { humans: schemas.human as never } });
}

function replicate(collection: RxCollection<any>, live: boolean) {
  const transport = new SyncTransport({ serverUrl: server.url, getToken: () => token });
  let stream: ChangeStream | undefined;
  if (live) {
    stream = new ChangeStream({ serverUrl: server.url, getToken: () => token, collections: { humans: 0 } });
    streams.push(stream);
  }
  return replicateCollection({
    collection, name: 'humans', schemaVersion: 0, transport, live,
    // One identifier per client database, so a later sync resumes from its checkpoint and meta.
    replicationIdentifier: `conformance-${collection.database.name}-${collection.name}`,
    ...(stream ? { stream$: stream.stream('humans').asObservable() } : {}),
    pushBatchSize: 100, pullBatchSize: 100, retryTimeMs: 200,
  });
}

beforeAll(async () => { port = await freePort(); });
afterAll(async () => {
  for (const s of streams) s.close();
  await server?.close();
});

describe('RxDB replication conformance suite against the fieldsync server', () => {
  runReplicationBaseTestSuite({
    startReplication: (collection) => replicate(collection, true),
    async syncOnce(collection) {
      const replication = replicate(collection, false);
      await replication.awaitInitialReplication();
      await replication.cancel();
    },
    async getAllServerDocs() {
      const response = await fetch(`${server.url}/api/sync/humans/pull?schemaVersion=0&limit=5000`, { headers: { authorization: `Bearer ${token}` } });
      return ((await response.json()) as { documents: unknown[] }).documents;
    },
    cleanUpServer: freshServer,
    softDeletes: true,
    isDeleted: (doc: { _deleted: boolean }) => doc._deleted,
    getPrimaryOfServerDoc: (doc: { passportId: string }) => doc.passportId,
  });
});
