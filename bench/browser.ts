/**
 * Browser figures for `npm run bench` (called by bench/run.ts): what each app ships (gzipped
 * JS and CSS), how long an app takes from navigation to usable while offline (service worker
 * start included: the browser is restarted before each measured load), and how long a new
 * device takes to take in an initial sync of 5,000 documents. Real headless Chromium
 * (/usr/bin/chromium via playwright-core) against a real server on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLIENT_DIST, ensureClientBuilt } from '../server/apps/static.ts';
import {
  closeDevice, CHROMIUM, launchDevice, newProfileDir, reapplyOffline, removeProfileDir, signInWithToken, waitForServiceWorker,
} from '../test/e2e/support/browser.ts';
import { createCable } from '../test/e2e/support/cable.ts';
import { E2eServer, offsetNow, TENANT } from '../test/e2e/support/server.ts';
import type { BenchFigure } from './lib/stats.ts';
import { measure } from './lib/budget.ts';
import { barsSvg, type BarGroup } from './browser/chart.ts';
import { firstSyncBenchmark, SLICE } from './browser/first-sync.ts';
import { idbLayoutBenchmark } from './browser/idb-layout.ts';
import { AWAKE_CEILING, describeBreakdown, shiftBenchmark, STOPPED_CEILING, type ShiftRun } from './browser/shift.ts';

export interface BrowserBenchOptions {
  quick?: boolean;
  /** Server port; the cable uses the next one. Fixed: a device's origin must survive its restarts. */
  port?: number;
  log?: (message: string) => void;
}

const APPS = ['login', 'crew', 'mdt', 'tech', 'dispatch'] as const;
const DB_APPS: Record<string, { token: string; path: string }> = {
  crew: { token: `dev:${TENANT}:crew:bench-tablet:B1`, path: '/crew/' },
  mdt: { token: `dev:${TENANT}:crew:bench-mdt:B1`, path: '/mdt/' },
  tech: { token: `dev:${TENANT}:technician:bench-phone:tech-b`, path: '/tech/' },
  dispatch: { token: `dev:${TENANT}:dispatcher:bench-console`, path: '/dispatch/' },
};

const figure = (name: string, value: number, unit: string, note?: string): BenchFigure =>
  ({ name, value: Math.round(value * 100) / 100, unit, baseline: null, ratio: null, ...(note ? { note } : {}) });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function gzipSize(file: string): number {
  return gzipSync(readFileSync(file), { level: 9 }).length;
}

/** JS and CSS an app's page loads: its entry, its preloaded chunks and stylesheets (from the built HTML). */
export function appBundles(app: string, root = CLIENT_DIST): { js: string[]; css: string[] } {
  const html = readFileSync(path.join(root, app, 'index.html'), 'utf8');
  const refs = (pattern: RegExp) => [...html.matchAll(pattern)].map((m) => path.join(root, m[1]!.replace(/^\//, '')));
  const entry = [...refs(/<script[^>]+src="([^"]+\.js)"/g), ...refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)];
  // Each app's first script (client/apps/<app>/start.ts) imports the app itself at once, with the
  // chunks Vite preloads for it listed in the script (`__vite__mapDeps`): loaded at start too.
  const started: string[] = [];
  for (const file of entry) {
    const list = /m\.f=\[([^\]]*)\]/.exec(readFileSync(file, 'utf8'))?.[1];
    if (list) started.push(...[...list.matchAll(/"([^"]+)"/g)].map((m) => path.join(root, m[1]!.replace(/^\//, ''))));
  }
  const js = [...new Set([...entry, ...started.filter((f) => f.endsWith('.js'))])];
  const css = [...new Set([...refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+\.css)"/g), ...started.filter((f) => f.endsWith('.css'))])];
  return { js, css };
}

export function bundleFigures(root = CLIENT_DIST): BenchFigure[] {
  const figures: BenchFigure[] = [];
  for (const app of APPS) {
    const { js, css } = appBundles(app, root);
    figures.push(figure(`browser: ${app} page JS (gzip)`, js.reduce((n, f) => n + gzipSize(f), 0) / 1024, 'KiB', `${js.length} files`));
    figures.push(figure(`browser: ${app} page CSS (gzip)`, css.reduce((n, f) => n + gzipSize(f), 0) / 1024, 'KiB'));
  }
  const assets = path.join(root, 'assets');
  const worker = readdirSync(assets).find((f) => /^db\.worker-.*\.js$/.test(f));
  if (worker) figures.push(figure('browser: database worker JS (gzip, all apps but login)', gzipSize(path.join(assets, worker)) / 1024, 'KiB', 'RxDB, Dexie, the sync library, socket.io client (the generated validators and ajv are chunks of their own: below)'));
  // Generated at build time (client/sync/validators/), loaded by the worker at start; ajv itself
  // (validate-ajv-*.js) only for a schema without generated code, so not counted here.
  // The index chunk imports one chunk per schema on first use: all of them counted.
  const index = readdirSync(assets).find((f) => /^_virtual_fieldsync-validators-.*\.js$/.test(f));
  if (index) {
    const chunks = [index, ...[...readFileSync(path.join(assets, index), 'utf8').matchAll(/import\(`\.\/([^`]+\.js)`\)/g)].map((m) => m[1]!)];
    figures.push(figure('browser: database worker validators (gzip, generated, every collection)', chunks.reduce((n, f) => n + gzipSize(path.join(assets, f)), 0) / 1024, 'KiB', `${chunks.length} files`));
  }
  const sw = readFileSync(path.join(root, 'service-worker.js'), 'utf8');
  const urls = [...sw.matchAll(/"?url"?:"([^"]+)"/g)].map((m) => m[1]!);
  const precached = urls.reduce((n, u) => {
    const file = path.join(root, u.replace(/^\//, ''));
    return n + (existsSync(file) ? statSync(file).size : 0);
  }, 0);
  figures.push(figure('browser: service worker precache (all apps, uncompressed)', precached / 1024, 'KiB', `${urls.length} files`));
  figures.push(figure('browser: service worker JS (gzip)', gzipSize(path.join(root, 'service-worker.js')) / 1024, 'KiB'));
  return figures;
}

async function seedCrewData(server: E2eServer, gps: number, incidents: number, epcrs: number): Promise<void> {
  const now = Date.now();
  await server.seed('units', [{ id: randomUUID(), callSign: 'B1', status: 'available', statusAt: offsetNow(), lastPosition: { lat: 40, lng: -75 }, lastPositionAt: offsetNow() }]);
  const incidentIds = Array.from({ length: incidents }, () => randomUUID());
  await server.seed('incidents', incidentIds.map((id, i) => ({
    id, incidentNumber: `B-${String(i).padStart(6, '0')}`, status: i === incidents - 1 ? 'dispatched' : 'closed', complaint: 'bench call', priority: 'P3', assignedUnitId: 'B1',
    address: { street: `${i} Bench Ave`, city: 'Testville' }, location: { lat: 40 + i * 1e-4, lng: -75 - i * 1e-4 },
    timeline: { unitNotified: offsetNow(new Date(now - (incidents - i) * 3_600_000)) },
  })));
  await server.seed('epcrs', Array.from({ length: epcrs }, (_, i) => ({
    id: randomUUID(), status: 'draft', unitId: 'B1', incidentId: incidentIds[i % incidents],
    patient: { lastName: `Patient${i}`, firstName: 'Bench', age: 40 + (i % 50), ageUnits: '2516009' },
    situation: { chiefComplaint: 'bench complaint' },
    vitals: [{ id: 'v1', takenAt: offsetNow(new Date(now - i * 60_000)), systolic: 120 + (i % 30), heartRate: 70 + (i % 40), spo2: 97 }],
    narrative: { text: 'Benchmark narrative. '.repeat(20) },
  })));
  await server.seed('gps_points', Array.from({ length: gps }, (_, i) => ({
    id: randomUUID(), sourceType: 'unit', sourceId: 'B1', lat: 40 + i * 1e-5, lng: -75 - i * 1e-5, recordedAt: offsetNow(new Date(now - (gps - i) * 5000)),
  })));
}

export async function browserBenchmarks(options: BrowserBenchOptions = {}): Promise<BenchFigure[]> {
  const log = options.log ?? ((m: string) => console.log(m));
  if (!existsSync(CHROMIUM)) {
    log(`browser benchmarks skipped: no Chromium at ${CHROMIUM}`);
    return [];
  }
  await ensureClientBuilt({ log });
  const figures = bundleFigures();
  const runs = options.quick ? 1 : 3;
  const port = options.port ?? 18490;
  // No workflows: the figures are about the device, and hooks would add documents while it syncs.
  const server = new E2eServer(port, { workflows: false, cablePorts: [port + 1] });
  await server.start();
  const cable = await createCable(port + 1, port);
  const profiles: string[] = [];
  try {
    // Initial sync of a new device: 5,000 documents of what a crew tablet pulls.
    const [gps, incidents, epcrs] = [3000, 1500, 500];
    await seedCrewData(server, gps, incidents, epcrs);
    const syncProfile = await newProfileDir();
    profiles.push(syncProfile);
    const device = await launchDevice(syncProfile);
    const page = device.pages()[0] ?? await device.newPage();
    await signInWithToken(page, cable.origin, DB_APPS['crew']!.token, '/crew/');
    await page.goto('about:blank');
    await page.goto(`${cable.origin}/crew/`);
    const done = await page.waitForFunction(() => {
      const s = (window as unknown as { fieldsync?: { db: { status: { value?: { initial: { done: boolean; received: number } } } } } }).fieldsync?.db.status.value;
      return s?.initial.done ? { ms: performance.now(), received: s.initial.received } : undefined;
    }, undefined, { timeout: 300_000 });
    const initial = (await done.jsonValue())!;
    figures.push(figure('browser: initial sync of 5,000 documents (navigation to all collections complete)', initial.ms, 'ms',
      `${initial.received} received (${gps} GPS points, ${incidents} incidents, ${epcrs} ePCRs); ${Math.round(initial.received / (initial.ms / 1000))} docs/s`));
    await closeDevice(device);

    // Navigation to usable while offline, after a browser restart (so the service worker starts cold).
    await server.seed('jobs', [{ id: randomUUID(), status: 'assigned', assigneeId: 'tech-b', kind: 'repair', customer: { name: 'Bench Co' }, serviceAddress: { street: '1 Bench Rd' } }]);
    for (const [app, { token, path: appPath }] of Object.entries(DB_APPS)) {
      const profile = await newProfileDir();
      profiles.push(profile);
      let ctx = await launchDevice(profile);
      let tab = ctx.pages()[0] ?? await ctx.newPage();
      await signInWithToken(tab, cable.origin, token, appPath);
      await waitForServiceWorker(tab);
      await tab.waitForFunction(() => (window as unknown as { fieldsync?: { db: { status: { value?: { initial: { done: boolean } } } } } }).fieldsync?.db.status.value?.initial.done === true, undefined, { timeout: 60_000 });
      await closeDevice(ctx);
      await cable.cut();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        ctx = await launchDevice(profile, { offline: true });
        tab = ctx.pages()[0] ?? await ctx.newPage();
        await tab.goto(`${cable.origin}${appPath}`);
        await reapplyOffline(ctx);
        const readyAt = await tab.waitForFunction(() => (window as unknown as { __fieldsyncReadyAt?: number }).__fieldsyncReadyAt, undefined, { timeout: 30_000 });
        times.push(Number(await readyAt.jsonValue()));
        await closeDevice(ctx);
      }
      await cable.restore();
      figures.push(figure(`browser: ${app} navigation to usable, offline, cold browser`, median(times), 'ms', `median of ${runs}; service worker start, shell from cache, worker + IndexedDB open, first query`));
    }
  } finally {
    await cable.close();
    await server.dispose();
    for (const dir of profiles) await removeProfileDir(dir);
  }
  return figures;
}

/**
 * `npm run bench:browser` (issue #21): the device where the users are. Bundles and offline
 * navigation (above), a new tablet's first sync against the plain-fetch ceiling and the peers in
 * the same Chromium, typing during that sync, and the end of an offline shift behind a real link.
 * Each measurement has a budget; one that cannot finish is reported with what it reached and the
 * rest goes on. Writes bench/results/browser.json and bench/results/browser.svg.
 */
export async function browserBench(options: { quick: boolean; only?: string; log?: (m: string) => void }): Promise<void> {
  const log = options.log ?? ((m: string) => console.log(m));
  const base = Number(process.env['FIELDSYNC_BENCH_BROWSER_PORT'] ?? 26400);
  const load = { start: loadavg().map((l) => +l.toFixed(2)), end: [] as number[] };
  const t0 = Date.now();
  log(`bench:browser, load average ${load.start.join(' ')} (2 cores shared: read every figure with it)`);
  await ensureClientBuilt({ log: () => {} });
  if (options.only === 'shift') return shiftOnly(base, load, t0, log);
  if (options.only === 'first-sync') return firstSyncOnly(base, load, t0, log, options.quick);
  if (options.only === 'typing') return typingOnly(base, load, t0, log);
  if (options.only === 'idb-layout') return idbLayoutOnly(load, t0, log, options.quick);
  let navigation: BenchFigure[] = [];
  if (!process.argv.includes('--no-navigation')) {
    const nav = await measure('bundles and offline navigation', 600_000, () => browserBenchmarks({ quick: options.quick, port: base + 40, log }), log);
    if (nav.ok) navigation = nav.value;
  }
  const firstSync = await firstSyncBenchmark({ serverPort: base + 20, gatewayPort: base + 21, log, rounds: roundsOption(options.quick ? 1 : 2) });
  const loadAfterFirstSync = loadavg().map((l) => +l.toFixed(2));
  const shift = await shiftBenchmark({ serverPort: base + 10, cablePort: base + 11, log, linkIpv6: linkIpv6Option() });
  load.end = loadavg().map((l) => +l.toFixed(2));

  // A system with a round over its budget has too fast a figure (its slowest round is missing): no target is judged on it.
  const run = (system: string) => firstSync.runs.find((r) => r.system === system && !r.failedRounds);
  const ours = run('fieldsync');
  const ceiling = run('plain fetch (ceiling)');
  const ceilingInMemory = run('plain fetch (ceiling, memory)');
  const peers = ['PouchDB', 'RxDB15'].map(run).filter((r): r is NonNullable<typeof r> => !!r);
  const bestPeer = peers.sort((a, b) => a.ms - b.ms)[0];
  const shiftRuns = 'runs' in shift ? shift.runs : [];
  const targets = {
    firstSyncVsBestPeer: ours && bestPeer ? { value: +(bestPeer.ms / ours.ms).toFixed(2), target: '≥ 2 (speed-up over the best peer)', peer: bestPeer.system } : null,
    firstSyncVsCeiling: ours && ceiling ? { value: +(ceiling.ms / ours.ms).toFixed(3), target: '≥ 0.5 of the ceiling' } : null,
    // The ceiling as measured before 7 Dec 2026 (incognito: IndexedDB in memory; first-sync.ts PEERS_IDB).
    firstSyncVsCeilingInMemory: ours && ceilingInMemory ? { value: +(ceilingInMemory.ms / ours.ms).toFixed(3), target: '≥ 0.5 of the ceiling' } : null,
    shift: shiftTargets(shiftRuns),
    typing: firstSync.typing ? { p99: firstSync.typing.p99, longestTaskMs: firstSync.typing.longestTaskMs, longestTaskTypingMs: firstSync.typing.longestTaskTypingMs, target: 'p99 < 50 ms, no task over 50 ms' } : null,
  };
  const commit = gitCommit();
  const result = {
    date: new Date().toISOString(), commit, minutes: +((Date.now() - t0) / 60_000).toFixed(1), load: { ...load, afterFirstSync: loadAfterFirstSync },
    firstSync: { slice: SLICE, ...firstSync }, shift, targets, navigation,
  };
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'browser.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(path.join(dir, 'browser.svg'), browserChart(result));
  log(`\nbench:browser figures (load average at start ${load.start.join(' ')}, after the first syncs ${loadAfterFirstSync.join(' ')}, at the end ${load.end.join(' ')}; commit ${commit})`);
  for (const r of firstSync.runs) log(`  first sync ${r.system.padEnd(24)} ${String(Math.round(r.ms)).padStart(8)} ms  ${r.docs} docs  ${r.docsPerSecond} docs/s${ours && r !== ours ? `  (fieldsync is ${(r.ms / ours.ms).toFixed(2)}× its speed)` : ''}${r.failedRounds ? `  (${r.failedRounds} round(s) over budget: too fast a figure)` : ''}`);
  if (firstSync.typing) log(`  typing during the first sync: p50 ${firstSync.typing.p50} ms, p99 ${firstSync.typing.p99} ms, longest task ${firstSync.typing.longestTaskMs} ms, ${firstSync.typing.longestTaskTypingMs} ms while typing (target p99 < 50 ms, no task > 50 ms)`);
  logShift(shiftRuns, log);
  if ('skipped' in shift) log(`  shift backlog: skipped (${shift.skipped})`);
  for (const u of [...firstSync.unfinished, ...('unfinished' in shift ? shift.unfinished.map((x) => ({ what: x.variant, reached: x.reached, error: x.error })) : [])]) log(`  NOT FINISHED: ${u.what}: reached ${u.reached} (${u.error.split('\n')[0]})`);
  log(`  wrote bench/results/browser.json and bench/results/browser.svg`);
}

/**
 * `npm run bench:browser -- --only=shift`: the shift backlog alone (a few minutes instead of the
 * whole run), written to bench/results/browser-shift.json; the full run's file is left as it is.
 */
async function shiftOnly(base: number, load: { start: number[]; end: number[] }, t0: number, log: (m: string) => void): Promise<void> {
  const shift = await shiftBenchmark({ serverPort: base + 10, cablePort: base + 11, log, linkIpv6: linkIpv6Option() });
  load.end = loadavg().map((l) => +l.toFixed(2));
  const commit = gitCommit();
  const result = { date: new Date().toISOString(), commit, minutes: +((Date.now() - t0) / 60_000).toFixed(1), load, shift, targets: shiftTargets('runs' in shift ? shift.runs : []) };
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'browser-shift.json'), JSON.stringify(result, null, 2) + '\n');
  log(`\nbench:browser --only=shift (load average at start ${load.start.join(' ')}, at the end ${load.end.join(' ')}; commit ${commit})`);
  logShift('runs' in shift ? shift.runs : [], log);
  if ('skipped' in shift) log(`  shift backlog: skipped (${shift.skipped})`);
  for (const u of 'unfinished' in shift ? shift.unfinished : []) log(`  NOT FINISHED: ${u.variant}: reached ${u.reached} (${u.error.split('\n')[0]})`);
  log('  wrote bench/results/browser-shift.json');
}

/**
 * `npm run bench:browser -- --only=first-sync`: fieldsync's first sync and the plain-fetch
 * ceiling alone (no typing; peers with `--peers`; about a minute), written to bench/results/browser-first-sync.json.
 */
async function firstSyncOnly(base: number, load: { start: number[]; end: number[] }, t0: number, log: (m: string) => void, quick: boolean): Promise<void> {
  // `--peers`: PouchDB and RxDB 15 too, so the ratio against the best peer comes from the same run.
  const withPeers = process.argv.includes('--peers');
  const firstSync = await firstSyncBenchmark({ serverPort: base + 20, gatewayPort: base + 21, log, rounds: roundsOption(quick ? 1 : 2), parts: withPeers ? ['ours', 'ceiling', 'ceiling-memory', 'ceiling-rxdb-tables', 'peers'] : ['ours', 'ceiling', 'ceiling-memory', 'ceiling-rxdb-tables'] });
  load.end = loadavg().map((l) => +l.toFixed(2));
  const commit = gitCommit();
  const result = { date: new Date().toISOString(), commit, minutes: +((Date.now() - t0) / 60_000).toFixed(1), load, firstSync: { slice: SLICE, ...firstSync } };
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'browser-first-sync.json'), JSON.stringify(result, null, 2) + '\n');
  log(`\nbench:browser --only=first-sync (load average at start ${load.start.join(' ')}, at the end ${load.end.join(' ')}; commit ${commit})`);
  const ceiling = firstSync.runs.find((r) => r.system === 'plain fetch (ceiling)');
  const ours = firstSync.runs.find((r) => r.system === 'fieldsync');
  for (const r of firstSync.runs) log(`  first sync ${r.system.padEnd(30)} ${String(Math.round(r.ms)).padStart(8)} ms  ${r.docs} docs  ${r.docsPerSecond} docs/s${ceiling && r !== ceiling ? `  (${(ceiling.ms / r.ms).toFixed(3)} of the ceiling)` : ''}${ours && r !== ours && !r.system.startsWith('plain') ? `  (fieldsync is ${(r.ms / ours.ms).toFixed(2)}× its speed)` : ''}${r.failedRounds ? `  (${r.failedRounds} round(s) over budget: too fast a figure)` : ''}`);
  for (const u of firstSync.unfinished) log(`  NOT FINISHED: ${u.what}: reached ${u.reached} (${u.error.split('\n')[0]})`);
  log('  wrote bench/results/browser-first-sync.json');
}

/**
 * `npm run bench:browser -- --only=typing`: typing in a new report's narrative during the crew
 * app's first sync alone (issue #21 item 3; about a minute at half scale), written to
 * bench/results/browser-typing.json. Run it twice in a row, a build before and after, to compare.
 */
async function typingOnly(base: number, load: { start: number[]; end: number[] }, t0: number, log: (m: string) => void): Promise<void> {
  const firstSync = await firstSyncBenchmark({ serverPort: base + 20, gatewayPort: base + 21, log, parts: ['typing'] });
  load.end = loadavg().map((l) => +l.toFixed(2));
  const commit = gitCommit();
  const result = { date: new Date().toISOString(), commit, minutes: +((Date.now() - t0) / 60_000).toFixed(1), load, slice: SLICE, typing: firstSync.typing, unfinished: firstSync.unfinished };
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'browser-typing.json'), JSON.stringify(result, null, 2) + '\n');
  const t = firstSync.typing;
  log(`\nbench:browser --only=typing (load average at start ${load.start.join(' ')}, at the end ${load.end.join(' ')}; commit ${commit}; ${SLICE.epcrs} ePCRs, ${SLICE.gps} GPS points)`);
  if (t) log(`  typing during the first sync: ${t.keys} keys, key → paint p50 ${t.p50} ms, p99 ${t.p99} ms, max ${t.max} ms; longest task ${t.longestTaskMs} ms, ${t.longestTaskTypingMs} ms while typing (target p99 < 50 ms, no task > 50 ms)`);
  for (const u of firstSync.unfinished) log(`  NOT FINISHED: ${u.what}: reached ${u.reached} (${u.error.split('\n')[0]})`);
  log('  wrote bench/results/browser-typing.json');
}

/**
 * The shift backlog's targets for our variants: each against the awake ceiling (plain fetch from
 * an awake worker) and, since a stopped worker cannot start before Chromium says the network is
 * back, against the stopped ceiling too (plain fetch from a worker woken by the same Background Sync).
 */
function shiftTargets(runs: ShiftRun[]) {
  const awake = runs.find((r) => r.variant === AWAKE_CEILING);
  const stopped = runs.find((r) => r.variant === STOPPED_CEILING);
  const ratio = (ceiling: ShiftRun | undefined, r: ShiftRun) => (ceiling ? +(ceiling.everythingMs / r.everythingMs).toFixed(3) : null);
  return runs.filter((r) => r.variant !== AWAKE_CEILING && r.variant !== STOPPED_CEILING).map((r) => ({
    variant: r.variant, firstEpcrMs: r.firstEpcrMs, everythingMs: r.everythingMs, epcrsFirst: r.epcrsFirst,
    vsCeiling: ratio(awake, r),
    vsStoppedCeiling: r.variant === 'service worker stopped' ? ratio(stopped, r) : null,
    target: 'first ePCR ≤ 1,000 ms, everything ≤ 2,000 ms, ≥ 0.5 of the ceiling, ePCRs strictly first',
  }));
}

/** The shift backlog's table: every variant, our variants' ratios against the ceilings, and where the time went. */
function logShift(runs: ShiftRun[], log: (m: string) => void): void {
  const awake = runs.find((r) => r.variant === AWAKE_CEILING);
  const stopped = runs.find((r) => r.variant === STOPPED_CEILING);
  for (const r of runs) {
    const ratios = r.variant === AWAKE_CEILING || r.variant === STOPPED_CEILING ? [] : [
      ...(awake ? [`${(awake.everythingMs / r.everythingMs).toFixed(2)} of the awake ceiling`] : []),
      ...(stopped && r.variant === 'service worker stopped' ? [`${(stopped.everythingMs / r.everythingMs).toFixed(2)} of the stopped ceiling`] : []),
    ];
    log(`  shift backlog, ${r.variant.padEnd(52)} first ePCR ${r.firstEpcrMs} ms, all ePCRs ${r.allEpcrsMs} ms, everything ${r.everythingMs} ms${ratios.length ? ` (${ratios.join(', ')})` : ''}, ePCRs first: ${r.epcrsFirst}, ${r.pushRequests} pushes, longest idle ${r.longestIdleMs} ms`);
    if (r.breakdown) log(`    ${describeBreakdown(r)}`);
  }
}

/** `--link-ipv6=dad|at-once|off` (bench/browser/shift.ts): how the shift's link gets its IPv6 address. */
function linkIpv6Option(): 'dad' | 'at-once' | 'off' | undefined {
  const value = process.argv.find((a) => a.startsWith('--link-ipv6='))?.slice('--link-ipv6='.length);
  if (value === undefined) return undefined;
  if (value === 'dad' || value === 'at-once' || value === 'off') return value;
  throw new Error(`--link-ipv6=${value}: expected dad, at-once or off`);
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: import.meta.dirname }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: import.meta.dirname }).toString().split('\n').filter(Boolean).length;
    return dirty ? `${sha} (+${dirty} uncommitted files)` : sha;
  } catch {
    return 'unknown';
  }
}

export function browserChart(result: { date: string; commit: string; load: { start: number[]; end: number[] }; firstSync: { runs: { system: string; ms: number; docs: number }[]; typing?: { p50: number; p99: number; longestTaskMs: number } }; shift: unknown }): string {
  const colors: Record<string, string> = { fieldsync: '#2b6cb0', 'plain fetch (ceiling)': '#999', 'plain fetch (ceiling, memory)': '#ccc', 'plain fetch (RxDB tables)': '#bbb', PouchDB: '#dd6b20', RxDB15: '#805ad5' };
  const shiftRuns = (result.shift as { runs?: { variant: string; firstEpcrMs: number; everythingMs: number }[] }).runs ?? [];
  const groups: BarGroup[] = [
    {
      title: `A new tablet's first sync (${SLICE.epcrs.toLocaleString('en-US')} ePCRs ~2 KB + ${SLICE.gps.toLocaleString('en-US')} GPS points into IndexedDB): seconds, shorter is better`, unit: 's',
      bars: result.firstSync.runs.map((r) => ({ label: r.system, value: r.ms / 1000, text: `${(r.ms / 1000).toFixed(1)} s (${r.docs.toLocaleString('en-US')} docs)`, color: colors[r.system] ?? '#444' })),
      note: 'fieldsync: the real crew app, sign-in to lists drawn; ceiling: plain fetch into IndexedDB, no library; peers: library only, no UI',
    },
    {
      title: 'End of an 8-hour offline shift (3 ePCRs + 5,760 GPS points), every page closed, link back up: seconds',
      unit: 's',
      bars: shiftRuns.map((r) => ({ ...r, variant: r.variant === AWAKE_CEILING ? 'ceiling (plain fetch from the SW)' : r.variant === STOPPED_CEILING ? 'ceiling (plain fetch from a stopped SW)' : r.variant })).flatMap((r) => [
        { label: `${r.variant}: first ePCR`, value: r.firstEpcrMs / 1000, text: `${(r.firstEpcrMs / 1000).toFixed(2)} s`, color: r.variant.startsWith('ceiling') ? '#999' : '#2b6cb0' },
        { label: `${r.variant}: everything`, value: r.everythingMs / 1000, text: `${(r.everythingMs / 1000).toFixed(2)} s`, color: r.variant.startsWith('ceiling') ? '#bbb' : '#63b3ed' },
      ]),
      note: 'targets: first ePCR ≤ 1 s, everything ≤ 2 s',
    },
  ];
  if (result.firstSync.typing) {
    const t = result.firstSync.typing;
    groups.push({
      title: 'Typing in the ePCR narrative during the first sync: key press → paint (Event Timing), ms', unit: 'ms',
      bars: [
        { label: 'p50', value: t.p50, text: `${t.p50} ms`, color: '#2b6cb0' },
        { label: 'p99', value: t.p99, text: `${t.p99} ms (target < 50)`, color: '#2b6cb0' },
        { label: 'longest main-thread task', value: t.longestTaskMs, text: `${t.longestTaskMs} ms (target ≤ 50)`, color: '#63b3ed' },
      ],
    });
  }
  return barsSvg({
    title: 'fieldsync in headless Chromium (bench:browser)',
    subtitle: [`${result.date.slice(0, 16).replace('T', ' ')} UTC, commit ${result.commit}, 2 shared cores, load average ${result.load.start.join(' ')} at the start, ${result.load.end.join(' ')} at the end`],
    groups,
  });
}

/**
 * `npm run bench:browser -- --only=idb-layout [--rounds=N]`: IndexedDB alone, the first-sync
 * slice written in each table layout (bench/browser/idb-layout.ts; 5 rounds unless given, 1 with
 * --quick; about 2 minutes), written to bench/results/browser-idb-layout.json.
 */
async function idbLayoutOnly(load: { start: number[]; end: number[] }, t0: number, log: (m: string) => void, quick: boolean): Promise<void> {
  const runs = await idbLayoutBenchmark({ rounds: roundsOption(quick ? 1 : 5), log });
  load.end = loadavg().map((l) => +l.toFixed(2));
  const commit = gitCommit();
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'browser-idb-layout.json'), JSON.stringify({ date: new Date().toISOString(), commit, minutes: +((Date.now() - t0) / 60_000).toFixed(1), load, runs }, null, 2) + '\n');
  log(`\nbench:browser --only=idb-layout (load average at start ${load.start.join(' ')}, at the end ${load.end.join(' ')}; commit ${commit}): 22,000 documents and 2,000 server-state copies into IndexedDB on disk, no library`);
  const baseline = runs.find((r) => r.layout === 'rxdb');
  for (const r of runs) log(`  ${r.layout.padEnd(10)} median ${String(r.medianMs).padStart(6)} ms  (${r.samplesMs.join(', ')})${baseline && r !== baseline ? `  ${(r.medianMs / baseline.medianMs).toFixed(2)}× RxDB's layout` : '  (baseline)'}${r.failedRounds ? `  (${r.failedRounds} round(s) over budget, not counted)` : ''}`);
  log('  wrote bench/results/browser-idb-layout.json');
}

/**
 * `--rounds=N`: how many times each system's first sync is measured (in turn, every other round in
 * the opposite order); its figure is the median. 2 unless given (1 with --quick).
 */
function roundsOption(fallback: number): number {
  const given = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length));
  return Number.isInteger(given) && given > 0 ? given : fallback;
}

// Run alone: `npm run bench:browser [-- --quick] [--no-navigation] [--rounds=N] [--only=shift [--link-ipv6=dad|at-once|off]|first-sync [--peers]|typing|idb-layout]`
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  browserBench({ quick: process.argv.includes('--quick'), only: process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) }).then(() => process.exit(0)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
