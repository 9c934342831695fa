/**
 * Issue #21 (2): the end of an offline shift. A tablet (one service worker queue) holds an MDT's
 * 8 hours offline at one GPS point per 5 s (5,760 points) and a crew's 3 finalized ePCRs; every
 * page is closed; the network comes back at the socket: the browser runs in its own network
 * namespace behind a veth link (test/e2e/support/link.ts) that is brought down and up, not
 * DevTools' emulation. Timed on the server (commit of each document, from the store): the first
 * ePCR, all ePCRs, everything, with the service worker awake and with it stopped before coverage
 * returns; the ceiling is the same rows POSTed from the service worker by plain `fetch` in the
 * same run (retried every 50 ms until the network answers, then the batches back to back).
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir, signInWithToken, waitForServiceWorker } from '../../test/e2e/support/browser.ts';
import { createHttpCable } from '../../test/e2e/support/http-cable.ts';
import { createLink, linkAvailable } from '../../test/e2e/support/link.ts';
import { recordBackgroundSync, serviceWorkerControl, waitForQueueMode } from '../../test/e2e/support/outbox.ts';
import { E2eServer, offsetNow, TENANT } from '../../test/e2e/support/server.ts';
import { measure, type Budget } from '../lib/budget.ts';
import { epcrDoc } from '../lib/docs.ts';

/** tsx (esbuild keepNames) wraps named functions in `__name(...)`: the browser needs it too for code passed to evaluate. */
export const KEEP_NAMES = 'globalThis.__name ??= (f) => f';

export const SHIFT_POINTS = 8 * 3600 / 5;
export const SHIFT_EPCRS = 3;
const UNIT = 'S1';
const TOKEN = `dev:${TENANT}:crew:bench-shift:${UNIT}`;

export interface ShiftRun {
  variant: 'service worker awake' | 'service worker stopped' | 'plain fetch from the service worker (ceiling)';
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
   * What the browser's Background Sync did after the link came up (DevTools' recorder), e.g.
   * "1.2 s Dispatched sync event": a stopped worker cannot start before the browser dispatches it.
   */
  backgroundSync: string[];
}

export interface ShiftResult {
  runs: ShiftRun[];
  /** Variants that did not finish in their budget, with what they reached. */
  unfinished: { variant: string; reached: string; error: string }[];
}

export async function shiftBenchmark(options: { serverPort: number; cablePort: number; log: (m: string) => void; budgetMs?: number }): Promise<ShiftResult | { skipped: string }> {
  if (!linkAvailable()) return { skipped: 'needs root, iproute2 and socat for a real network link (test/e2e/support/link.ts)' };
  const { log } = options;
  const server = new E2eServer(options.serverPort, { workflows: false, cablePorts: [options.cablePort] });
  await server.start();
  const link = createLink(options.cablePort);
  const cable = await createHttpCable(options.cablePort, options.serverPort, link.hostAddress);
  const profile = await newProfileDir();
  let ctx: BrowserContext | undefined;
  const result: ShiftResult = { runs: [], unfinished: [] };
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

    const variants: ShiftRun['variant'][] = ['service worker awake', 'service worker stopped', 'plain fetch from the service worker (ceiling)'];
    for (const variant of variants) {
      const run = await measure(`shift backlog, ${variant}`, options.budgetMs ?? 120_000, async (budget) => {
        const ids = { epcrs: Array.from({ length: SHIFT_EPCRS }, () => randomUUID()), gps: Array.from({ length: SHIFT_POINTS }, () => randomUUID()) };
        requests.length = 0;
        // The app is open when coverage ends (it also wakes a service worker the previous variant stopped).
        const appPage = await ctx!.newPage();
        await appPage.goto(`${cable.origin}/crew/`);
        await appPage.getByTestId('status-bar').waitFor();
        await waitForQueueMode(appPage);
        link.down();
        budget.reached = 'link down';
        await budget.waitFor(() => appPage.evaluate(() => !navigator.onLine), 'the page to see it is offline', { everyMs: 100 });
        if (variant === 'plain fetch from the service worker (ceiling)') {
          await armCeiling(ctx!, cable.origin, ids);
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
        if (variant === 'service worker stopped') await control.stopWorkers();
        const recorder = await recordBackgroundSync(ctx!);
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
        const backgroundSync = recorder.log.filter((e) => e.at >= t0).map((e) => `${((e.at - t0) / 1000).toFixed(2)} s ${e.event}`);
        await recorder.close();
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
        } satisfies ShiftRun;
      }, log);
      if (run.ok) {
        result.runs.push(run.value);
        const r = run.value;
        log(`  shift backlog, ${variant}: first ePCR ${r.firstEpcrMs} ms, all ePCRs ${r.allEpcrsMs} ms, everything ${r.everythingMs} ms, ePCRs first: ${r.epcrsFirst}, ${r.pushRequests} pushes, longest idle ${r.longestIdleMs} ms`);
        log(`    pushes: ${r.requests.map((q) => `${q.collection} ${q.startMs}–${q.endMs}`).join(', ')}`);
        if (r.backgroundSync.length > 0) log(`    Background Sync: ${r.backgroundSync.join(', ')}`);
      } else {
        result.unfinished.push({ variant, reached: run.reached, error: run.error });
      }
      link.up();
    }
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

/**
 * The ceiling: the same rows, held in the service worker's memory, POSTed by plain `fetch` in
 * the same batches as the queue (the reports, then the points 2,000 at a time), the first batch
 * retried every 50 ms until the network answers. No IndexedDB, no queue, no compression.
 */
async function armCeiling(ctx: BrowserContext, origin: string, ids: { epcrs: string[]; gps: string[] }): Promise<void> {
  const worker = ctx.serviceWorkers().filter((w) => w.url().startsWith(origin)).at(-1) ?? await ctx.waitForEvent('serviceworker', { timeout: 10_000 });
  const recordedAt = offsetNow(new Date(Date.now() - 3_600_000));
  const bodies = [
    { collection: 'epcrs', rows: ids.epcrs.map((id, i) => ({ newDocumentState: { ...epcrDoc(TENANT, i, UNIT), id, status: 'finalized' } })) },
    ...chunks(ids.gps, 2000).map((chunk) => ({
      collection: 'gps_points',
      rows: chunk.map((id, j) => ({ newDocumentState: { id, tenantId: TENANT, rev: `1-ceiling${j}`, _deleted: false, sourceType: 'unit', sourceId: UNIT, lat: 39.85 + j * 1e-5, lng: -75.35 - j * 1e-5, recordedAt } })),
    })),
  ].map((b) => ({ url: `${origin}/api/sync/${b.collection}/push?schemaVersion=${schemaVersionOf(b.collection as 'epcrs')}&conflicts=merge`, body: JSON.stringify(b.rows) }));
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

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export type { Budget };
