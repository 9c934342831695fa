/**
 * Helpers for the service worker's outbound queue in the browser tests: DevTools control of the
 * service worker (fire a Background Sync event, stop the worker like an idle browser does), and
 * what the apps show of the queue.
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import {
  closeDevice, launchDevice, newProfileDir, removeProfileDir, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole,
} from './browser.ts';
import { OUTBOX_DB_NAME, SYNC_TAG } from '../../../client/queue/index.ts';
import { createHttpCable, type HttpCable } from './http-cable.ts';
import { waitBudgetMs } from '../../helpers/wait-budget.ts';
import type { Link } from './link.ts';
import { offsetNow, TENANT, type E2eServer } from './server.ts';


/**
 * A DevTools session on an `about:blank` page of the device (never an app page: opening an app
 * would itself wake the queue). The page is closed by `close()`.
 */
export async function serviceWorkerControl(ctx: BrowserContext, origin: string) {
  const page = await ctx.newPage();
  const cdp: CDPSession = await ctx.newCDPSession(page);
  const registrations = new Map<string, string>();
  /** Every change of a service worker's running state (starting, running, stopping, stopped), as DevTools reports it. */
  const runningStates: { at: number; scriptURL: string; runningStatus: string }[] = [];
  const lastState = new Map<string, string>();
  let changed: () => void = () => {};
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) {
      if (lastState.get(v.versionId) === v.runningStatus) continue;
      lastState.set(v.versionId, v.runningStatus);
      runningStates.push({ at: Date.now(), scriptURL: v.scriptURL, runningStatus: v.runningStatus });
    }
  });
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
    for (const r of list) {
      if (r.isDeleted) registrations.delete(r.scopeURL);
      else registrations.set(r.scopeURL, r.registrationId);
    }
    changed();
  });
  await cdp.send('ServiceWorker.enable');
  const registrationId = async (): Promise<string> => {
    // (Until shortly before the test's own limit: DevTools reports the registration when the browser gets to it.)
    const t0 = Date.now();
    const budget = waitBudgetMs(15_000);
    for (;;) {
      const id = [...registrations].find(([scope]) => scope.startsWith(origin))?.[1];
      if (id) return id;
      if (Date.now() - t0 > budget) throw new Error(`no service worker registration for ${origin}`);
      await new Promise<void>((resolve) => {
        changed = resolve;
        setTimeout(resolve, 100);
      });
    }
  };
  return {
    runningStates,
    /** What the browser does when it (re)tries a Background Sync: dispatches `sync` to the service worker. */
    async fireSync(tag = SYNC_TAG, lastChance = false): Promise<void> {
      await cdp.send('ServiceWorker.dispatchSyncEvent', { origin, registrationId: await registrationId(), tag, lastChance });
    },
    /** Stops every service worker, as the browser does with an idle one (its timers die with it). */
    async stopWorkers(): Promise<void> {
      await cdp.send('ServiceWorker.stopAllWorkers');
    },
    async close(): Promise<void> {
      await cdp.detach().catch(() => {});
      await page.close().catch(() => {});
    },
  };
}

/** One entry of DevTools' Background Services recorder for Background Sync. */
export interface SyncLogEntry { at: number; event: string; details: Record<string, string> }

/**
 * DevTools' Background Services recorder for Background Sync, on an `about:blank` page of the
 * device: every registration, dispatch and completion the browser itself made, with the delay it
 * chose for the next attempt. It only watches (it never fires an event); `close()` ends it.
 */
export async function recordBackgroundSync(ctx: BrowserContext) {
  const page = await ctx.newPage();
  const cdp: CDPSession = await ctx.newCDPSession(page);
  const log: SyncLogEntry[] = [];
  cdp.on('BackgroundService.backgroundServiceEventReceived', ({ backgroundServiceEvent: e }) => {
    log.push({ at: Date.now(), event: e.eventName, details: Object.fromEntries(e.eventMetadata.map((m: { key: string; value: string }) => [m.key, m.value])) });
  });
  await cdp.send('BackgroundService.startObserving', { service: 'backgroundSync' });
  await cdp.send('BackgroundService.setRecording', { shouldRecord: true, service: 'backgroundSync' });
  return {
    log,
    /** The log, one line an entry, times relative to `t0`. */
    print(t0: number): string {
      return log.map((e) => `${((e.at - t0) / 1000).toFixed(1)} s ${e.event} ${JSON.stringify(e.details)}`).join('\n');
    },
    async close(): Promise<void> {
      await cdp.send('BackgroundService.setRecording', { shouldRecord: false, service: 'backgroundSync' }).catch(() => {});
      await cdp.send('BackgroundService.clearEvents', { service: 'backgroundSync' }).catch(() => {});
      await cdp.send('BackgroundService.stopObserving', { service: 'backgroundSync' }).catch(() => {});
      await cdp.detach().catch(() => {});
      await page.close().catch(() => {});
    },
  };
}

/**
 * When the browser tells pages it is online or offline, on an `about:blank` page of the device
 * (no window of the app's origin, so it wakes nothing): each `online`/`offline` event and each
 * change of `navigator.onLine` (polled every 5 ms), with the time (epoch ms). All renderers hear
 * the browser's network state at once, so this is when the app's pages would.
 */
export async function watchNetworkState(ctx: BrowserContext) {
  const page = await ctx.newPage();
  await page.evaluate(() => {
    const seen: { at: number; what: string }[] = [];
    (window as unknown as { networkState: typeof seen }).networkState = seen;
    addEventListener('online', () => seen.push({ at: Date.now(), what: 'online event' }));
    addEventListener('offline', () => seen.push({ at: Date.now(), what: 'offline event' }));
    let last = navigator.onLine;
    setInterval(() => {
      if (navigator.onLine === last) return;
      last = navigator.onLine;
      seen.push({ at: Date.now(), what: `navigator.onLine ${last}` });
    }, 5);
  });
  return {
    /** What was seen since `since` (epoch ms). */
    async since(since: number): Promise<{ at: number; what: string }[]> {
      const all = await page.evaluate(() => (window as unknown as { networkState: { at: number; what: string }[] }).networkState);
      return all.filter((e) => e.at >= since);
    },
    async close(): Promise<void> {
      await page.close().catch(() => {});
    },
  };
}

/**
 * Denies Background Sync for the device, as a site setting can: DevTools' permission override
 * grants only what it names and denies the rest (shared/reference/browser-testing.md: a context
 * granted only geolocation refuses Background Sync). `clearPermissions` lifts it.
 */
export async function refuseBackgroundSync(ctx: BrowserContext, origin: string): Promise<void> {
  await ctx.grantPermissions(['geolocation'], { origin });
}

/** Waits until the page pushes through the service worker's queue (a service worker controls it). */
export async function waitForQueueMode(page: Page): Promise<void> {
  await waitFor(async () => (await page.getByTestId('status-bar').getAttribute('data-queue')) === 'service-worker', 'pushes through the service worker\'s queue');
}

/** How many changes the status bar says wait in the outbox. */
/** The revisions waiting in the outbound queue's database (client/queue/), as read by the page: "id@rev,…". */
export function queuedRevisions(page: Page): Promise<string> {
  return page.evaluate((name) => new Promise<string>((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const read = open.result.transaction('rows').objectStore('rows').getAll();
      read.onsuccess = () => {
        resolve((read.result as { id: string; rev?: string }[]).map((r) => `${r.id}@${r.rev ?? ''}`).join(','));
        open.result.close();
      };
      read.onerror = () => reject(read.error);
    };
  }), OUTBOX_DB_NAME);
}

/**
 * Waits until the queued revisions stop changing for 1.5 s: an edit (or a finalize) may still be
 * on its way into the queue after the count reached one, and the report should travel as one row.
 */
export async function queueSettled(page: Page): Promise<void> {
  let seen = '';
  let since = Date.now();
  await waitFor(async () => {
    const rev = await queuedRevisions(page);
    if (rev !== seen) [seen, since] = [rev, Date.now()];
    return Date.now() - since > 1500;
  }, 'the queued report to settle');
}

export async function queuedCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('status-bar').getAttribute('data-queued'));
}

/** The status bar's outbox line ("In the outbox: 1 patient care report, waiting since 14:02 (just now)"). */
export async function queueLine(page: Page): Promise<string> {
  const line = page.getByTestId('queue');
  return (await line.count()) > 0 ? textOf(line) : '';
}

/** The badge of the ePCR form on screen. */
export function formBadge(page: Page) {
  return page.locator('[data-testid="epcr-form"] [data-testid="badge"]').first();
}

export interface CrewDevice {
  ctx: BrowserContext;
  page: Page;
  cable: HttpCable;
  profile: string;
  unit: string;
  /** The ePCR stub the server made for the device's (first) call. */
  epcrId: string;
  /** The ePCR stubs of all its calls, in the order the calls were made. */
  epcrIds: string[];
  /** Closes every page, then the browser (the profile stays, as on a real device). */
  closeBrowser(): Promise<void>;
  /** Starts the browser again on the same profile; `offline` starts it without network. */
  relaunch(options?: { offline?: boolean }): Promise<BrowserContext>;
  /** Opens an app page of the device (an "app open"); the SW serves it even offline. */
  openApp(path?: string): Promise<Page>;
  dispose(): Promise<void>;
}

/**
 * A crew tablet for unit `unit`: its own profile and cable, `calls` calls assigned to it (the
 * server's workflow makes an ePCR stub for each), signed in with a developer token, the service
 * worker in control and pushes going through its queue.
 */
export async function startCrewDevice(server: E2eServer, options: {
  cablePort: number; unit: string; incidentNumber: string; errors: string[]; initScript?: () => void; calls?: number;
  /** Run the browser behind a real network link (support/link.ts) that the test brings down and up. */
  link?: Link;
}): Promise<CrewDevice> {
  const { unit, errors } = options;
  const cable = await createHttpCable(options.cablePort, server.port, options.link?.hostAddress);
  const profile = await newProfileDir();
  const incidentIds = Array.from({ length: options.calls ?? 1 }, () => randomUUID());
  await server.seed('units', [{ id: randomUUID(), callSign: unit, status: 'dispatched', statusAt: offsetNow(), currentIncidentId: incidentIds[0] }]);
  await server.seed('incidents', incidentIds.map((id, i) => ({
    id, incidentNumber: `${options.incidentNumber}-${i + 1}`, status: 'dispatched', complaint: 'fall from standing', priority: 'P2', assignedUnitId: unit,
    address: { street: `${40 + i} Queue St`, city: 'Chester', zip: '19013' }, timeline: { unitNotified: offsetNow(new Date(Date.now() - 300_000)) },
  })));
  const launch = async (extra: { offline?: boolean } = {}) => {
    const ctx = await launchDevice(profile, { timezoneId: 'America/New_York', ...extra, ...(options.link ? { executablePath: options.link.executablePath } : {}) });
    if (options.initScript) await ctx.addInitScript(options.initScript);
    ctx.on('page', (page) => watchConsole(page, unit, errors));
    for (const page of ctx.pages()) watchConsole(page, unit, errors);
    return ctx;
  };
  const device: CrewDevice = {
    ctx: await launch(),
    page: undefined as unknown as Page,
    cable, profile, unit, epcrId: '', epcrIds: [],
    async closeBrowser() {
      await closeDevice(device.ctx);
    },
    async relaunch(extra = {}) {
      device.ctx = await launch(extra);
      return device.ctx;
    },
    async openApp(path = '/crew/') {
      const page = await device.ctx.newPage();
      await page.goto(`${cable.origin}${path}`);
      await page.getByTestId('status-bar').waitFor();
      device.page = page;
      return page;
    },
    async dispose() {
      await closeDevice(device.ctx).catch(() => {});
      await cable.close();
      await removeProfileDir(profile);
    },
  };
  const page = device.ctx.pages()[0] ?? await device.ctx.newPage();
  device.page = page;
  await signInWithToken(page, cable.origin, `dev:${TENANT}:crew:tablet-${unit.toLowerCase()}:${unit}`, '/crew/');
  await waitForServiceWorker(page);
  await waitForQueueMode(page);
  for (const incidentId of incidentIds) {
    const link = page.locator(`[data-testid="call"][data-id="${incidentId}"] [data-testid="epcr-link"]`);
    await link.first().waitFor({ timeout: waitBudgetMs(20_000) });
    await waitFor(async () => (await link.first().locator('[data-testid="badge"]').getAttribute('data-state')) === 'synced', 'the report stub synced');
    device.epcrIds.push((await link.first().getAttribute('data-id'))!);
  }
  device.epcrId = device.epcrIds[0]!;
  return device;
}

/**
 * Between tests sharing a device: network up, nothing blocked, and the crew app open on its call
 * list (an app page is opened if every page was closed).
 */
export async function resetDevice(d: CrewDevice): Promise<Page> {
  d.cable.block(undefined);
  d.cable.stall(false);
  await d.cable.restore();
  await d.ctx.setOffline(false);
  const open = d.ctx.pages().find((p) => !p.isClosed() && p.url().startsWith(d.cable.origin));
  if (!open) return d.openApp('/crew/');
  d.page = open;
  await open.goto(`${d.cable.origin}/crew/`);
  await open.getByTestId('status-bar').waitFor();
  await waitForQueueMode(open);
  return open;
}

/**
 * Brings the device's real link (support/link.ts) down (`offline`) or up, and waits until the
 * page and the service worker both see it: what the worker does not see (a blip shorter than its
 * look at the network, which a loaded machine can delay) it cannot act on. Going down, it keeps
 * the link down 1.5 s more: a dead zone, not a blip. The queue looks at the network every 100 ms
 * while a request travels (sw/queue/coverage-return.ts, later on a busy machine), and a link back
 * before its next look is one it never saw go (that request then waits out its limit, as
 * documented). Seen missed once at load 5.
 */
export async function setCoverage(d: CrewDevice, link: Link, offline: boolean): Promise<void> {
  if (offline) link.down();
  else link.up();
  const want = !offline;
  const state = offline ? 'offline' : 'online';
  await waitFor(() => d.page.evaluate((online) => navigator.onLine === online, want), `the browser to see it is ${state}`);
  const worker = d.ctx.serviceWorkers().find((w) => w.url() === `${d.cable.origin}/service-worker.js`);
  if (worker) await waitFor(() => worker.evaluate((online) => navigator.onLine === online, want), `the service worker to see it is ${state}`);
  if (offline) await new Promise((resolve) => setTimeout(resolve, 1500));
}

/**
 * When a delivery last failed (the queue's status, client/queue/status.ts), as read by the page:
 * unchanged across a stretch means no delivery gave up on the network (or the server) in it.
 */
export function lastDeliveryFailure(page: Page): Promise<{ at?: number }> {
  return page.evaluate((name) => new Promise<{ at?: number }>((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const read = open.result.transaction('meta').objectStore('meta').get('status');
      read.onsuccess = () => {
        const status = read.result as { lastErrorAt?: number } | undefined;
        resolve({ at: status?.lastErrorAt });
        open.result.close();
      };
      read.onerror = () => reject(read.error);
    };
  }), OUTBOX_DB_NAME);
}

/** Opens the device's ePCR in the crew app (already on the crew app). */
export async function openReport(page: Page, epcrId: string): Promise<void> {
  await page.locator(`[data-testid="epcr-link"][data-id="${epcrId}"]`).click();
  await page.getByTestId('epcr-form').waitFor();
}
