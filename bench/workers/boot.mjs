// Entry of every benchmark worker thread: Node 20 does not carry `--import tsx` into workers,
// so register tsx here, then load the TypeScript host that runs one client library.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.host);
