/** A page's line to the service worker that delivers the queue (sw/queue/sw-runtime.ts answers). */
import type { OutboxMessage } from './messages.ts';

/** The service worker that can take messages now: the page's controller, or the active one of the registration. */
async function activeWorker(): Promise<ServiceWorker | undefined> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return undefined;
  const controller = navigator.serviceWorker.controller;
  if (controller) return controller;
  const registration = await navigator.serviceWorker.getRegistration().catch(() => undefined);
  return registration?.active ?? undefined;
}

/**
 * Tells the service worker `message`; nothing happens when none runs yet (what it needs is in
 * the queue's database: it reads that when it starts).
 */
export async function postToQueue(message: OutboxMessage): Promise<void> {
  const worker = await activeWorker();
  worker?.postMessage(message);
}
