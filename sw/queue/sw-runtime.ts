/// <reference lib="webworker" />
import type { DeliveryResult } from './delivery.ts';
import { NETWORK_STATE_LAG_MS } from './coverage-return.ts';
import { OutboundQueue } from './outbound-queue.ts';
import {
  enqueueRows, setSession, STATUS_CHANNEL, SYNC_TAG, type OutboxDb, type OutboxMessage,
} from '../../client/queue/index.ts';

/**
 * How long one `sync` (or `periodicsync`) event may keep trying when it cannot hand over to a
 * fresh registration. Chromium ends an event after 3 minutes and counts that as a failure.
 */
export const SYNC_EVENT_BUDGET_MS = 150_000;
/**
 * Offline: how long the event waits before handing over to a fresh registration, so the browser's
 * network state (which lags the worker's) agrees; a registration made before that fires at once
 * into the dead link, again and again.
 */
const OFFLINE_GRACE_MS = NETWORK_STATE_LAG_MS;
/** A page's request, or any other event, starts a delivery after a failed one at most this often. */
export const NUDGE_MIN_GAP_MS = 2000;

type SyncRegistration = ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };

/** Failures worth another try without a person: the network, or a server that cannot take the changes now. */
const retryable = (result: DeliveryResult | undefined): boolean =>
  !!result && (result.stoppedBy === 'network' || result.stoppedBy === 'server' || result.stoppedBy === 'limit');

/**
 * Wires the outbound queue into the service worker. Every wake-up the platform gives starts or
 * resumes delivery: the worker's start and activation (a browser restart, an update), a page's
 * kick (app open, `online`, visible again, the live socket back, a timer while work waits),
 * Background Sync's `sync` event (also with no page open), `periodicsync` where the browser grants
 * it, any other request or message from a page of the origin, and the queue's own retry timer
 * while the worker lives. Pages learn the queue's state over a BroadcastChannel.
 *
 * A `sync` event does not fail for a failed delivery while it can help it. Chromium answers a
 * rejected `waitUntil` by scheduling the next attempt five minutes later (then 15, then never),
 * and a network that comes back sooner does not bring it forward. So the event keeps trying
 * itself, with the queue's short backoff; when the device goes offline it registers the tag
 * again and resolves: the browser holds that registration while offline and fires it as soon as
 * it is online. (When a new version waits, the event just ends: the new version can only take
 * over once it did, and delivers and registers on activation.) Chromium refuses a registration from a worker with no window
 * of the origin open, though: then the event stays, trying on every return of the network, for
 * up to 150 s, and only then rejects, so the browser at least keeps the registration (five
 * minutes, then 15) instead of dropping it.
 */
export interface OutboundQueueRuntimeOptions {
  /** The queue's database (default: `openOutboxDb()`); tests pass their own. */
  db?: OutboxDb;
  /** Default `SYNC_EVENT_BUDGET_MS`; tests shorten it. */
  syncEventBudgetMs?: number;
}

export function installOutboundQueue(scope: ServiceWorkerGlobalScope, options: OutboundQueueRuntimeOptions = {}): OutboundQueue {
  const channel = new BroadcastChannel(STATUS_CHANNEL);
  let syncEvents = 0;
  const registration = () => scope.registration as SyncRegistration;
  /** True when the tag is registered (refused: no window open, a site setting, or no Background Sync). */
  const registerSync = async (): Promise<boolean> => {
    const sync = registration().sync;
    if (!sync) return false;
    return sync.register(SYNC_TAG).then(() => true, () => false);
  };
  const queue: OutboundQueue = new OutboundQueue({
    ...(options.db ? { db: options.db } : {}),
    // Inside a sync event the event itself registers again when it ends (see holdSyncEvent).
    requestWakeUp: async () => {
      if (syncEvents === 0) await registerSync();
    },
    onResult: async (result) => {
      channel.postMessage({ type: 'fieldsync:status', summary: await queue.summary(), result });
    },
  });
  const deliver = () => queue.deliver();

  const updateWaits = () => !!registration().waiting;
  /** The body of a `sync` / `periodicsync` event: see above. */
  const holdSyncEvent = async (): Promise<void> => {
    syncEvents++;
    const started = Date.now();
    const deadline = started + (options.syncEventBudgetMs ?? SYNC_EVENT_BUDGET_MS);
    let result: DeliveryResult | undefined;
    try {
      // A new version waits: Chromium lets it take over only once this worker's events ended
      // (and holds the pages' requests meanwhile), and would fire a fresh registration on this
      // worker again at once. So end here; the new version delivers on activation and registers.
      if (updateWaits()) return;
      result = await deliver().catch(() => undefined);
      // Until the browser refuses a registration from here (no window of the origin open).
      let canHandOver = true;
      while (result === undefined || retryable(result)) {
        if (updateWaits()) return;
        if (canHandOver && !navigator.onLine) {
          await sleepUnless(Date.now() + OFFLINE_GRACE_MS, () => navigator.onLine);
          if (!navigator.onLine) {
            // Handed over to a fresh registration: the browser fires it when it is online.
            if (await registerSync()) return;
            canHandOver = false;
          }
        }
        if (Date.now() >= deadline) break;
        const last = queue.last?.at ?? Date.now();
        const due = Math.min(deadline, Math.max(Date.now() + 1000, last + await queue.retryDelay()));
        // Online: the next try after the backoff. Offline with no way to hand over: when the network is back.
        const wasOnline = navigator.onLine;
        await sleepUnless(wasOnline ? due : deadline, () => navigator.onLine !== wasOnline || updateWaits());
        if (!navigator.onLine || updateWaits()) continue;
        // Another trigger (a page's kick, the retry timer) may have run it meanwhile: no extra
        // request then, unless the network just came back (a run from before that proves nothing).
        const cameOnline = !wasOnline;
        result = !cameOnline && (queue.busy || (queue.last?.at ?? 0) > last) ? await queue.settled() : await deliver().catch(() => undefined);
      }
    } finally {
      syncEvents--;
    }
    if ((result !== undefined && !retryable(result)) || updateWaits()) return;
    if (await registerSync()) return;
    // Nothing else can keep a wake-up: failing keeps the registration for the browser's retry.
    throw new Error(`delivery incomplete after ${Math.round((Date.now() - started) / 1000)} s: ${result?.error ?? 'unknown error'}`);
  };

  scope.addEventListener('sync', (event) => {
    const syncEvent = event as ExtendableEvent & { tag: string };
    if (syncEvent.tag === SYNC_TAG) syncEvent.waitUntil(holdSyncEvent());
  });
  // Periodic Background Sync, where the browser grants it (installed apps with engagement): one more wake-up.
  scope.addEventListener('periodicsync' as keyof ServiceWorkerGlobalScopeEventMap, (event) => {
    const periodic = event as ExtendableEvent & { tag: string };
    if (periodic.tag === SYNC_TAG) periodic.waitUntil(holdSyncEvent());
  });

  /**
   * Any request or message from a page of the origin wakes this worker: when the last delivery
   * failed on the network (so work waits) and none runs now, that is a chance to try again, at
   * most every 2 s.
   */
  const nudge = (event: ExtendableEvent) => {
    const last = queue.last;
    // Only after the network failed: a busy server (5xx) is not helped by asking sooner than its backoff.
    if (queue.busy || !last || last.result.stoppedBy !== 'network' || Date.now() - last.at < NUDGE_MIN_GAP_MS) return;
    event.waitUntil(deliver().then(() => undefined, () => undefined));
  };
  scope.addEventListener('fetch', (event) => nudge(event));

  scope.addEventListener('message', (event) => {
    const message = event.data as OutboxMessage | undefined;
    if (!message || typeof message !== 'object' || !String(message.type).startsWith('fieldsync:')) {
      nudge(event);
      return;
    }
    const reply = (value: unknown) => event.ports[0]?.postMessage(value);
    const work = (async () => {
      switch (message.type) {
        case 'fieldsync:session':
          await setSession(await queue.database(), message.session);
          reply({ ok: true });
          await deliver();
          return;
        case 'fieldsync:enqueue':
          await enqueueRows(await queue.database(), message.collection, message.schemaVersion, message.rows);
          reply({ ok: true });
          await deliver();
          return;
        case 'fieldsync:status':
          reply(await queue.summary());
          return;
        case 'fieldsync:kick':
          reply({ ok: true });
          await deliver();
          return;
      }
    })();
    event.waitUntil(work.catch((error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) })));
  });

  // A browser restart or an update: the queue resumes as soon as the worker runs for any reason.
  // Not inside the event's waitUntil: activation (and with it every request of the pages) would
  // wait for the delivery, which can take a push timeout in a dead zone, and a wake-up
  // registration made from an activating worker is only answered once it is active.
  scope.addEventListener('activate', () => void deliver().catch(() => undefined));
  void deliver().catch(() => undefined);
  return queue;
}

/** Sleeps until `until` (epoch ms); false, early, as soon as `stop()` holds (checked every 250 ms). */
async function sleepUnless(until: number, stop: () => boolean): Promise<boolean> {
  for (;;) {
    if (stop()) return false;
    const left = until - Date.now();
    if (left <= 0) return true;
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(250, left)));
  }
}
