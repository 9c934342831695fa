/**
 * The page's database worker, started by the app's first script (client/ui/app-start.ts) before
 * the app's own code is loaded: the worker loads and runs RxDB, Dexie and the sync library beside
 * the page doing the same with the app, instead of after it (a new tablet's first sync began about
 * 0.3 s later). It opens nothing until the page gives it the key (`open`, client/ui/db.ts, after
 * the unlock); a page that never opens its database leaves it idle.
 */

/** A database worker, and its failure to load or start (it settles only then). */
export interface DatabaseWorker {
  worker: Worker;
  /**
   * Rejects when the worker's script did not load (a 404, the network) or threw while starting.
   * That happens as soon as the page starts, before anyone opens the database: kept here until
   * the page does, so it can say the data could not be opened instead of waiting for ever.
   */
  failed: Promise<never>;
}

function startWorker(): DatabaseWorker {
  const worker = new Worker(new URL('../worker/db.worker.ts', import.meta.url), { type: 'module', name: 'fieldsync-db' });
  const failed = new Promise<never>((_resolve, reject) => {
    worker.addEventListener('error', (event) => {
      const why = event instanceof ErrorEvent && event.message ? `its database worker stopped (${event.message})` : 'its database worker did not load';
      reject(new Error(`${why}. Reload the app when the device is online; nothing on this device is lost. If it happens again, tell your administrator.`));
    }, { once: true });
  });
  // Nobody may be waiting for it (a page that never opens its database).
  failed.catch(() => undefined);
  return { worker, failed };
}

let early: DatabaseWorker | undefined;

/** Starts the worker now; the page takes it when it opens its database. Never throws: the app must load whatever happens here. */
export function startDatabaseWorkerEarly(): void {
  try {
    early ??= startWorker();
  } catch (error) {
    // The database opens without the head start: takeDatabaseWorker makes one then, and says why if that fails too.
    console.error('the database worker did not start early; it is started when the database opens', error);
  }
}

/** The worker started early (once), or a new one: after a lock the database opens in a new worker. */
export function takeDatabaseWorker(): DatabaseWorker {
  const taken = early ?? startWorker();
  early = undefined;
  return taken;
}

/** This page will not open its database (signed in with another role's account): the idle worker goes. */
export function dropEarlyDatabaseWorker(): void {
  early?.worker.terminate();
  early = undefined;
}
