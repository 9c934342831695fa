/**
 * Issue 20's benchmark: the dispatch console with 500 live units and 200 open calls, in Chromium
 * (SwiftShader WebGL), with the agency's own tile archive (MapLibre) and, as the baseline in the
 * same run, with no tiles (the grid map):
 * - time to first full render: navigation to every unit row, every call row and the map drawn
 *   (tile map: MapLibre idle with its tiles loaded);
 * - frames per second (requestAnimationFrame callbacks) while every unit's position streams at
 *   1 Hz (500 GPS points a second, committed on the server, fanned out by the /live feed);
 * - the page's JS heap (V8's used heap after a forced garbage collection, through the DevTools
 *   protocol: `HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`) when streaming starts, every
 *   minute, and after the window, and its growth: the tile map streams for 10 minutes in the full
 *   run (2 with --quick); the grid map, the baseline for render time and frame rate, for 1 minute
 *   (30 s with --quick). Garbage collected first, so the growth is what the console keeps, not
 *   what it has yet to collect.
 * Bounded: each window ends by its clock, and each map's run has a budget (bench/lib/budget.ts):
 * one that cannot finish is reported with what it reached, and the run goes on.
 *
 * `npm run bench -- --only=dispatchmap [--quick]`, or alone: `node --import tsx bench/dispatch-map.ts [--quick] [--minutes=N]`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ensureClientBuilt } from '../server/apps/static.ts';
import { demoAgencySettings } from '../server/demo/agency.ts';
import { ADMIN, pathOf } from '../shared/protocol/index.ts';
import { CHROMIUM, signInWithToken } from '../test/e2e/support/browser.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, offsetNow, TENANT } from '../test/e2e/support/server.ts';
import { writeTestArchive } from '../server/maps/pmtiles-writer.ts';
import { measure, type Budget } from './lib/budget.ts';
import type { BenchFigure } from './lib/stats.ts';

const UNITS = 500;
const CALLS = 200;
const CENTER = { lat: 41.3948, lng: -73.454 };
const GL_FLAGS = ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--enable-precise-memory-info', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface DispatchMapOptions { quick?: boolean; minutes?: number; log?: (m: string) => void }

interface RunResult {
  renderMs?: number; fps?: number; heapStartMb?: number; heapEndMb?: number;
  /** Used heap after GC, by minute of streaming (minute 0: the start). */
  heapByMinute: number[];
  streamedPoints: number; seconds: number; load: string; reached: string;
}

/** Time to set up a map's run (server, seeding, sign-in, first render) and read its figures, beyond its streaming window. */
const SETUP_BUDGET_MS = 8 * 60_000;

/** A page whose main thread is saturated answers late or never: the window's figures wait this long for it. */
const PAGE_ANSWER_MS = 120_000;
function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the page did not answer ${what} within ${PAGE_ANSWER_MS / 1000} s (its main thread is saturated)`)), PAGE_ANSWER_MS); })]).finally(() => clearTimeout(timer));
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function runOne(browser: Browser, tiles: boolean, seconds: number, portOffset: number, result: RunResult, budget: Budget, log: (m: string) => void): Promise<void> {
  const server = new E2eServer(e2ePort(portOffset), { workflows: false });
  if (tiles) writeTestArchive(path.join(server.dataDir, 'tiles', 'bench.pmtiles'), CENTER, [10, 14], [190, 200, 210], 4);
  await server.start();
  const reached = (what: string) => {
    result.reached = what;
    budget.reached = what;
  };
  reached('server started');
  try {
    const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...demoAgencySettings(), ...(tiles ? { map: { tileArchive: 'bench.pmtiles' } } : {}) }),
    });
    if (!put.ok) throw new Error(`agency settings: ${put.status} ${await put.text()}`);
    const spread = (i: number, k: number) => ((i * k) % 1000) / 1000 - 0.5;
    const units = Array.from({ length: UNITS }, (_, i) => ({ callSign: `B${String(i).padStart(3, '0')}`, i }));
    await server.seed('units', units.map(({ callSign, i }) => ({
      id: randomUUID(), callSign, status: i % 3 === 0 ? 'available' : 'en_route', statusAt: offsetNow(),
      lastPosition: { lat: CENTER.lat + spread(i, 37) * 0.1, lng: CENTER.lng + spread(i, 53) * 0.1 }, lastPositionAt: offsetNow(),
    })));
    await server.seed('incidents', Array.from({ length: CALLS }, (_, i) => ({
      id: randomUUID(), incidentNumber: `BM-${String(i).padStart(4, '0')}`, status: 'new', priority: '2205001', complaint: 'bench call',
      address: { street: `${i} Bench Ave`, city: 'Danbury' }, location: { lat: CENTER.lat + spread(i, 71) * 0.1, lng: CENTER.lng + spread(i, 29) * 0.1 },
      timeline: { psapCall: offsetNow() },
    })));
    reached('seeded');
    log(`  ${tiles ? 'tile map' : 'grid map'}: ${UNITS} units and ${CALLS} calls seeded; signing in`);
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await ctx.newPage();
    await signInWithToken(page, server.url, `dev:${TENANT}:dispatcher:bench-console`, '/dispatch/');
    reached('signed in');
    log(`  ${tiles ? 'tile map' : 'grid map'}: signed in; measuring the first full render`);
    // First full render: a fresh navigation (the shell and the database are warm, as at a console's every start).
    const t0 = Date.now();
    await page.reload({ timeout: 120_000 });
    await page.waitForFunction(([u, c, withTiles]) => {
      const map = document.querySelector('[data-testid="dispatch-map"]');
      const mapDone = withTiles ? map?.getAttribute('data-state') === 'idle' : map?.getAttribute('data-map') === 'grid';
      return document.querySelectorAll('[data-testid="unit-row"]').length >= u && document.querySelectorAll('[data-testid="incident-row"]').length >= c && mapDone;
    }, [UNITS, CALLS, tiles] as const, { timeout: 300_000, polling: 100 });
    result.renderMs = Date.now() - t0;
    reached('rendered');
    log(`  ${tiles ? 'tile map' : 'grid map'}: first full render ${result.renderMs} ms (load ${load()})`);
    // V8's used heap after a full collection: what the page keeps (performance.memory counts garbage not yet collected too).
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const usage = await cdp.send('Runtime.getHeapUsage');
      return usage.usedSize / 1024 / 1024;
    };
    result.heapStartMb = await within('its heap size', heap());
    result.heapByMinute.push(result.heapStartMb);
    // As text: tsx names the functions it compiles (`__name`), which the page does not have.
    await page.evaluate('window.__frames = 0; (function tick() { window.__frames++; requestAnimationFrame(tick); })();');
    const started = Date.now();
    const frames0 = await within('the frame count', page.evaluate(() => (window as unknown as { __frames: number }).__frames));
    // Every unit reports once a second, as an MDT would; the tick is bounded by the window's clock.
    let tick = 0;
    // Stops early, reporting what it streamed, when the run's budget is nearly spent.
    while (Date.now() - started < seconds * 1000 && budget.left > 90_000) {
      const at = Date.now();
      const points = units.map(({ callSign, i }) => ({
        id: randomUUID(), sourceType: 'unit', sourceId: callSign, recordedAt: offsetNow(),
        lat: CENTER.lat + spread(i, 37) * 0.1 + Math.sin((tick + i) / 10) * 0.002, lng: CENTER.lng + spread(i, 53) * 0.1 + Math.cos((tick + i) / 10) * 0.002,
      }));
      await server.seed('gps_points', points);
      result.streamedPoints += points.length;
      tick++;
      if (tick % 60 === 0) {
        const mb = await within('its heap size', heap());
        result.heapByMinute.push(mb);
        reached(`streamed ${result.streamedPoints} points; heap ${mb.toFixed(1)} MB after ${tick / 60} min`);
        log(`  ${tiles ? 'tile map' : 'grid map'}: ${result.reached} (load ${load()})`);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - at))));
    }
    result.seconds = (Date.now() - started) / 1000;
    reached(`streamed ${result.streamedPoints} points in ${result.seconds.toFixed(0)} s`);
    log(`  ${tiles ? 'tile map' : 'grid map'}: ${result.reached}; reading frames and heap`);
    const frames1 = await within('the frame count', page.evaluate(() => (window as unknown as { __frames: number }).__frames));
    result.fps = (frames1 - frames0) / result.seconds;
    result.heapEndMb = await within('its heap size', heap());
    if (tick % 60 !== 0) result.heapByMinute.push(result.heapEndMb);
    result.load = load();
    log(`  ${tiles ? 'tile map' : 'grid map'}: ${result.fps.toFixed(1)} fps; heap ${result.heapStartMb.toFixed(1)} → ${result.heapEndMb.toFixed(1)} MB after GC (load ${result.load})`);
    reached('done');
    await ctx.close();
  } catch (error) {
    log(`  ${tiles ? 'tile map' : 'grid map'}: stopped after "${result.reached}": ${(error as Error).message}`);
  } finally {
    await server.dispose();
  }
}

/** One map's run within its budget: its figures, or as far as it got. */
async function budgetedRun(browser: Browser, tiles: boolean, seconds: number, portOffset: number, log: (m: string) => void): Promise<RunResult> {
  const result: RunResult = { heapByMinute: [], streamedPoints: 0, seconds: 0, load: load(), reached: 'nothing yet' };
  const outcome = await measure(`dispatch console, ${tiles ? 'tile' : 'grid'} map`, seconds * 1000 + SETUP_BUDGET_MS, (budget) => runOne(browser, tiles, seconds, portOffset, result, budget, log), log);
  if (!outcome.ok) result.reached = `not finished: ${outcome.error}`;
  return result;
}

export async function dispatchMapBenchmarks(options: DispatchMapOptions = {}): Promise<BenchFigure[]> {
  const log = options.log ?? ((m: string) => console.log(m));
  if (!existsSync(CHROMIUM)) {
    log(`dispatch map benchmark skipped: no Chromium at ${CHROMIUM}`);
    return [];
  }
  await ensureClientBuilt({ log });
  const minutes = options.minutes ?? (options.quick ? 2 : 10);
  const gridSeconds = Math.min(minutes * 60, options.quick ? 30 : 60);
  log(`dispatch console, ${UNITS} live units and ${CALLS} open calls, positions at 1 Hz each: grid map ${gridSeconds} s (baseline), tile map ${minutes} min (heap growth); load at start ${load()}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: GL_FLAGS });
  let grid: RunResult;
  let tiles: RunResult;
  try {
    grid = await budgetedRun(browser, false, gridSeconds, 2330, log);
    tiles = await budgetedRun(browser, true, minutes * 60, 2332, log);
  } finally {
    await browser.close();
  }
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? Number((a / b).toFixed(2)) : null);
  const fig = (name: string, value: number | undefined, unit: string, baseline: number | undefined, note: string): BenchFigure => ({
    name, value: Number((value ?? NaN).toFixed(1)), unit, baseline: baseline === undefined ? null : Number(baseline.toFixed(1)), ratio: ratio(value, baseline), note,
  });
  return [
    fig('dispatch 500 units/200 calls: first full render, tile map (baseline: grid map)', tiles.renderMs, 'ms', grid.renderMs, `reached: ${tiles.reached}; load ${tiles.load}`),
    fig('dispatch: frames per second while 500 positions/s stream, tile map (baseline: grid)', tiles.fps, 'fps', grid.fps, `${tiles.streamedPoints} points in ${tiles.seconds.toFixed(0)} s`),
    fig(`dispatch: JS heap after GC at the start of streaming, tile map (baseline: grid)`, tiles.heapStartMb, 'MB', grid.heapStartMb, `V8 used heap after HeapProfiler.collectGarbage`),
    fig(`dispatch: JS heap after GC after ${(tiles.seconds / 60).toFixed(1)} min of 1 Hz positions, tile map`, tiles.heapEndMb, 'MB', tiles.heapStartMb,
      `baseline: the same page at the start; by minute: ${tiles.heapByMinute.map((mb) => mb.toFixed(1)).join(', ')} MB; grid map after ${grid.seconds.toFixed(0)} s: ${grid.heapEndMb?.toFixed(1)} MB; reached: ${tiles.reached}; load ${tiles.load}`),
    fig(`dispatch: JS heap growth over ${(tiles.seconds / 60).toFixed(1)} min of 1 Hz positions (500 units), tile map`,
      tiles.heapEndMb !== undefined && tiles.heapStartMb !== undefined ? tiles.heapEndMb - tiles.heapStartMb : undefined, 'MB', undefined,
      `${tiles.streamedPoints} points; per minute ${tiles.heapEndMb !== undefined && tiles.heapStartMb !== undefined && tiles.seconds > 0 ? ((tiles.heapEndMb - tiles.heapStartMb) / (tiles.seconds / 60)).toFixed(2) : '?'} MB`),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const minutesArg = process.argv.find((a) => a.startsWith('--minutes='));
  dispatchMapBenchmarks({ quick: process.argv.includes('--quick'), ...(minutesArg ? { minutes: Number(minutesArg.slice(10)) } : {}) }).then((figures) => {
    for (const f of figures) console.log(`${f.name.padEnd(92)} ${String(f.value).padStart(9)} ${f.unit}  baseline ${String(f.baseline)}  ratio ${String(f.ratio)}${f.note ? `  (${f.note})` : ''}`);
  }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
