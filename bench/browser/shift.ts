/**
 * Issue #21 (2): the end of an offline shift. A tablet (one service worker queue) holds an MDT's
 * 8 hours offline at one GPS point per 5 s (5,760 points) and a crew's 3 finalized ePCRs; every
 * page is closed; the network comes back at the socket: the browser runs in its own network
 * namespace behind a veth link (test/e2e/support/link.ts) that is brought down and up, not
 * DevTools' emulation. Timed on the server (commit of each document, from the store): the first
 * ePCR, all ePCRs, everything, with the service worker awake and with it stopped before coverage
 * returns. Two ceilings, in the same run: the same rows POSTed by plain `fetch` from an awake
 * service worker (retried every 50 ms until the network answers, then the batches back to back),
 * and from a service worker that was stopped like ours and is woken by the same Background Sync
 * (its own small worker on the device's origin, the rows waiting in a plain IndexedDB store):
 * a stopped worker cannot start before Chromium says the network is back, so that is the fair
 * baseline for our stopped case.
 *
 * Each run also says where the time went after the link came up: the kernel's link and address
 * events (what Chromium's network-change delay counts from), when pages heard `online`, when the
 * worker was started and the sync event dispatched, and when the first push reached the server.
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir, signInWithToken, waitForServiceWorker } from '../../test/e2e/support/browser.ts';
import { createHttpCable, type HttpCable } from '../../test/e2e/support/http-cable.ts';
import { createLink, linkAvailable, type LinkOptions } from '../../test/e2e/support/link.ts';
import { recordBackgroundSync, serviceWorkerControl, waitForQueueMode, watchNetworkState } from '../../test/e2e/support/outbox.ts';
import { E2eServer, offsetNow, TENANT } from '../../test/e2e/support/server.ts';
import { measure, type Budget } from '../lib/budget.ts';
import { epcrDoc } from '../lib/docs.ts';

/** tsx (esbuild keepNames) wraps named functions in `__name(...)`: the browser needs it too for code passed to evaluate. */
export const KEEP_NAMES = 'globalThis.__name ??= (f) => f';

export const SHIFT_POINTS = 8 * 3600 / 5;
export const SHIFT_EPCRS = 3;
const UNIT = 'S1';
const TOKEN = `dev:${TENANT}:crew:bench-shift:${UNIT}`;

export const SHIFT_VARIANTS = [
  'service worker awake', 'service worker stopped', 'plain fetch from the service worker (ceiling)', 'plain fetch from a stopped service worker (ceiling)',
] as const;
/** The ceiling each of our variants is compared with (the awake one for both, the stopped one for the stopped case). */
export const AWAKE_CEILING = SHIFT_VARIANTS[2];
export const STOPPED_CEILING = SHIFT_VARIANTS[3];

export interface ShiftRun {
  variant: (typeof SHIFT_VARIANTS)[number];
  /** ms after the link came up. */
  firstEpcrMs: number;
  allEpcrsMs: number;
  everythingMs: number;
  /** Every ePCR committed before the first GPS point. */
  epcrsFirst: boolean;
  pushRequests: number;
  /** The longest time between one push's answer and the next push's arrival (ms). */
  longestIdleMs: number;
  /** Push requests with their arrival and answer times (ms after the link came up). */
  requests: { collection: string; startMs: number; endMs: number }[];
  /**
   * What the browser's Background Sync did from the moment the link went down (DevTools'
   * recorder; negative: before it came up), e.g. "1.52 s Dispatched sync event": a stopped worker
   * cannot start before the browser dispatches it.
   */
  backgroundSync: string[];
  /** Where the time went after the link came up (ms after link up; absent: not seen). */
  breakdown: ShiftBreakdown;
}

export interface ShiftBreakdown {
  /**
   * The kernel's link and address events inside the namespace after the link came up, e.g.
   * "27 ms 27: fsi… inet6 fe80::…/64 scope link": Chromium on Linux tells Background Sync 1.5 s
   * after the last link change and 2 s after the last address change
   * (NetworkChangeCalculatorParamsLinux), so an address event a second after the link (the
   * kernel's duplicate address detection, `--link-ipv6=dad`) moves it to about 3.5 s.
   */
  netlink: string[];
  /** A page's `online` event (Chromium announced the network to every renderer). */
  onlineEventMs?: number;
  /** `navigator.onLine` true (polled every 5 ms). */
  onLineMs?: number;
  /** This variant's service worker starting again and running (stopped variants). */
  workerStartingMs?: number;
  workerRunningMs?: number;
  /** DevTools' "Dispatched sync event" (Chromium logs it once the worker runs). */
  syncDispatchMs?: number;
  /** The first push reaching the server. */
  firstRequestMs?: number;
}

export interface ShiftResult {
  /** How the browser's side of the link got its IPv6 address (see shiftBenchmark). */
  linkIpv6: NonNullable<LinkOptions['ipv6']>;
  runs: ShiftRun[];
  /** Variants that did not finish in their budget, with what they reached. */
  unfinished: { variant: string; reached: string; error: string }[];
}

/**
 * `linkIpv6`: how the browser's side of the link gets its IPv6 address (`--link-ipv6=dad|at-once|off`,
 * test/e2e/support/link.ts LinkOptions). Default 'at-once': the address comes with the link and
 * Chromium tells Background Sync 1.5 s later, every run; with the kernel's default ('dad') that is
 * 1.5 s or 3-4 s at random, which hides what our code changes. Either way a stopped worker cannot
 * start sooner: the stopped ceiling waits as long.
 */
export async function shiftBenchmark(options: { serverPort: number; cablePort: number; log: (m: string) => void; budgetMs?: number; linkIpv6?: LinkOptions['ipv6'] }): Promise<ShiftResult | { skipped: string }> {
  if (!linkAvailable()) return { skipped: 'needs root, iproute2 and socat for a real network link (test/e2e/support/link.ts)' };
  const { log } = options;
  const server = new E2eServer(options.serverPort, { workflows: false, cablePorts: [options.cablePort] });
  await server.start();
  const link = createLink(options.cablePort, { ipv6: options.linkIpv6 ?? 'at-once' });
  const cable = await createHttpCable(options.cablePort, options.serverPort, link.hostAddress);
  const profile = await newProfileDir();
  let ctx: BrowserContext | undefined;
  const result: ShiftResult = { linkIpv6: options.linkIpv6 ?? 'at-once', runs: [], unfinished: [] };
  // Server-side clocks: each document's commit and each push request's arrival and answer.
  const commits = new Map<string, { at: number; seq: number }>();
  const requests: { collection: string; start: number; end: number }[] = [];
  const app = server.server!.app;
  app.store.onCommit((event) => {
    const at = Date.now();
    for (const doc of event.documents) commits.set(`${event.collection}/${doc.id}`, { at, seq: doc.seq });
  });
  app.server.on('request', (req, res) => {
    const push = /\/api\/sync\/([a-z_]+)\/push/.exec(req.url ?? '');
    if (!push) return;
    const entry = { collection: push[1]!, start: Date.now(), end: 0 };
    requests.push(entry);
    res.on('finish', () => (entry.end = Date.now()));
  });
  try {
    await server.seed('units', [{ id: randomUUID(), callSign: UNIT, status: 'available', statusAt: offsetNow() }]);
    ctx = await launchDevice(profile, { executablePath: link.executablePath, timezoneId: 'America/New_York' });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    await signInWithToken(page, cable.origin, TOKEN, '/crew/');
    await waitForServiceWorker(page);
    await waitForQueueMode(page);
    const control = await serviceWorkerControl(ctx, cable.origin);
    const network = await watchNetworkState(ctx);

    for (const variant of SHIFT_VARIANTS) {
      const run = await measure(`shift backlog, ${variant}`, options.budgetMs ?? 120_000, async (budget) => {
        const ids = { epcrs: Array.from({ length: SHIFT_EPCRS }, () => randomUUID()), gps: Array.from({ length: SHIFT_POINTS }, () => randomUUID()) };
        requests.length = 0;
        // The app is open when coverage ends (it also wakes a service worker the previous variant stopped).
        const appPage = await ctx!.newPage();
        await appPage.goto(`${cable.origin}/crew/`);
        await appPage.getByTestId('status-bar').waitFor();
        await waitForQueueMode(appPage);
        if (variant === STOPPED_CEILING) await installCeilingWorker(appPage, cable);
        // From before the link goes down: a sync event that failed offline (and the backoff it
        // would cost) shows here.
        const recorder = await recordBackgroundSync(ctx!);
        // Stopped and closed however the run ends (a budget that ran out throws): a netlink watch
        // or a CDP session left open would outlive the run and disturb the next variant.
        let netlink: Awaited<ReturnType<typeof link.watch>> | undefined;
        try {
          link.down();
          budget.reached = 'link down';
          await budget.waitFor(() => appPage.evaluate(() => !navigator.onLine), 'the page to see it is offline', { everyMs: 100 });
          // Pages hear the link at once, Background Sync only once Chromium announces the change
          // (net/base/network_change_notifier.cc: 0.5 s after a link change, 2 s after an address
          // change, while online). A shift's rows are written long after; a sync registered before
          // would fire at once, fail offline, and (when the worker is then stopped) be held back
          // five minutes by Chromium's retry delay.
          await new Promise((r) => setTimeout(r, 2500));
          if (variant === AWAKE_CEILING) {
            await armCeiling(ctx!, cable.origin, ceilingBodies(cable.origin, ids));
          } else if (variant === STOPPED_CEILING) {
            await armStoppedCeiling(appPage, ceilingBodies(cable.origin, ids));
          } else {
            await queueShift(appPage, ids);
            budget.reached = 'rows written offline';
            await budget.waitFor(async () => Number(await appPage.getByTestId('status-bar').getAttribute('data-queued')) === SHIFT_POINTS + SHIFT_EPCRS, 'the queue to hold the shift', { everyMs: 200 });
            budget.reached = `${SHIFT_POINTS + SHIFT_EPCRS} rows queued in the service worker`;
          }
          // Every page of the app closed (the control page is about:blank and never opens the app).
          for (const p of ctx!.pages()) if (p.url().startsWith(cable.origin)) await p.close();
          // The service worker tried while offline and failed; let its failures settle as on a tablet in a dead zone.
          await new Promise((r) => setTimeout(r, 3000));
          const stopped = variant === 'service worker stopped' || variant === STOPPED_CEILING;
          if (stopped) await control.stopWorkers();
          netlink = await link.watch();
          const t0 = Date.now();
          link.up();
          budget.reached = 'link up';
          const seen = (collection: string, id: string) => commits.get(`${collection}/${id}`);
          await budget.waitFor(() => {
            const epcrs = ids.epcrs.filter((id) => seen('epcrs', id)).length;
            let gps = 0;
            for (const id of ids.gps) if (seen('gps_points', id)) gps++;
            budget.reached = `${epcrs} of ${SHIFT_EPCRS} ePCRs and ${gps} of ${SHIFT_POINTS} GPS points on the server after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
            return epcrs === SHIFT_EPCRS && gps === SHIFT_POINTS;
          }, 'everything on the server', { everyMs: 50 });
          netlink.stop();
          const backgroundSync = recorder.log.map((e) => `${((e.at - t0) / 1000).toFixed(2)} s ${e.event}${e.details['Delay'] ? ` (delay ${e.details['Delay']} ms)` : ''}${e.details['Status'] ? ` (${e.details['Status']})` : ''}`);
          const netlinkEvents = netlink.events;
          const after = (at: number | undefined) => (at === undefined ? undefined : at - t0);
          const seenNetwork = await network.since(t0);
          const worker = variant === STOPPED_CEILING ? CEILING_WORKER_PATH : '/service-worker.js';
          const states = control.runningStates.filter((s) => s.at >= t0 && s.scriptURL === `${cable.origin}${worker}`);
          const epcrCommits = ids.epcrs.map((id) => seen('epcrs', id)!);
          const gpsCommits = ids.gps.map((id) => seen('gps_points', id)!);
          const pushes = requests.filter((r) => r.start >= t0 - 100).sort((a, b) => a.start - b.start);
          let longestIdle = 0;
          for (let i = 1; i < pushes.length; i++) longestIdle = Math.max(longestIdle, pushes[i]!.start - pushes[i - 1]!.end);
          return {
            variant,
            firstEpcrMs: Math.min(...epcrCommits.map((c) => c.at)) - t0,
            allEpcrsMs: Math.max(...epcrCommits.map((c) => c.at)) - t0,
            everythingMs: Math.max(...epcrCommits.map((c) => c.at), ...gpsCommits.map((c) => c.at)) - t0,
            epcrsFirst: Math.max(...epcrCommits.map((c) => c.seq)) < Math.min(...gpsCommits.map((c) => c.seq)),
            pushRequests: pushes.length,
            longestIdleMs: longestIdle,
            requests: pushes.map((r) => ({ collection: r.collection, startMs: r.start - t0, endMs: r.end - t0 })),
            backgroundSync,
            breakdown: withoutUndefined({
              netlink: netlinkEvents.map((e) => `${e.at - t0} ms ${e.line.slice(0, 90)}`),
              onlineEventMs: after(seenNetwork.find((e) => e.what === 'online event')?.at),
              onLineMs: after(seenNetwork.find((e) => e.what === 'navigator.onLine true')?.at),
              workerStartingMs: stopped ? after(states.find((s) => s.runningStatus === 'starting')?.at) : undefined,
              workerRunningMs: stopped ? after(states.find((s) => s.runningStatus === 'running')?.at) : undefined,
              syncDispatchMs: after(recorder.log.find((e) => e.at >= t0 && e.event === 'Dispatched sync event')?.at),
              firstRequestMs: pushes[0] ? pushes[0].start - t0 : undefined,
            }),
          } satisfies ShiftRun;
        } finally {
          netlink?.stop();
          await recorder.close().catch(() => {});
        }
      }, log);
      if (run.ok) {
        result.runs.push(run.value);
        const r = run.value;
        log(`  shift backlog, ${variant}: first ePCR ${r.firstEpcrMs} ms, all ePCRs ${r.allEpcrsMs} ms, everything ${r.everythingMs} ms, ePCRs first: ${r.epcrsFirst}, ${r.pushRequests} pushes, longest idle ${r.longestIdleMs} ms`);
        log(`    pushes: ${r.requests.map((q) => `${q.collection} ${q.startMs}–${q.endMs}`).join(', ')}`);
        if (r.backgroundSync.length > 0) log(`    Background Sync: ${r.backgroundSync.join(', ')}`);
        log(`    ${describeBreakdown(r)}`);
        for (const line of r.breakdown.netlink) log(`      netlink ${line}`);
      } else {
        result.unfinished.push({ variant, reached: run.reached, error: run.error });
      }
      link.up();
    }
    await network.close();
    await control.close();
  } finally {
    if (ctx) await closeDevice(ctx).catch(() => {});
    await cable.close();
    link.dispose();
    await server.dispose();
    await removeProfileDir(profile);
  }
  return result;
}

/** The MDT's 8 hours (a point per 5 s) and the crew's 3 finalized reports, written through the app while offline. */
async function queueShift(page: Page, ids: { epcrs: string[]; gps: string[] }): Promise<void> {
  const epcrs = ids.epcrs.map((id, i) => ({ ...epcrDoc(TENANT, i, UNIT), id, status: 'finalized', rev: undefined, _deleted: undefined }));
  await page.evaluate(KEEP_NAMES);
  await page.evaluate(async ({ tenantId, unitId, gpsIds, epcrs }) => {
    const api = (window as unknown as { fieldsync: { db: { api: { bulkInsert(c: string, d: unknown[]): Promise<number> } } } }).fieldsync.db.api;
    const pad = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
    const stamp = (d: Date) => {
      const off = -d.getTimezoneOffset();
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${off < 0 ? '-' : '+'}${pad(off / 60)}:${pad(off % 60)}`;
    };
    const start = Date.now() - 8 * 3_600_000;
    for (let i = 0; i < gpsIds.length; i += 720) {
      await api.bulkInsert('gps_points', gpsIds.slice(i, i + 720).map((id, j) => ({
        id, tenantId, sourceType: 'unit', sourceId: unitId, lat: 39.85 + (i + j) * 1e-5, lng: -75.35 - (i + j) * 1e-5, recordedAt: stamp(new Date(start + (i + j) * 5000)),
      })));
    }
    // The reports come last: finalized at the end of the shift, after most of the points.
    for (const doc of epcrs) await api.bulkInsert('epcrs', [JSON.parse(JSON.stringify(doc))]);
  }, { tenantId: TENANT, unitId: UNIT, gpsIds: ids.gps, epcrs });
}

type CeilingBody = { url: string; body: string };

/**
 * The ceiling's requests: the same rows as the queue holds, in the same batches (the reports,
 * then the points 2,000 at a time), each body already serialised. No IndexedDB queue, no
 * compression.
 */
function ceilingBodies(origin: string, ids: { epcrs: string[]; gps: string[] }): CeilingBody[] {
  const recordedAt = offsetNow(new Date(Date.now() - 3_600_000));
  return [
    { collection: 'epcrs', rows: ids.epcrs.map((id, i) => ({ newDocumentState: { ...epcrDoc(TENANT, i, UNIT), id, status: 'finalized' } })) },
    ...chunks(ids.gps, 2000).map((chunk) => ({
      collection: 'gps_points',
      rows: chunk.map((id, j) => ({ newDocumentState: { id, tenantId: TENANT, rev: `1-ceiling${j}`, _deleted: false, sourceType: 'unit', sourceId: UNIT, lat: 39.85 + j * 1e-5, lng: -75.35 - j * 1e-5, recordedAt } })),
    })),
  ].map((b) => ({ url: `${origin}/api/sync/${b.collection}/push?schemaVersion=${schemaVersionOf(b.collection as 'epcrs')}&conflicts=merge`, body: JSON.stringify(b.rows) }));
}

/**
 * The ceiling with the worker awake: the bodies held in our service worker's memory, POSTed by
 * plain `fetch`, the first retried every 50 ms until the network answers, then the rest back to back.
 */
async function armCeiling(ctx: BrowserContext, origin: string, bodies: CeilingBody[]): Promise<void> {
  const ours = (w: { url(): string }) => w.url() === `${origin}/service-worker.js`;
  const worker = ctx.serviceWorkers().filter(ours).at(-1) ?? await ctx.waitForEvent('serviceworker', { predicate: ours, timeout: 10_000 });
  await worker.evaluate(KEEP_NAMES);
  await worker.evaluate(({ bodies, token }) => {
    const post = (b: { url: string; body: string }) => fetch(b.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: b.body });
    (self as unknown as { ceiling: Promise<void> }).ceiling = (async () => {
      for (;;) {
        try {
          const first = await post(bodies[0]!);
          if (first.ok) break;
        } catch { /* offline: again in 50 ms */ }
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const b of bodies.slice(1)) await post(b);
    })();
  }, { bodies, token: TOKEN });
}

/** The stopped ceiling's own service worker: served by the device's cable, its scope a path the apps never use. */
export const CEILING_WORKER_PATH = '/bench-ceiling/sw.js';
const CEILING_SCOPE = '/bench-ceiling/';
const CEILING_TAG = 'fieldsync-bench-ceiling';
const CEILING_DB = 'fieldsync-bench-ceiling';

/**
 * Woken by Background Sync (tag CEILING_TAG), it reads the bodies from a plain IndexedDB store
 * (one record, one read) and POSTs them by plain `fetch` as the awake ceiling does. Plain
 * JavaScript: it is served as it stands.
 */
const CEILING_WORKER = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('sync', (event) => {
  if (event.tag === ${JSON.stringify(CEILING_TAG)}) event.waitUntil(post());
});
function read() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(${JSON.stringify(CEILING_DB)}, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('shift');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const request = db.transaction('shift').objectStore('shift').get('shift');
      request.onsuccess = () => { db.close(); resolve(request.result); };
      request.onerror = () => reject(request.error);
    };
  });
}
async function post() {
  const { token, bodies } = await read();
  const send = (b) => fetch(b.url, { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: b.body });
  for (;;) {
    try {
      if ((await send(bodies[0])).ok) break;
    } catch { /* not yet: again in 50 ms */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const b of bodies.slice(1)) await send(b);
}
`;

/** Registers the stopped ceiling's worker (once; again is a no-op) from an app page and waits until it is active. */
async function installCeilingWorker(page: Page, cable: HttpCable): Promise<void> {
  cable.serve(CEILING_WORKER_PATH, { contentType: 'text/javascript', body: CEILING_WORKER });
  await page.evaluate(KEEP_NAMES);
  await page.evaluate(async ({ path, scope }) => {
    const registration = await navigator.serviceWorker.register(path, { scope });
    const worker = registration.installing ?? registration.waiting ?? registration.active!;
    if (worker.state === 'activated') return;
    // A worker whose install fails (its script threw, its install event rejected) turns redundant
    // and never activates: waiting only for 'activated' would hang the run until its budget ended.
    if (worker.state === 'redundant') throw new Error(`the ceiling's service worker ${path} became redundant before it activated (its install failed): see the page's console for the error`);
    await new Promise<void>((resolve, reject) => worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
      else if (worker.state === 'redundant') reject(new Error(`the ceiling's service worker ${path} became redundant before it activated (its install failed): see the page's console for the error`));
    }));
  }, { path: CEILING_WORKER_PATH, scope: CEILING_SCOPE });
}

/** Offline: the bodies into the ceiling worker's store, and its Background Sync registered (the browser fires it when it is online). */
async function armStoppedCeiling(page: Page, bodies: CeilingBody[]): Promise<void> {
  await page.evaluate(async ({ bodies, token, db: name, tag, scope }) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => open.result.createObjectStore('shift');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => resolve(open.result);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('shift', 'readwrite');
      tx.objectStore('shift').put({ token, bodies }, 'shift');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    const registration = await navigator.serviceWorker.getRegistration(scope);
    await (registration as unknown as { sync: { register(tag: string): Promise<void> } }).sync.register(tag);
  }, { bodies, token: TOKEN, db: CEILING_DB, tag: CEILING_TAG, scope: CEILING_SCOPE });
}

/** One line: link up → pages online → worker started → sync dispatched → first request → first ePCR → everything. */
export function describeBreakdown(r: ShiftRun): string {
  const b = r.breakdown;
  const step = (label: string, ms: number | undefined) => (ms === undefined ? [] : [`${label} ${ms} ms`]);
  return ['link up 0 ms', ...step('pages online', b.onlineEventMs), ...step('navigator.onLine', b.onLineMs), ...step('worker starting', b.workerStartingMs),
    ...step('worker running', b.workerRunningMs), ...step('sync dispatched', b.syncDispatchMs), ...step('first push at the server', b.firstRequestMs),
    `first ePCR committed ${r.firstEpcrMs} ms`, `everything ${r.everythingMs} ms`].join(' → ');
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export type { Budget };
