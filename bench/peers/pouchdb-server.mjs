// Peer server: express-pouchdb 4.2 on PouchDB 9 with its default LevelDB adapter (on disk, in
// DATA_DIR), default settings (fullCouchDB mode). Started by bench/lib/peers.ts as its own process.
// Usage: PORT=… DATA_DIR=… COLLECTIONS=gps_points,epcrs node bench/peers/pouchdb-server.mjs
import PouchDB from 'pouchdb';
import expressPouchDB from 'express-pouchdb';

const port = Number(process.env.PORT);
const dataDir = process.env.DATA_DIR;
if (!port || !dataDir) throw new Error('PORT and DATA_DIR are required');
// fullCouchDB mode writes config.json and log.txt into the working directory: keep them in the run's directory.
process.chdir(dataDir);
const DB = PouchDB.defaults({ prefix: `${dataDir}/` });
const app = expressPouchDB(DB);
for (const name of (process.env.COLLECTIONS ?? 'gps_points').split(',')) await new DB(name).info();
const server = app.listen(port, '127.0.0.1', () => console.log(`pouchdb-server listening on ${port}`));
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
