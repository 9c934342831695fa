/**
 * The page's side of the service worker's outbound queue (sw/queue/sw-runtime.ts): the page hands
 * the service worker the session it delivers with, and wakes it when there is something to send.
 *
 * - `fieldsync:session` after sign-in, after every token refresh and when an app opens;
 * - `fieldsync:kick` when an app opens, on `online`, and when the database worker queued changes;
 * - a Background Sync registration (tag `fieldsync-outbox`) when changes were queued, where the
 *   browser has Background Sync: the browser then wakes the service worker when the network is
 *   back, even with every app closed. Without it, the service worker delivers when it starts, on
 *   the kicks above and on its own retry timer while it runs.
 */
import { SYNC_TAG } from '../../sw/queue/sw-runtime.ts';
import { getSession, openOutboxDb, setSession, type OutboxSession } from '../../sw/queue/outbox-db.ts';
import type { Session } from './session.ts';

type SyncRegistration = ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };

const supported = () => typeof navigator !== 'undefined' && 'serviceWorker' in navigator;

/** The service worker that can take messages now: the page's controller, or the active one of the registration. */
async function activeWorker(): Promise<ServiceWorker | undefined> {
  if (!supported()) return undefined;
  const controller = navigator.serviceWorker.controller;
  if (controller) return controller;
  const registration = await navigator.serviceWorker.getRegistration().catch(() => undefined);
  return registration?.active ?? undefined;
}

export function queueSessionOf(session: Session): OutboxSession {
  return {
    serverUrl: location.origin,
    token: session.accessToken,
    ...(session.refreshToken ? { refreshToken: session.refreshToken } : {}),
    deviceId: session.user.deviceId,
  };
}

/**
 * Gives the service worker the session it delivers the queue with (its own copy: no page may be
 * open when it delivers). Stored in the queue's database at once, so a service worker that is not
 * running or not installed yet finds it, and sent as a message, which also starts a delivery.
 */
export async function handOverSession(session: Session | undefined): Promise<void> {
  if (!session || !supported()) return;
  // Never a step back: the copy a page started with may be older than the tokens the service
  // worker (or another tab) rotated since, and the queue would refresh with a spent token.
  if (await newerQueueSession(session)) return;
  await storeQueueSession(session);
  const worker = await activeWorker();
  worker?.postMessage({ type: 'fieldsync:session', session: queueSessionOf(session) });
}

/** Asks the service worker to deliver now; with `backgroundSync`, also asks the browser to wake it when the network is back. */
export async function kickServiceWorker(options: { backgroundSync?: boolean } = {}): Promise<void> {
  const worker = await activeWorker();
  worker?.postMessage({ type: 'fieldsync:kick' });
  if (options.backgroundSync && supported()) {
    const registration = (await navigator.serviceWorker.getRegistration().catch(() => undefined)) as SyncRegistration | undefined;
    await registration?.sync?.register(SYNC_TAG).catch(() => undefined);
  }
}

let started = false;

/** App open: hand over the session and kick; kick again whenever the network comes back. */
export function startQueueTriggers(session: Session): void {
  if (!supported() || started) return;
  started = true;
  void handOverSession(session).then(() => kickServiceWorker());
  addEventListener('online', () => {
    void kickServiceWorker();
    // `online` can come before the connection is usable (and before the service worker sees it):
    // a first attempt that fails then would wait for the queue's backoff, which after hours
    // offline is minutes. Two more kicks cover that; each is a no-op once the queue is empty.
    for (const ms of ONLINE_RETRY_MS) setTimeout(() => navigator.onLine && void kickServiceWorker(), ms);
  });
}

const ONLINE_RETRY_MS = [2000, 6000];

/**
 * The session the service worker holds, when it is newer than `current`: with no page open it may
 * have refreshed the access token itself, which rotates the refresh token. The page must go on
 * with that one; presenting the old refresh token again would look like theft to the server and
 * end every session of the device.
 */
export async function newerQueueSession(current: Session): Promise<OutboxSession | undefined> {
  if (current.kind !== 'password' || !current.refreshToken || typeof indexedDB === 'undefined') return undefined;
  let queued: OutboxSession | undefined;
  try {
    const db = await openOutboxDb();
    try {
      queued = await getSession(db);
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
  if (!queued?.refreshToken || queued.refreshToken === current.refreshToken) return undefined;
  if (queued.deviceId !== undefined && queued.deviceId !== current.user.deviceId) return undefined;
  const mine = claimsOf(current.accessToken);
  const theirs = claimsOf(queued.token);
  if (mine['sub'] !== theirs['sub'] || mine['tenant'] !== theirs['tenant']) return undefined;
  const theirExp = typeof theirs['exp'] === 'number' ? theirs['exp'] : 0;
  const myExp = typeof mine['exp'] === 'number' ? mine['exp'] : 0;
  return theirExp > myExp ? queued : undefined;
}

/** Stores the page's new session in the queue at once (the message may come after a delivery started). */
export async function storeQueueSession(session: Session): Promise<void> {
  if (typeof indexedDB === 'undefined' || !supported()) return;
  try {
    const db = await openOutboxDb();
    try {
      await setSession(db, queueSessionOf(session));
    } finally {
      db.close();
    }
  } catch {
    // the message to the service worker carries it too
  }
}

function claimsOf(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return {};
  }
}
