/// <reference lib="webworker" />
/**
 * Entry of the database worker (one per tab). The UI reaches it through Comlink; see api.ts.
 */
import * as Comlink from 'comlink';
import { DatabaseWorker } from './engine.ts';

const worker = new DatabaseWorker();
Comlink.expose(worker);
// The page closes its worker on `pagehide`; this is the last chance to end the leadership
// cleanly so another tab takes over at once instead of after the lock is released by the browser.
self.addEventListener('message', (event: MessageEvent) => {
  if (event.data === 'fieldsync:close') void worker.close();
});
