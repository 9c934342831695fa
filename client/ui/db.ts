/**
 * The UI's handle on the database worker: starts it, keeps the sync status in a signal, and
 * turns worker queries into Preact state. All writes go through here (and so through the
 * worker's DocumentWriter, which stamps the client revision).
 */
import { signal, type Signal } from '@preact/signals';
import * as Comlink from 'comlink';
import { useEffect, useState } from 'preact/hooks';
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { AttachmentBytes, CapturedAttachment, DocView, JsonDoc, Op, QuerySpec, SyncSnapshot, WorkerApi } from '../worker/api.ts';
import { badgeCollections, collectionsForRole } from '../worker/collections.ts';
import { derivedKey } from '../session/device-keys.ts';
import { databaseNameFor, getAccessToken, loadSession, refreshRefusal, SESSION_KEY, signInRefusal } from '../session/session.ts';
import { jwtClaims, type Session } from '../session/identity.ts';
import { handOverSession } from '../session/handover.ts';
import { kickServiceWorker, noteLiveConnection } from './sw-queue.ts';
import { transportKeyFor } from '../session/transport-key.ts';
import { takeDatabaseWorker } from './db-worker.ts';

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

/** `password`: the database key (client/session/keys.ts); a wrong one fails with a `WrongDatabaseKeyError`. */
export async function openDatabase(session: Session, password: string): Promise<Database> {
  const dbName = databaseNameFor(session.user);
  const [journalKey, transportKey] = await Promise.all([
    derivedKey(password, dbName, 'journal'),
    session.kind === 'password' ? transportKeyFor(dbName, password) : Promise.resolve(undefined),
  ]);
  const { worker, failed } = takeDatabaseWorker();
  const api = Comlink.wrap<WorkerApi>(worker);
  const authProblem = signal<string | undefined>(undefined);
  const collections = collectionsForRole(session.user.role);
  // A worker that did not load never answers: its failure ends the wait (db-worker.ts).
  const { leader } = await Promise.race([failed, api.open({
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
    authFailed: (message: string, token?: string) => {
      // Refused with a token this device no longer uses (signed in again since): nothing to ask.
      const now = loadSession();
      if (token && now && now.accessToken !== token) return;
      // The refresh refusal says what happened to the sign-in (expired, revoked); the request's 401 only that its token was refused.
      authProblem.value = refreshRefusal() ?? message;
    },
    outboxQueued: () => void kickServiceWorker({ backgroundSync: true }),
  }))]).catch((error: unknown) => {
    worker.terminate();
    throw error;
  });
  const status = signal<SyncSnapshot | undefined>(undefined);
  // The live stream dropped while the device is online: ask whether the server still takes this
  // sign-in. A server that ends a session closes its stream, and nothing else may fail until the
  // next change is sent; "Server unreachable" would be the wrong news, and nobody would sign in.
  let probing = false;
  const probeSignIn = async () => {
    if (probing || !navigator.onLine || authProblem.value) return;
    probing = true;
    try {
      const token = await getAccessToken();
      const refusal = await signInRefusal(token);
      if (refusal === undefined || loadSession()?.accessToken !== token) return;
      authProblem.value = refreshRefusal() ?? refusal;
    } catch {
      // unreachable after all: the status says so
    } finally {
      probing = false;
    }
  };
  // And again now and then while it stays down (a drop seen while starting up, or a probe that failed).
  const probeTimer = setInterval(() => {
    const now = status.value;
    if (now && now.role !== 'starting' && !now.connected) void probeSignIn();
  }, 15_000);
  await api.watchStatus(Comlink.proxy((snapshot: SyncSnapshot) => {
    const dropped = status.value?.connected === true && !snapshot.connected;
    status.value = snapshot;
    if (dropped) setTimeout(() => void probeSignIn(), 500);
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
    clearInterval(probeTimer);
    await Promise.race([api.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000))]);
    worker.terminate();
  };
  current = { api, status, dbName, leader, session, authProblem, journalKey, close };
  // The server session this page syncs with (opened at the unlock): another tab's refresh keeps it, a new sign-in changes it.
  let knownSessionId = sessionIdOf(loadSession()?.accessToken ?? '');
  // Signed in again in another tab of this origin: this tab's sync starts over with that session too.
  // A refresh keeps the server's session (`sid`); signing in again makes a new one.
  addEventListener('storage', (event: Event) => {
    if (!(event instanceof StorageEvent) || event.key !== SESSION_KEY || closed || !current) return;
    // The tokens are sealed: this (unlocked) page opens the new ones with the key it holds.
    void getAccessToken().catch(() => '').then(() => {
      const next = loadSession();
      if (!current || !next || !next.accessToken || !sameUser(next, session)) return;
      const sid = sessionIdOf(next.accessToken);
      if (signInProblem(current) || sid !== knownSessionId) {
        knownSessionId = sid;
        void sessionRenewed(next);
      }
    });
  });
  return current;
}

let renewedAt = 0;

/**
 * Why this device cannot sync for want of a valid sign-in, or nothing: a request of this tab got
 * 401, or the service worker's queue stopped for it (its delivery runs with no page watching, so
 * that is often the first to know). A queue refusal from before the last sign-in is not news.
 */
export function signInProblem(db: Database): string | undefined {
  if (db.authProblem.value) return db.authProblem.value;
  const queue = db.status.value?.queue;
  if (queue?.signedOut && queue.total > 0 && (queue.lastErrorAt ?? Date.now()) > renewedAt) {
    return 'The server no longer accepts this device\'s sign-in, so the changes waiting here cannot be sent.';
  }
  return undefined;
}

/** The session id (`sid`) an access token names: a new one means the person signed in again. */
const sessionIdOf = (token: string): unknown => jwtClaims(token)?.['sid'];

const sameUser = (a: Session, b: Session) => a.user.tenantId === b.user.tenantId && a.user.userId === b.user.userId && a.user.deviceId === b.user.deviceId;

/**
 * The person signed in again (client/ui/sign-in.tsx `Reauthenticate`) after the server refused
 * the session: the sign-in problem is over, and replication, its live stream and the service
 * worker's queue go on with the new tokens. Nothing is signed out or reopened.
 */
export async function sessionRenewed(session: Session): Promise<void> {
  const db = current;
  if (!db) return;
  renewedAt = Date.now();
  db.session = session;
  db.authProblem.value = undefined;
  // A new server session: the queue's device credential belonged to the old one.
  await handOverSession(session, { renew: true }).catch(() => undefined);
  void kickServiceWorker();
  await db.api.sessionRenewed();
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
  /** A captured signature or photo: bytes kept sealed in the queue, the item appended to the document's `attachments`. */
  attach: (collection: CollectionName, id: string, captured: CapturedAttachment) => database().api.attach(collection, id, Comlink.transfer(captured, [
    captured.bytes.buffer, ...(captured.thumbnail ? [captured.thumbnail.bytes.buffer] : []),
  ])),
};

/** An attachment's bytes, from this device while they wait for their upload, otherwise from the server. */
export function readAttachment(collection: CollectionName, id: string, sha256: string): Promise<AttachmentBytes> {
  return database().api.attachmentBytes(collection, id, sha256);
}
