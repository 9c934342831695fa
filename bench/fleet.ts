import { rmSync } from 'node:fs';
import { sleep, sleepUntil, wallNow } from './lib/clock.ts';
import { cpuSeconds, cpuShares, rssSampler, threadCpu, threadCpuDelta } from './lib/proc.ts';
import { monotonicMicros, type ProfileWindow } from './lib/profile.ts';
import { distribution, type Distribution } from './lib/stats.ts';
import { peerSchemas, TENANT, workDir, type SystemDef } from './lib/systems.ts';
import { DEVICE_NICE, startDiskProbe, startWorkers, type BenchWorker } from './lib/workers.ts';

/**
 * The fleet's default warm-up, seconds: a fresh server's JIT dominates a short run (profiling
 * showed per-point CPU falling for the first ~5 s of a 60-s run for every system), so the steady-state
 * figure comes after it. `--fleet-warmup=<s>` overrides it; 0 gives the old cold-start measurement.
 */
export function fleetWarmupSeconds(quick: boolean, argv: string[] = process.argv): number {
  const flag = argv.find((a) => a.startsWith('--fleet-warmup='))?.slice('--fleet-warmup='.length);
  if (flag === undefined) return quick ? 5 : 10;
  const seconds = Number(flag);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`--fleet-warmup=${flag}: give the warm-up in seconds, 0 or more (0 measures from a cold server)`);
  return Math.round(seconds);
}

/** RxDB's open-source limit is 13 collections per JavaScript realm: one device = one collection. */
export const DEVICES_PER_WORKER = 13;

export interface FleetOptions {
  devices: number;
  seconds: number;
  batchSize: number;
  /**
   * Seconds the devices run the same load before the measured window opens (0: measure from the
   * first point, the old cold-start figure). A fresh server spends its first seconds compiling;
   * a server that runs all shift does not, so the steady-state figures come from after this.
   */
  warmupSeconds?: number;
  /** Write a CPU profile of our server into this directory. */
  profileDir?: string;
}

export interface FleetResult {
  system: SystemDef['key'];
  devices: number;
  /** Measured seconds, and the warm-up seconds that ran before them at the same load. */
  seconds: number;
  warmupSeconds: number;
  /** Every point written, warm-up included (the "nothing lost" checks cover all of them). */
  written: number;
  /** Points written in the measured window (write time at or after its start): the per-point and latency figures' base. */
  measuredPoints: number;
  writeErrors: number;
  /** Points the server never acknowledged by the end of the drain period. */
  unacked: number;
  /** Distinct points that reached the dispatcher, and how many arrived twice. */
  delivered: number;
  duplicates: number;
  deliveredPct: number;
  /** Device write → arrival at the dispatcher, ms; this and the other distributions: measured-window points and requests only. */
  e2e: Distribution;
  /** Device write → the server acknowledged the push carrying it, ms. */
  ack: Distribution;
  /** Round trip of each push request alone (request sent → response), ms. */
  pushRtt: Distribution;
  /** How late the devices' timers fired (a saturated client machine shows here first), ms. */
  slip: Distribution;
  /** Steady state: the server's CPU in the measured window (after the warm-up), and per measured point. */
  serverCpuSeconds: number;
  serverCpuMsPerPoint: number;
  /** Cold: the server's CPU from the first warm-up point to the end, per point written (warm-up included). */
  serverCpuSecondsCold: number;
  serverCpuMsPerPointCold: number;
  /** The server's CPU in the measured window by thread name, user and system seconds apart (where the time goes). */
  serverThreads?: { name: string; user: number; sys: number }[];
  serverRssPeakMb: number;
  /** A durable SQLite commit on this disk during the run (probe in its own thread and file), ms. */
  diskCommit: Distribution;
  /** Cores used during the run by the server, by the benchmark's clients, and by everything else on the machine. */
  cores: { server: number; clients: number; others: number };
  /** Wall seconds of the whole measurement (setup and teardown included), and of the setup alone. */
  wallSeconds: number;
  setupSeconds: number;
  dispatcherVia: string;
  /** The measured window on CLOCK_MONOTONIC (µs), to cut a server CPU profile to it. */
  window: ProfileWindow;
}

/**
 * Workload B for one system: `devices` devices (library clients with live push, 13 per worker
 * thread), each writing one GPS point per second, phases spread evenly over the second; one
 * dispatcher (its own worker thread) follows live. Fresh server; everything bounded in time.
 * The first `warmupSeconds` run the same load unmeasured: CPU, latencies and per-point figures
 * count points written from the window's start on; delivery and loss count every point.
 */
export async function runFleet(system: SystemDef, options: FleetOptions): Promise<FleetResult> {
  const began = performance.now();
  const dataDir = workDir(`fleet-${system.key}`);
  // No coalescing of positions on our /live feed during the latency run: every point goes out.
  const server = await system.start({ dataDir, env: { LIVE_GPS_INTERVAL_MS: '0' }, ...(options.profileDir ? { profileDir: options.profileDir } : {}) });
  const context = { serverUrl: server.url, tenant: TENANT, schemas: peerSchemas() };
  let workers: BenchWorker[] = [];
  let result: FleetResult;
  let setupSeconds = 0;
  let dispatcherWorker: BenchWorker | undefined;
  try {
    const workerCount = Math.ceil(options.devices / DEVICES_PER_WORKER);
    [dispatcherWorker] = await startWorkers(1, system.clientModule, context);
    workers = await startWorkers(workerCount, system.clientModule, { ...context, nice: DEVICE_NICE });
    const dispatcherVia = await dispatcherWorker!.call<string>('dispatch:open', { batchSize: options.batchSize });
    await Promise.all(workers.map((worker, w) => {
      const devices = [];
      for (let i = w; i < options.devices; i += workerCount) {
        devices.push({ deviceId: `dev${i}`, unitId: `U${i}`, phaseMs: (i / options.devices) * 1000 });
      }
      return worker.call('fleet:open', { collection: 'gps_points', batchSize: options.batchSize, devices }, 180_000);
    }));

    setupSeconds = (performance.now() - began) / 1000;
    const warmupSeconds = options.warmupSeconds ?? 0;
    const startAt = wallNow() + 1000;
    // The devices write from startAt without a pause; figures count from measureFrom on.
    const measureFrom = startAt + warmupSeconds * 1000;
    const endAt = measureFrom + options.seconds * 1000;
    const drainUntil = endAt + 10_000;
    await dispatcherWorker!.call('dispatch:measure', { measureFrom });
    await sleepUntil(startAt);
    const cpuCold = cpuSeconds(server.pid);
    const running = Promise.all(workers.map((worker) => worker.call<{ written: number; measured: number; writeErrors: number; unacked: number; ackMs: number[]; rttMs: number[]; slips: number[] }>(
      'fleet:run', { startAt, periods: warmupSeconds + options.seconds, periodMs: 1000, drainUntil, measureFrom }, (warmupSeconds + options.seconds) * 1000 + 60_000)));
    // Keep a failing run from becoming an unhandled rejection while this thread waits for the window.
    running.catch(() => {});
    await sleepUntil(measureFrom);
    const fromUs = monotonicMicros();
    const cpuStart = cpuSeconds(server.pid);
    const threadsStart = threadCpu(server.pid);
    const shares = cpuShares(server.pid);
    const rss = rssSampler(server.pid);
    const probe = await startDiskProbe();
    const runs = await running;
    const written = runs.reduce((n, r) => n + r.written, 0);
    const measuredPoints = runs.reduce((n, r) => n + r.measured, 0);
    // Every point, warm-up ones included, must reach the dispatcher.
    const got = await dispatcherWorker!.call<{ received: number; duplicates: number; latencies: number[] }>(
      'dispatch:collect', { expected: written, deadline: Math.max(drainUntil, wallNow() + 2000) }, 60_000);
    const cpuEnd = cpuSeconds(server.pid);
    const serverCpuSeconds = cpuEnd - cpuStart;
    const serverCpuSecondsCold = cpuEnd - cpuCold;
    const serverThreads = threadCpuDelta(threadsStart, threadCpu(server.pid));
    const share = shares.stop();
    const { peak } = rss.stop();
    const diskCommit = distribution(await probe.stop());
    result = {
      system: system.key, devices: options.devices, seconds: options.seconds, warmupSeconds, written, measuredPoints,
      writeErrors: runs.reduce((n, r) => n + r.writeErrors, 0),
      unacked: runs.reduce((n, r) => n + r.unacked, 0),
      delivered: got.received, duplicates: got.duplicates, deliveredPct: written ? (100 * got.received) / written : 0,
      e2e: distribution(got.latencies),
      ack: distribution(runs.flatMap((r) => r.ackMs)),
      pushRtt: distribution(runs.flatMap((r) => r.rttMs)),
      slip: distribution(runs.flatMap((r) => r.slips)),
      serverCpuSeconds, serverCpuMsPerPoint: measuredPoints ? (1000 * serverCpuSeconds) / measuredPoints : Number.NaN,
      serverCpuSecondsCold, serverCpuMsPerPointCold: written ? (1000 * serverCpuSecondsCold) / written : Number.NaN, serverThreads,
      serverRssPeakMb: peak / 1e6, dispatcherVia, diskCommit,
      cores: { server: share.serverCores, clients: share.clientCores, others: share.otherCores }, wallSeconds: 0, setupSeconds: 0,
      window: { fromUs, toUs: monotonicMicros() },
    };
  } finally {
    await Promise.all([...workers, ...(dispatcherWorker ? [dispatcherWorker] : [])].map(async (w) => {
      await w.call('close', {}, 10_000).catch(() => {});
      await w.terminate();
    }));
    await server.stop();
    await sleep(100);
    rmSync(dataDir, { recursive: true, force: true });
  }
  result.wallSeconds = (performance.now() - began) / 1000;
  result.setupSeconds = setupSeconds;
  return result;
}
