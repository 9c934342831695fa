/// <reference lib="webworker" />
/**
 * The service worker of every fieldsync app (one, at `/service-worker.js`, scope `/`). Built by
 * vite-plugin-pwa (injectManifest): `self.__WB_MANIFEST` is replaced by the list of built files.
 *
 * Updates: a new version installs in the background and waits. The page shows "update
 * available, reload" (client/ui/runtime.ts) and sends SKIP_WAITING when the person agrees. That
 * is always safe: every keystroke is already in the device's database before the reload.
 */
import { clientsClaim } from 'workbox-core';
import type { PrecacheEntry } from 'workbox-precaching';
import { installMapArea } from './map-area.ts';
import { installPrecache } from './precache.ts';
import { installOutboundQueue } from './queue/index.ts';

const sw = self as unknown as ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | PrecacheEntry)[] };

installPrecache((self as unknown as { __WB_MANIFEST: (string | PrecacheEntry)[] }).__WB_MANIFEST);
// The map's tile archive: network first, the saved offline area when there is none (sw/map-area.ts).
installMapArea();

sw.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | undefined)?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

// The first install takes control of open pages at once, so they work offline from the first load.
clientsClaim();

// ── OUTBOUND SYNC QUEUE ───────────────────────────────────────────────────────────────────────
// sw/queue/: delivers the device's durable outbound queue (client/queue/). The apps' database
// workers put pushes into it (client/worker/engine.ts); this worker delivers them: at start and
// activation, on a page's `fieldsync:kick` (app open, `online`, new changes), on Background Sync
// (`sync`, tag SYNC_TAG, also with no page open) and on its own backoff timer. Pages
// send `fieldsync:session` after sign-in and every token refresh (client/session/handover.ts) and read
// the queue themselves to show it. A new version takes over the same database, so an update never
// loses what waits there.
installOutboundQueue(sw);
// ──────────────────────────────────────────────────────────────────────────────────────────────
