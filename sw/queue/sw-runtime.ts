/// <reference lib="webworker" />
import { OutboundQueue } from './outbound-queue.ts';
import { setSession, enqueueRows, type OutboxSession, type PushRowInput } from './outbox-db.ts';
import { refreshQueueSession } from './session-refresh.ts';

export const SYNC_TAG = 'fieldsync-outbox';
export const STATUS_CHANNEL = 'fieldsync-outbox';

export type OutboxMessage =
  | { type: 'fieldsync:session'; session: OutboxSession }
  | { type: 'fieldsync:kick' }
  | { type: 'fieldsync:status' }
  | { type: 'fieldsync:enqueue'; collection: string; schemaVersion: number; rows: PushRowInput[] };

/**
 * Wires the outbound queue into the service worker: delivery on start, on a page's kick (app
 * open, `online`), on Background Sync's `sync` event with no page open, and on its own backoff
 * timer while alive. Pages learn the queue's state over a BroadcastChannel.
 */
export function installOutboundQueue(scope: ServiceWorkerGlobalScope): OutboundQueue {
  const channel = new BroadcastChannel(STATUS_CHANNEL);
  // While a `sync` event is handled, a failed delivery rejects the event and the browser schedules
  // the retry itself. Registering the tag again from inside the event makes the browser fire it
  // again at once when it is online: with the server down or answering 5xx, a tight loop of
  // requests (one every few ms). So no wake-up request from inside a sync event.
  let syncEvents = 0;
  const queue: OutboundQueue = new OutboundQueue({
    refreshSession: async (session: OutboxSession) => refreshQueueSession(await queue.database(), session),
    requestWakeUp: async () => {
      if (syncEvents > 0) return;
      const registration = scope.registration as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };
      await registration.sync?.register(SYNC_TAG);
    },
  });
  const deliverAndReport = async () => {
    const result = await queue.deliver();
    channel.postMessage({ type: 'fieldsync:status', summary: await queue.summary(), result });
    return result;
  };

  scope.addEventListener('sync', (event) => {
    const syncEvent = event as ExtendableEvent & { tag: string };
    if (syncEvent.tag !== SYNC_TAG) return;
    syncEvents++;
    syncEvent.waitUntil(deliverAndReport().then((result) => {
      // A rejection tells the browser to schedule this sync again later.
      if (result.stoppedBy === 'network' || result.stoppedBy === 'server') throw new Error(result.error ?? 'delivery incomplete');
    }).finally(() => {
      syncEvents--;
    }));
  });

  scope.addEventListener('message', (event) => {
    const message = event.data as OutboxMessage | undefined;
    if (!message || typeof message !== 'object' || !String(message.type).startsWith('fieldsync:')) return;
    const reply = (value: unknown) => event.ports[0]?.postMessage(value);
    const work = (async () => {
      switch (message.type) {
        case 'fieldsync:session':
          await setSession(await queue.database(), message.session);
          reply({ ok: true });
          await deliverAndReport();
          return;
        case 'fieldsync:enqueue':
          await enqueueRows(await queue.database(), message.collection, message.schemaVersion, message.rows);
          reply({ ok: true });
          await deliverAndReport();
          return;
        case 'fieldsync:status':
          reply(await queue.summary());
          return;
        case 'fieldsync:kick':
          reply({ ok: true });
          await deliverAndReport();
          return;
      }
    })();
    event.waitUntil(work.catch((error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) })));
  });

  scope.addEventListener('activate', (event) => event.waitUntil(deliverAndReport().then(() => undefined, () => undefined)));
  void deliverAndReport().catch(() => undefined);
  return queue;
}
