/**
 * A new tablet's first sync keeps the page free for the crew (issue #21): the database worker
 * tells the page about its progress a few times a second, not once per document received. A
 * status update per document (22,000 of them in bench:browser's first sync) kept the page's main
 * thread redrawing the progress line, and key presses in the ePCR form waited behind it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir, signInWithToken, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';
import { IMPORT_PAGE_SIZE } from '../../client/sync/first-sync-import.ts';

const SERVER_PORT = e2ePort(2617);
const POINTS = 6000;

describe('first sync progress (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: false });
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    await server.seed('units', [{ id: randomUUID(), callSign: 'P1', status: 'available', statusAt: offsetNow() }]);
    await server.seed('gps_points', Array.from({ length: POINTS }, (_, i) => ({
      id: randomUUID(), sourceType: 'unit', sourceId: 'P1', lat: 40 + i * 1e-5, lng: -75, recordedAt: offsetNow(new Date(Date.now() - (POINTS - i) * 100)),
    })));
  });

  afterAll(async () => {
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('reaches the page as a few progress updates, not one per document, and ends with every document counted', async () => {
    const profile = await newProfileDir();
    const ctx = await launchDevice(profile);
    // Every pull the device makes (the database worker's requests are the context's too), by
    // collection and the checkpoint it asked from: a new tablet must download each page once.
    const pulls = new Map<string, number>();
    ctx.on('request', (request) => {
      const url = new URL(request.url());
      const match = /\/([a-z_]+)\/pull$/.exec(url.pathname);
      if (!match) return;
      const key = `${match[1]} from ${url.searchParams.get('checkpoint') ?? 'the start'}`;
      pulls.set(key, (pulls.get(key) ?? 0) + 1);
    });
    // When the service worker takes control of the page (its first load is not controlled; it
    // claims it once active): the page reports it here, at once.
    let controlChangedAt: number | undefined;
    let controlChanged!: () => void;
    const controlled = new Promise<void>((resolve) => { controlChanged = resolve; });
    await ctx.exposeBinding('__fieldsyncControlChanged', () => {
      controlChangedAt ??= Date.now();
      controlChanged();
    });
    // A tablet on a slow link: each page of GPS points takes a moment, and the pages after the
    // first wait until the service worker has taken control of the page, so that the control
    // change (the outbound queue handed over to it) happens while the first sync is still under
    // way, which is what this test guards: the pages are still downloaded once each.
    const gpsAnswers: { from: string; documents: number; at: number }[] = [];
    let firstGpsPullAt: number | undefined;
    await ctx.route(/\/gps_points\/pull/, async (route) => {
      firstGpsPullAt ??= Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (new URL(route.request().url()).searchParams.has('checkpoint')) {
        await Promise.race([controlled, new Promise((resolve) => setTimeout(resolve, 60_000))]);
      }
      await route.continue();
    });
    ctx.on('response', (response) => {
      const url = new URL(response.url());
      if (!/\/gps_points\/pull$/.test(url.pathname) || response.status() !== 200) return;
      const from = url.searchParams.get('checkpoint') ?? 'the start';
      void response.json().then((body: { documents?: unknown[] }) => {
        gpsAnswers.push({ from, documents: body.documents?.length ?? 0, at: Date.now() });
      }, () => undefined);
    });
    try {
      await ctx.addInitScript(() => {
        navigator.serviceWorker?.addEventListener('controllerchange', () => {
          void (window as unknown as { __fieldsyncControlChanged(): Promise<void> }).__fieldsyncControlChanged();
        });
      });
      // Counts every status the page's database handle takes, from the moment the app exposes it.
      await ctx.addInitScript(() => {
        const w = window as unknown as { __statusUpdates: number; __fieldsync?: unknown };
        w.__statusUpdates = 0;
        Object.defineProperty(window, 'fieldsync', {
          configurable: true,
          get: () => w.__fieldsync,
          set(value: { db?: { status?: { subscribe(fn: () => void): void } } } | undefined) {
            w.__fieldsync = value;
            value?.db?.status?.subscribe(() => void w.__statusUpdates++);
          },
        });
      });
      const page = ctx.pages()[0] ?? await ctx.newPage();
      watchConsole(page, 'P1', errors);
      await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-progress:P1`, '/crew/');
      const done = await page.waitForFunction(() => {
        const s = (window as unknown as { fieldsync?: { db: { status: { value?: { initial: { done: boolean; received: number } } } } } }).fieldsync?.db.status.value;
        return s?.initial.done ? s.initial.received : undefined;
      }, undefined, { timeout: 300_000, polling: 500 });
      const received = Number(await done.jsonValue());
      const updates = await page.evaluate(() => (window as unknown as { __statusUpdates: number }).__statusUpdates);
      const gpsReceived = await page.evaluate(() => (window as unknown as { fieldsync: { db: { status: { value: { initial: { collections: Record<string, { received: number }> } } } } } })
        .fieldsync.db.status.value.initial.collections['gps_points']!.received);
      console.log(`[first sync] ${received} documents received (${gpsReceived} GPS points), ${updates} status updates on the page; pulls: ${JSON.stringify(Object.fromEntries(pulls))}`);
      // The service worker took control while GPS pages were still being pulled: after the first
      // pull had gone out, before the last page with points had come back.
      const withPoints = gpsAnswers.filter((p) => p.documents > 0);
      console.log(`[first sync] control changed ${controlChangedAt === undefined ? 'never' : `${controlChangedAt - firstGpsPullAt!} ms after the first GPS pull`}; GPS pages with points back at ${withPoints.map((p) => p.at - firstGpsPullAt!).join(', ')} ms`);
      expect(controlChangedAt, 'the service worker never took control of the page during the first sync').toBeDefined();
      expect(controlChangedAt!).toBeGreaterThan(firstGpsPullAt!);
      expect(withPoints.some((p) => p.at > controlChangedAt!), 'every GPS page had come back before the control change').toBe(true);
      // Each page of the slice downloaded once. Only a collection's last checkpoint (its empty
      // page, "nothing new") may be asked again, when the live stream re-checks after subscribing.
      const gpsPages = [...pulls].filter(([key]) => key.startsWith('gps_points '));
      // A new device imports its slice in pages of IMPORT_PAGE_SIZE (first-sync-import.ts).
      expect(gpsPages.length).toBeGreaterThanOrEqual(Math.ceil(POINTS / IMPORT_PAGE_SIZE));
      const last = new Map<string, string>();
      for (const [key] of pulls) last.set(key.split(' ')[0]!, key);
      const repeated = [...pulls].filter(([key, n]) => n > 1 && last.get(key.split(' ')[0]!) !== key);
      expect(repeated).toEqual([]);
      // The progress line counts the documents there are, not each of them twice.
      expect(gpsReceived).toBe(POINTS);
      expect(received).toBeGreaterThanOrEqual(POINTS);
      // One update per document before; a few a second now (at most one per 5 documents even
      // if this busy machine made the sync last 5 minutes).
      expect(updates).toBeLessThan(POINTS / 5);
      expect(await page.evaluate(() => (window as unknown as { fieldsync: { db: { api: { count(c: string): Promise<number> } } } }).fieldsync.db.api.count('gps_points'))).toBe(POINTS);
    } finally {
      await closeDevice(ctx);
      await removeProfileDir(profile);
    }
  }, 400_000);

  it('cut by a reload, goes on counting from what the device already holds, never from zero', async () => {
    const profile = await newProfileDir();
    const ctx = await launchDevice(profile);
    type Initial = { done: boolean; received: number };
    const initial = () => {
      const s = (window as unknown as { fieldsync?: { db: { status: { value?: { role: string; initial: Initial } } } } }).fieldsync?.db.status.value;
      return s && Object.keys((s.initial as Initial & { collections: object }).collections).length ? s : undefined;
    };
    try {
      const page = ctx.pages()[0] ?? await ctx.newPage();
      watchConsole(page, 'P1-reload', errors);
      await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-progress-reload:P1`, '/crew/');
      // Wait until part of the first sync is on the device, then reload in the middle of it.
      let before = 0;
      for (const t0 = Date.now(); before < 1000 && Date.now() - t0 < 300_000; await new Promise((r) => setTimeout(r, 50))) {
        before = await page.evaluate(async () => {
          const fs = (window as unknown as { fieldsync?: { db: { api: { count(c: string): Promise<number> } } } }).fieldsync;
          return fs ? fs.db.api.count('gps_points') : 0;
        }).catch(() => 0);
      }
      await page.reload();
      const first = await page.waitForFunction(initial, undefined, { timeout: 120_000, polling: 50 });
      const shownAfterReload = (await first.jsonValue() as { initial: Initial }).initial;
      const done = await page.waitForFunction(() => {
        const s = (window as unknown as { fieldsync?: { db: { status: { value?: { initial: Initial } } } } }).fieldsync?.db.status.value;
        return s?.initial.done ? s.initial.received : undefined;
      }, undefined, { timeout: 300_000, polling: 500 });
      const received = Number(await done.jsonValue());
      console.log(`[first sync] reload after ${before} stored: ${shownAfterReload.received} shown at once, ${received} at the end`);
      if (!shownAfterReload.done) expect(shownAfterReload.received).toBeGreaterThanOrEqual(before);
      expect(received).toBeGreaterThanOrEqual(POINTS);
    } finally {
      await closeDevice(ctx);
      await removeProfileDir(profile);
    }
  }, 700_000);
});
