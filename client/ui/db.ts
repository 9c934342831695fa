/**
 * The UI's handle on the database worker: starts it, keeps the sync status in a signal, and
 * turns worker queries into Preact state. All writes go through here (and so through the
 * worker's DocumentWriter, which stamps the client revision).
 */
import { signal, type Signal } from '@preact/signals';
import * as Comlink from 'comlink';
import { useEffect, useState } from 'preact/hooks';
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { DocView, JsonDoc, Op, QuerySpec, SyncSnapshot, WorkerApi } from '../worker/api.ts';
import { badgeCollections, collectionsForRole } from '../worker/collections.ts';
import { derivedKey } from './device-keys.ts';
import { databaseNameFor, getAccessToken, loadSession, type Session } from './session.ts';
import { handOverSession, kickServiceWorker, noteLiveConnection } from './sw-queue.ts';
import { transportKeyFor } from './transport-key.ts';

export interface Database {
  api: Comlink.Remote<WorkerApi>;
  status: Signal<SyncSnapshot | undefined>;
  dbName: string;
  leader: boolean;
  session: Session;
  /** The server refused the token: the UI offers to sign in again. */
  authProblem: Signal<string | undefined>;
  /** Seals the autosave journal (autosave.ts); derived from the database key, memory only, gone with this object. */
  journalKey: CryptoKey;
  /** Closes the database and terminates its worker, and with it the key and every decrypted document it held (lock, sign-out). */
  close(): Promise<void>;
}

let current: Database | undefined;

const hasServiceWorker = () => typeof navigator !== 'undefined' && 'serviceWorker' in navigator && navigator.serviceWorker.controller !== null;

export function database(): Database {
  if (!current) throw new Error('the database is not open yet');
  return current;
}

/** `password`: the database key (client/ui/lock.ts); a wrong one fails with a `WrongDatabaseKeyError`. */
export async function openDatabase(session: Session, password: string): Promise<Database> {
  const dbName = databaseNameFor(session.user);
  const [journalKey, transportKey] = await Promise.all([
    derivedKey(password, dbName, 'journal'),
    session.kind === 'password' ? transportKeyFor(dbName, password) : Promise.resolve(undefined),
  ]);
  const worker = new Worker(new URL('../worker/db.worker.ts', import.meta.url), { type: 'module', name: 'fieldsync-db' });
  const api = Comlink.wrap<WorkerApi>(worker);
  const authProblem = signal<string | undefined>(undefined);
  const collections = collectionsForRole(session.user.role);
  const { leader } = await api.open({
    dbName,
    password,
    // What the service worker's queue holds of patient data is sealed with it (client/sync/queue-seal.ts).
    ...(transportKey ? { transportKey } : {}),
    developerSession: session.kind === 'dev',
    userId: session.user.userId,
    serverUrl: location.origin,
    deviceId: session.user.deviceId,
    collections,
    badgeCollections: badgeCollections(collections),
    // Pushes go through the service worker's durable queue once one controls this page.
    serviceWorkerQueue: hasServiceWorker(),
  }, Comlink.proxy({
    getToken: () => getAccessToken(),
    authFailed: (message: string) => {
      authProblem.value = message;
    },
    outboxQueued: () => void kickServiceWorker({ backgroundSync: true }),
  })).catch((error: unknown) => {
    worker.terminate();
    throw error;
  });
  const status = signal<SyncSnapshot | undefined>(undefined);
  await api.watchStatus(Comlink.proxy((snapshot: SyncSnapshot) => {
    status.value = snapshot;
    noteLiveConnection(snapshot.connected); // the live socket back: the outbound queue tries at once
  }));
  addEventListener('online', () => void api.networkChanged(true));
  // The first load of a device is not controlled yet: switch to the queue when the service worker
  // takes over (clientsClaim), without a reload.
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      void api.useServiceWorkerQueue(hasServiceWorker());
      void handOverSession(loadSession()).then(() => kickServiceWorker());
    });
    // It may have taken over while the database was opening (no-op when already in queue mode).
    if (hasServiceWorker()) void api.useServiceWorkerQueue(true);
  }
  addEventListener('offline', () => void api.networkChanged(false));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && navigator.onLine) void api.resync();
  });
  // Closing the worker ends its leadership now, so another open tab takes over replication at once.
  addEventListener('pagehide', () => worker.postMessage('fieldsync:close'));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.race([api.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000))]);
    worker.terminate();
  };
  current = { api, status, dbName, leader, session, authProblem, journalKey, close };
  return current;
}

/** A live query: `undefined` until the first result, then every change. */
export function useQuery<T extends JsonDoc = JsonDoc>(collection: CollectionName, spec: QuerySpec | undefined, deps: unknown[] = []): DocView<T>[] | undefined {
  const [docs, setDocs] = useState<DocView<T>[] | undefined>(undefined);
  useEffect(() => {
    if (!spec) {
      setDocs(undefined);
      return;
    }
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    void database().api.watchQuery(collection, spec, Comlink.proxy((views: DocView[]) => {
      if (!cancelled) setDocs(views as DocView<T>[]);
    })).then((unsub) => {
      if (cancelled) void unsub();
      else unsubscribe = () => void unsub();
    });
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }, [collection, JSON.stringify(spec ?? null), ...deps]);
  return docs;
}

/** One document by id (`null` when it is not on this device). */
export function useDoc<T extends JsonDoc = JsonDoc>(collection: CollectionName, id: string | undefined): DocView<T> | null | undefined {
  const docs = useQuery<T>(collection, id ? { selector: { id } } : undefined, [id]);
  if (!id) return null;
  return docs === undefined ? undefined : (docs[0] ?? null);
}

export const write = {
  insert: (collection: CollectionName, doc: JsonDoc) => database().api.insert(collection, doc),
  bulkInsert: (collection: CollectionName, docs: JsonDoc[]) => database().api.bulkInsert(collection, docs),
  mutate: (collection: CollectionName, id: string, ops: Op[]) => database().api.mutate(collection, id, ops),
  upsert: (collection: CollectionName, doc: JsonDoc, ops: Op[] = []) => database().api.upsert(collection, doc, ops),
};
