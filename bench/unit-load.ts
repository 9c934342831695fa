import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { devToken } from '../server/auth/identity.ts';
import { OPS_HEADERS } from '../test/helpers/server.ts';
import { parseTs, sleep, sleepUntil, wallNow } from './lib/clock.ts';
import { cpuSeconds, cpuShares, rssBytes, rssSampler, threadCpu, threadCpuDelta } from './lib/proc.ts';
import { monotonicMicros, type ProfileWindow } from './lib/profile.ts';
import { distribution, type Distribution } from './lib/stats.ts';
import { ours, TENANT, workDir } from './lib/systems.ts';
import { DEVICE_NICE, startDiskProbe, startWorkers, type BenchWorker } from './lib/workers.ts';
import type { FleetResult } from './fleet.ts';

const UNIT_SIM = path.resolve(import.meta.dirname, 'workers/unit-sim.ts');

export interface UnitLoadResult {
  units: number;
  seconds: number;
  statusEverySeconds: number;
  liveGpsIntervalMs: string;
  /** Warm-up seconds run at the same load before the measured `seconds` (0: measured from the first point). */
  warmupSeconds: number;
  /** Every point created, warm-up included (the loss figures cover all); and those created in the measured window. */
  pointsCreated: number;
  pointsMeasured: number;
  pointsAcked: number;
  /** GPS rows in the server's SQLite file after the run, and per second of the run. */
  pointsStored: number;
  pointsStoredPerSecond: number;
  /** Point created on the unit (queued for push at once) → the dispatch socket has it, ms. */
  pointToDispatch: Distribution;
  /**
   * The push request carrying the point was sent → the dispatch socket has it, ms: issue #6's
   * "push to dispatch", without the time the point waited on the unit for the request before it
   * (one request in flight per unit) and without a starved unit thread's late timers.
   */
  pushToDispatch: Distribution;
  positionsDelivered: number;
  /** Point created → server acknowledged the push carrying it; and each push request's round trip, ms. */
  ack: Distribution;
  pushRtt: Distribution;
  statusesAcked: number;
  statusesDelivered: number;
  /** Acknowledged status changes that never reached the dispatch socket (must be 0). */
  statusesLost: number;
  statusToDispatch: Distribution;
  pushErrors: number;
  conflicts: number;
  unsent: number;
  /** Steady state: CPU in the measured window, and per point created in it. */
  serverCpuSeconds: number;
  serverCores: number;
  serverCpuMsPerPoint: number;
  /** Cold: CPU from the first warm-up point to the end, per point stored (warm-up included). */
  serverCpuSecondsCold: number;
  serverCpuMsPerPointCold: number;
  /** The server's CPU in the measured window by thread name, user and system seconds apart. */
  serverThreads: { name: string; user: number; sys: number }[];
  serverRssStartMb: number;
  serverRssPeakMb: number;
  serverRssEndMb: number;
  /** How late the units' timers fired, ms; setup and whole-run wall seconds. */
  slip: Distribution;
  setupSeconds: number;
  wallSeconds: number;
  /** The measured window on CLOCK_MONOTONIC (µs), to cut a server CPU profile to it. */
  window: ProfileWindow;
  /** A durable SQLite commit on this disk during the run (probe in its own thread and file), ms. */
  diskCommit: Distribution;
  /** The server's event-loop delay during the run (prom-client's figures from /metrics, reset at the start), ms. */
  serverLoopDelay: { p50: number; p99: number; max: number };
  /** Cores used during the run by the server, the simulated units and dispatcher (this process), and everything else. */
  cores: { server: number; clients: number; others: number };
}

/**
 * Issue #6: `units` simulated units (two worker threads of plain HTTP clients) each pushing a GPS
 * point per second in batches, plus a status change every `statusEverySeconds`, for `seconds`;
 * one dispatch socket on /live (in this thread). Our server with its defaults (positions may be
 * coalesced to 250 ms per unit; statuses never are).
 */
export async function runUnitLoad(options: { units: number; seconds: number; warmupSeconds?: number; statusEverySeconds?: number; env?: Record<string, string>; profileDir?: string }): Promise<UnitLoadResult> {
  const warmupSeconds = options.warmupSeconds ?? 0;
  const statusEverySeconds = options.statusEverySeconds ?? 10;
  const began = performance.now();
  const dataDir = workDir('units');
  const server = await ours.start({ dataDir, ...(options.env ? { env: options.env } : {}), ...(options.profileDir ? { profileDir: options.profileDir } : {}) });
  let workers: BenchWorker[] = [];
  const socket = io(`${server.url}/live`, { transports: ['websocket'], auth: { token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console-6' }) }, reconnection: false });
  try {
    /** Arrival wall-clock time at the dispatch socket, by unit|recordedAt. */
    const positions = new Map<string, number>();
    const statuses = new Map<string, number>();
    socket.on('unit:position', (p: { sourceId: string; recordedAt: string }) => {
      const key = `${p.sourceId}|${p.recordedAt}`;
      if (!positions.has(key)) positions.set(key, wallNow());
    });
    socket.on('unit:status', (s: { callSign: string; statusAt?: string }) => {
      if (!s.statusAt) return;
      const key = `${s.callSign}|${s.statusAt}`;
      if (!statuses.has(key)) statuses.set(key, wallNow() - parseTs(s.statusAt));
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('/live did not become ready in 10 s')), 10_000);
      socket.once('live:ready', () => { clearTimeout(timer); resolve(); });
      socket.once('connect_error', (e) => { clearTimeout(timer); reject(e); });
    });

    const threads = 2;
    workers = await startWorkers(threads, UNIT_SIM, { serverUrl: server.url, tenant: TENANT, nice: DEVICE_NICE }, threads, UNIT_SIM);
    await Promise.all(workers.map((worker, w) => {
      const units = [];
      for (let i = w; i < options.units; i += threads) {
        units.push({ unitId: `U${String(i + 1).padStart(3, '0')}`, phaseMs: (i / options.units) * 1000, statusPhaseMs: ((i * 7919) % (statusEverySeconds * 1000)) + 500 });
      }
      return worker.call('open', { units, register: statusEverySeconds > 0 }, 120_000);
    }));
    positions.clear();
    statuses.clear(); // the registrations above are not part of the run

    const setupSeconds = (performance.now() - began) / 1000;
    const startAt = wallNow() + 1000;
    // The units run from startAt without a pause; figures count from measureFrom on.
    const measureFrom = startAt + warmupSeconds * 1000;
    const drainUntil = measureFrom + options.seconds * 1000 + 10_000;
    type Run = { slips: number[]; gpsCreated: number; gpsMeasured: number; gpsAcked: number; ackMs: number[]; rttMs: number[]; pushErrors: number; conflicts: number; statusesAcked: { key: string; at: number }[]; unsent: number; sentAt: [string, number][] };
    await sleepUntil(startAt);
    const cpuCold = cpuSeconds(server.pid);
    const running = Promise.all(workers.map((w) => w.call<Run>('run', { startAt, seconds: warmupSeconds + options.seconds, statusEverySeconds, drainUntil, measureFrom }, (warmupSeconds + options.seconds) * 1000 + 60_000)));
    running.catch(() => {}); // awaited below; not an unhandled rejection while this thread waits for the window
    await sleepUntil(measureFrom);
    await loopDelay(server.url); // resets the server's event-loop delay histogram
    const fromUs = monotonicMicros();
    const rssStart = rssBytes(server.pid);
    const cpuStart = cpuSeconds(server.pid);
    const threadsStart = threadCpu(server.pid);
    const shares = cpuShares(server.pid);
    const rss = rssSampler(server.pid);
    const probe = await startDiskProbe();
    const runs = await running;
    const acked = runs.flatMap((r) => r.statusesAcked);
    const pointsAcked = runs.reduce((n, r) => n + r.gpsAcked, 0);
    // Give the feed a bounded moment to deliver what was acknowledged last.
    const settle = wallNow() + 5000;
    while (wallNow() < settle && (acked.some((s) => !statuses.has(s.key)) || positions.size < pointsAcked)) await sleep(50);
    const serverLoopDelay = await loopDelay(server.url);
    const runSeconds = (wallNow() - measureFrom) / 1000;
    const cpuEnd = cpuSeconds(server.pid);
    const serverCpuSeconds = cpuEnd - cpuStart;
    const serverCpuSecondsCold = cpuEnd - cpuCold;
    const pointsMeasured = runs.reduce((n, r) => n + r.gpsMeasured, 0);
    // Latencies: points written in the measured window only (recordedAt is the write time); loss: every point.
    const measuredKey = (key: string): boolean => parseTs(key.slice(key.indexOf('|') + 1)) >= measureFrom;
    const serverThreads = threadCpuDelta(threadsStart, threadCpu(server.pid));
    const toUs = monotonicMicros();
    const share = shares.stop();
    const { peak, last } = rss.stop();
    const diskCommit = distribution(await probe.stop());
    const db = new Database(path.join(dataDir, 'fieldsync.sqlite'), { readonly: true, fileMustExist: true });
    const stored = (db.prepare("SELECT COUNT(*) AS n FROM documents WHERE collection = 'gps_points'").get() as { n: number }).n;
    db.close();
    const lost = acked.filter((s) => !statuses.has(s.key)).length;
    return {
      units: options.units, seconds: options.seconds, warmupSeconds, statusEverySeconds, liveGpsIntervalMs: options.env?.['LIVE_GPS_INTERVAL_MS'] ?? 'server default (250)',
      slip: distribution(runs.flatMap((r) => r.slips)), setupSeconds, wallSeconds: (performance.now() - began) / 1000, window: { fromUs, toUs },
      pointsCreated: runs.reduce((n, r) => n + r.gpsCreated, 0), pointsMeasured, pointsAcked, pointsStored: stored,
      pointsStoredPerSecond: stored / (warmupSeconds + options.seconds),
      pointToDispatch: distribution([...positions.entries()].filter(([key]) => measuredKey(key)).map(([key, at]) => at - parseTs(key.slice(key.indexOf('|') + 1)))),
      pushToDispatch: distribution(runs.flatMap((r) => r.sentAt).filter(([key]) => positions.has(key) && measuredKey(key)).map(([key, sent]) => positions.get(key)! - sent)),
      positionsDelivered: positions.size,
      ack: distribution(runs.flatMap((r) => r.ackMs)), pushRtt: distribution(runs.flatMap((r) => r.rttMs)),
      statusesAcked: acked.length, statusesDelivered: acked.length - lost, statusesLost: lost,
      statusToDispatch: distribution(acked.filter((s) => statuses.has(s.key) && s.at >= measureFrom).map((s) => statuses.get(s.key)!)),
      pushErrors: runs.reduce((n, r) => n + r.pushErrors, 0), conflicts: runs.reduce((n, r) => n + r.conflicts, 0),
      unsent: runs.reduce((n, r) => n + r.unsent, 0),
      serverCpuSeconds, serverCores: serverCpuSeconds / runSeconds,
      // Without a warm-up the window holds every point: per stored point as before. With one, per point created in the window.
      serverCpuMsPerPoint: (1000 * serverCpuSeconds) / Math.max(1, warmupSeconds > 0 ? pointsMeasured : stored),
      serverCpuSecondsCold, serverCpuMsPerPointCold: (1000 * serverCpuSecondsCold) / Math.max(1, stored), serverThreads,
      serverRssStartMb: rssStart / 1e6, serverRssPeakMb: peak / 1e6, serverRssEndMb: last / 1e6,
      cores: { server: share.serverCores, clients: share.clientCores, others: share.otherCores }, diskCommit, serverLoopDelay,
    };
  } finally {
    socket.close();
    await Promise.all(workers.map((w) => w.terminate()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The server's event-loop delay since the last scrape (prom-client resets it on each collection), ms. */
async function loopDelay(url: string): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: OPS_HEADERS })).text();
  const value = (name: string) => 1000 * Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { p50: value('nodejs_eventloop_lag_p50_seconds'), p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
}

/**
 * Workload B for fieldsync with devices as the brief describes them: each device pushes HTTP push
 * batches exactly as the RxDB client does in live replication (no client database, so the figures
 * are protocol + server), the dispatcher follows the socket.io /live feed with
 * LIVE_GPS_INTERVAL_MS=0 (nothing coalesced). Shaped as a FleetResult for the comparison tables.
 */
export async function runHttpFleet(options: { devices: number; seconds: number; warmupSeconds?: number; profileDir?: string }): Promise<FleetResult> {
  const u = await runUnitLoad({ units: options.devices, seconds: options.seconds, warmupSeconds: options.warmupSeconds ?? 0, statusEverySeconds: 0, env: { LIVE_GPS_INTERVAL_MS: '0' }, ...(options.profileDir ? { profileDir: options.profileDir } : {}) });
  return {
    system: 'ours-http', devices: options.devices, seconds: options.seconds, warmupSeconds: u.warmupSeconds, written: u.pointsCreated, measuredPoints: u.pointsMeasured, writeErrors: u.pushErrors,
    unacked: u.pointsCreated - u.pointsAcked, delivered: u.positionsDelivered, duplicates: 0,
    deliveredPct: u.pointsCreated ? (100 * u.positionsDelivered) / u.pointsCreated : 0,
    e2e: u.pointToDispatch, ack: u.ack, pushRtt: u.pushRtt, slip: u.slip,
    serverCpuSeconds: u.serverCpuSeconds, serverCpuMsPerPoint: u.pointsMeasured ? (1000 * u.serverCpuSeconds) / u.pointsMeasured : Number.NaN,
    serverCpuSecondsCold: u.serverCpuSecondsCold, serverCpuMsPerPointCold: u.pointsCreated ? (1000 * u.serverCpuSecondsCold) / u.pointsCreated : Number.NaN, serverThreads: u.serverThreads,
    serverRssPeakMb: u.serverRssPeakMb, cores: u.cores, wallSeconds: u.wallSeconds, setupSeconds: u.setupSeconds,
    dispatcherVia: 'socket.io /live feed, event unit:position; devices = plain HTTP push batches (two worker threads, nice 10)',
    window: u.window, diskCommit: u.diskCommit,
  };
}
