/**
 * The page's database worker, started by the app's first script (client/apps/<app>/start.ts)
 * before the app's own code is loaded: the worker loads and runs RxDB, Dexie and the sync
 * library beside the page doing the same with the app, instead of after it (a new tablet's first
 * sync began about 0.3 s later). It opens nothing until the page gives it the key (`open`,
 * client/ui/db.ts, after the unlock); a page that never opens its database leaves it idle.
 */

let early: Worker | undefined;

const newWorker = () => new Worker(new URL('../worker/db.worker.ts', import.meta.url), { type: 'module', name: 'fieldsync-db' });

/** Starts the worker now; the page takes it when it opens its database. */
export function startDatabaseWorkerEarly(): void {
  early ??= newWorker();
}

/** The worker started early (once), or a new one: after a lock the database opens in a new worker. */
export function takeDatabaseWorker(): Worker {
  const worker = early ?? newWorker();
  early = undefined;
  return worker;
}

/** This page will not open its database (signed in with another role's account): the idle worker goes. */
export function dropEarlyDatabaseWorker(): void {
  early?.terminate();
  early = undefined;
}
