// Peer server: RxServer (rxdb-server 15.22, Express adapter) over RxDB 15 with its memory storage
// (nothing on disk). Settings as published, except the JSON body limit, raised from Express's
// 100 kB default to 8 MiB (our server's default) so a push batch of ePCRs fits in one request.
// Usage: PORT=… SCHEMAS=/path/schemas.json node bench/peers/rxserver.mjs
import { readFileSync } from 'node:fs';
import express from 'express';
import { createRxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { createRxServer } from 'rxdb-server/plugins/server';
import { RxServerAdapterExpress } from 'rxdb-server/plugins/adapter-express';

const port = Number(process.env.PORT);
const schemas = JSON.parse(readFileSync(process.env.SCHEMAS, 'utf8'));
const db = await createRxDatabase({ name: 'rxserver', storage: getRxStorageMemory(), multiInstance: false });
await db.addCollections(Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, { schema }])));
const app = express();
app.use(express.json({ limit: '8mb' }));
const server = await createRxServer({ database: db, adapter: RxServerAdapterExpress, serverApp: app, port, hostname: '127.0.0.1', cors: '*' });
for (const name of Object.keys(schemas)) server.addReplicationEndpoint({ name, collection: db.collections[name], cors: '*' });
await server.start();
console.log(`rxserver listening on ${port}`);
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
