/**
 * The page's side of the service worker's outbound queue (sw/queue/sw-runtime.ts): the page wakes
 * the service worker when there is something to send (the session it delivers with is handed over
 * by client/session/handover.ts).
 *
 * - `fieldsync:session` when an app opens (sign-in and every token refresh hand it over too);
 * - `fieldsync:kick` when an app opens, on `online`, when shown again, when the live socket
 *   connects again, when the database worker queued changes, and on a timer (1, 2, 4, then every
 *   5 s; every 30 s while the server answers it is busy) for as long as the last delivery failed
 *   and changes wait: in a dead zone the device says "online" all along, so no event says when
 *   data flows again;
 * - a Background Sync registration (tag `SYNC_TAG`, client/queue/messages.ts) when changes were
 *   queued, where the browser has Background Sync and allows it: the browser then wakes the
 *   service worker when the network is back, even with every app closed. Where it is missing or refused (a site setting
 *   can refuse it), delivery depends on an open app: `deliveryNote` says so in the status bar.
 */
import { computed, signal } from '@preact/signals';
import type { DeliveryResult } from '../../sw/queue/delivery.ts';
import { NETWORK_RETRY_CAP_MS, RETRY_BASE_MS, SERVER_RETRY_CAP_MS } from '../../sw/queue/queue-status.ts';
import { postToQueue, STATUS_CHANNEL, SYNC_TAG, type QueueSummary } from '../queue/index.ts';
import { handOverSession } from '../session/handover.ts';
import { loadSession } from '../session/session.ts';
import type { Session } from '../session/identity.ts';

type SyncRegistration = ServiceWorkerRegistration & {
  sync?: { register(tag: string): Promise<void> };
  periodicSync?: { register(tag: string, options: { minInterval: number }): Promise<void> };
};

const supported = () => typeof navigator !== 'undefined' && 'serviceWorker' in navigator;

/**
 * Whether the browser wakes the service worker to deliver with no app open: `on` (Background Sync
 * allowed), `refused` (a site setting denies it, or registering failed), `unavailable` (this
 * browser has none), `unknown` until checked.
 */
export const backgroundSync = signal<'unknown' | 'on' | 'refused' | 'unavailable'>('unknown');

/** What the status bar says when delivery depends on an open app (undefined: nothing to say). */
export const deliveryNote = computed(() => {
  switch (backgroundSync.value) {
    case 'refused': return 'Background sending is blocked in this browser: waiting changes are sent while this app is open.';
    case 'unavailable': return 'This browser cannot send in the background: waiting changes are sent while this app is open.';
    default: return undefined;
  }
});

/** Asks the service worker to deliver now; with `backgroundSync`, also asks the browser to wake it when the network is back. */
export async function kickServiceWorker(options: { backgroundSync?: boolean } = {}): Promise<void> {
  await postToQueue({ type: 'fieldsync:kick' });
  if (options.backgroundSync) {
    retry.waiting = true;
    retry.schedule();
    await registerBackgroundSync();
  }
}

/** Registers the tag; a refusal is shown (`deliveryNote`), and the page's own retries carry delivery. */
async function registerBackgroundSync(): Promise<void> {
  if (!supported()) return;
  const registration = (await navigator.serviceWorker.getRegistration().catch(() => undefined)) as SyncRegistration | undefined;
  if (!registration) return;
  if (!registration.sync) {
    backgroundSync.value = 'unavailable';
    return;
  }
  try {
    await registration.sync.register(SYNC_TAG);
    backgroundSync.value = 'on';
  } catch (error) {
    backgroundSync.value = 'refused';
    console.warn('fieldsync: Background Sync refused; changes are sent while the app is open', error);
  }
}

/**
 * The page's retries while the last delivery failed and changes wait: a kick after 1, 2, 4, then
 * every 5 s (each one a single request at most; the service worker coalesces kicks), none while the
 * browser says offline (the `online` event kicks), none once the queue is empty or needs a person
 * (signed out, update required).
 */
// The service worker's own steps (sw/queue/queue-status.ts), so the two never drift apart.
const PAGE_RETRY_BASE_MS = RETRY_BASE_MS;
export const PAGE_RETRY_CAP_MS = NETWORK_RETRY_CAP_MS;
/** A server that answered it cannot take the changes now (5xx, 408, 429) is asked at most this often, as the service worker does. */
const PAGE_RETRY_BUSY_SERVER_MS = SERVER_RETRY_CAP_MS;
const retry = {
  waiting: false,
  attempts: 0,
  cap: PAGE_RETRY_CAP_MS,
  timer: undefined as ReturnType<typeof setTimeout> | undefined,
  schedule(): void {
    clearTimeout(retry.timer);
    if (!retry.waiting) return;
    const delay = Math.min(retry.cap, PAGE_RETRY_BASE_MS * 2 ** retry.attempts);
    retry.timer = setTimeout(() => {
      if (!retry.waiting || !navigator.onLine) return;
      retry.attempts++;
      void kickServiceWorker();
      retry.schedule();
    }, delay);
  },
  /** What the service worker reported after a run. */
  reported(summary: QueueSummary, result: DeliveryResult): void {
    const failed = result.stoppedBy === 'network' || result.stoppedBy === 'server' || result.stoppedBy === 'limit';
    retry.waiting = failed && summary.total > 0 && !summary.status.signedOut && !summary.status.updateRequired;
    retry.cap = result.stoppedBy === 'server' ? PAGE_RETRY_BUSY_SERVER_MS : PAGE_RETRY_CAP_MS;
    if (!result.stoppedBy) retry.attempts = 0;
    retry.schedule();
  },
};

let liveConnected: boolean | undefined;

/** The database worker's live socket state: connecting again means data flows, so the queue tries at once. */
export function noteLiveConnection(connected: boolean): void {
  const reconnected = connected && liveConnected === false;
  liveConnected = connected;
  if (reconnected) void kickServiceWorker();
}

let started = false;

/** App open: hand over the session and kick; kick again whenever the network may be back. */
export function startQueueTriggers(session: Session): void {
  if (!supported() || started) return;
  started = true;
  // The page is unlocked here: its session has the tokens a new device credential needs.
  void handOverSession(loadSession() ?? session).then(() => kickServiceWorker());
  if (typeof BroadcastChannel !== 'undefined') {
    new BroadcastChannel(STATUS_CHANNEL).addEventListener('message', (event: MessageEvent) => {
      const message = event.data as { type?: string; summary?: QueueSummary; result?: DeliveryResult } | undefined;
      if (message?.type === 'fieldsync:status' && message.summary && message.result) retry.reported(message.summary, message.result);
    });
  }
  addEventListener('online', () => {
    retry.attempts = 0;
    void kickServiceWorker();
    // `online` can come before the connection is usable (and before the service worker sees it):
    // two more kicks cover that; each is a no-op once the queue is empty.
    for (const ms of ONLINE_RETRY_MS) setTimeout(() => navigator.onLine && void kickServiceWorker(), ms);
    retry.schedule();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void kickServiceWorker();
  });
  void checkBackgroundWakeUps();
}

const ONLINE_RETRY_MS = [2000, 6000];

/**
 * Finds out whether the browser will wake the service worker with no app open (shown when not),
 * and asks for Periodic Background Sync where it is granted: one more wake-up, at the browser's
 * pace (hours), for a queue that waits while nothing else happens.
 */
async function checkBackgroundWakeUps(): Promise<void> {
  const registration = (await navigator.serviceWorker.getRegistration().catch(() => undefined)) as SyncRegistration | undefined;
  if (!registration) return;
  if (!registration.sync) backgroundSync.value = 'unavailable';
  else {
    const permission = await navigator.permissions?.query({ name: 'background-sync' as PermissionName }).catch(() => undefined);
    const apply = () => {
      if (permission?.state === 'denied') backgroundSync.value = 'refused';
      else if (backgroundSync.value !== 'refused' || permission?.state === 'granted') backgroundSync.value = 'on';
    };
    apply();
    permission?.addEventListener('change', apply);
  }
  if (registration.periodicSync) {
    const periodic = await navigator.permissions?.query({ name: 'periodic-background-sync' as PermissionName }).catch(() => undefined);
    if (periodic?.state === 'granted') await registration.periodicSync.register(SYNC_TAG, { minInterval: 15 * 60_000 }).catch(() => undefined);
  }
}
