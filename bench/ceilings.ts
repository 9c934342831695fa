import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sleep, sleepUntil, wallNow } from './lib/clock.ts';
import { epcrDoc, gpsDoc } from './lib/docs.ts';
import { cpuSeconds } from './lib/proc.ts';
import { distribution, type Distribution } from './lib/stats.ts';
import { peerSchemas, TENANT } from './lib/systems.ts';
import { BenchWorker, DEVICE_NICE, startWorkers } from './lib/workers.ts';

/**
 * Workload D beyond raw SQLite: what no server can change, measured in the same run.
 * - The RxDB client alone: our device database replicated by RxDB with handlers that answer at
 *   once in the same thread (bench/clients/rxdb-alone.ts). Every system whose client is RxDB
 *   (ours, RxServer, RxDB + CouchDB) does at least this work per bulk push or pull.
 * - A plain Node HTTP server under the fleet's requests: the same simulated devices, the same
 *   rate, one request per point, answered `[]` without any work (bench/lib/raw-http-server.ts).
 *   Its CPU per request is what one HTTP request per point costs this machine's kernel and Node.
 */

const ALONE = path.resolve(import.meta.dirname, 'clients/rxdb-alone.ts');
const UNIT_SIM = path.resolve(import.meta.dirname, 'workers/unit-sim.ts');
const RAW_HTTP = path.resolve(import.meta.dirname, 'lib/raw-http-server.ts');

export interface ClientCeiling {
  kind: string;
  count: number;
  batchSize: number;
  /** Best of two runs, docs/s: RxDB's replication of the device database with instant handlers. */
  pushDocsPerSec: number;
  pullDocsPerSec: number;
}

/** The RxDB client alone pushing `count` documents and a fresh one pulling them (best of 2 each). */
export async function clientCeiling(kind: 'GPS ~200 B' | 'ePCR ~2 KB', count: number, batchSize: number): Promise<ClientCeiling> {
  const collection = kind.startsWith('GPS') ? 'gps_points' : 'epcrs';
  const make = kind.startsWith('GPS') ? gpsDoc : epcrDoc;
  const context = { serverUrl: '', tenant: TENANT, schemas: peerSchemas() };
  let push = 0;
  let pull = 0;
  for (let run = 0; run < 2; run++) {
    const pusher = await BenchWorker.start(ALONE, context);
    try {
      await pusher.call('bulk:prepare', { collection, docs: Array.from({ length: count }, (_, i) => make(TENANT, i)) });
      const seconds = await pusher.call<number>('bulk:push', { collection, batchSize }, 300_000);
      push = Math.max(push, count / seconds);
      await pusher.call('close');
    } finally {
      await pusher.terminate();
    }
    const puller = await BenchWorker.start(ALONE, context);
    try {
      const pulled = await puller.call<{ seconds: number; count: number }>('bulk:pull', { collection, batchSize, expected: count }, 300_000);
      if (pulled.count !== count) throw new Error(`the RxDB-alone pull stored ${pulled.count} of ${count} documents`);
      pull = Math.max(pull, count / pulled.seconds);
      await puller.call('close');
    } finally {
      await puller.terminate();
    }
  }
  return { kind, count, batchSize, pushDocsPerSec: push, pullDocsPerSec: pull };
}

export interface HttpFloor {
  devices: number;
  seconds: number;
  requests: number;
  points: number;
  /** CPU (user + system, all threads) of the plain HTTP server per request and per point, ms. */
  serverCpuMsPerRequest: number;
  serverCpuMsPerPoint: number;
  /** Point created on the device → the plain server answered the request carrying it, ms. */
  ack: Distribution;
}

/**
 * The fleet's devices (bench/workers/unit-sim.ts, plain HTTP, one point per second each, at nice
 * 10, two threads) against the plain Node HTTP server instead of ours: the CPU floor per point.
 */
export async function httpFloor(options: { devices: number; seconds: number }): Promise<HttpFloor> {
  const child = spawn(process.execPath, ['--import', 'tsx', RAW_HTTP], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let workers: BenchWorker[] = [];
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the plain HTTP server did not print its port in 30 s')), 30_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(line.trim());
      });
      child.once('exit', (code) => reject(new Error(`the plain HTTP server exited with ${code} during start-up`)));
    });
    const serverUrl = `http://127.0.0.1:${port}`;
    const threads = 2;
    workers = await startWorkers(threads, UNIT_SIM, { serverUrl, tenant: TENANT, nice: DEVICE_NICE }, threads, UNIT_SIM);
    await Promise.all(workers.map((worker, w) => {
      const units = [];
      for (let i = w; i < options.devices; i += threads) units.push({ unitId: `U${String(i + 1).padStart(3, '0')}`, phaseMs: (i / options.devices) * 1000, statusPhaseMs: 0 });
      return worker.call('open', { units, register: false }, 120_000);
    }));
    const startAt = wallNow() + 1000;
    const drainUntil = startAt + options.seconds * 1000 + 10_000;
    await sleepUntil(startAt);
    const cpuStart = cpuSeconds(child.pid!);
    type Run = { gpsCreated: number; gpsAcked: number; ackMs: number[]; rttMs: number[]; pushErrors: number };
    const runs = await Promise.all(workers.map((w) => w.call<Run>('run', { startAt, seconds: options.seconds, statusEverySeconds: 0, drainUntil }, options.seconds * 1000 + 60_000)));
    const cpu = cpuSeconds(child.pid!) - cpuStart;
    const requests = runs.reduce((n, r) => n + r.rttMs.length, 0);
    const points = runs.reduce((n, r) => n + r.gpsAcked, 0);
    const errors = runs.reduce((n, r) => n + r.pushErrors, 0);
    if (errors > 0 || points === 0) throw new Error(`the plain HTTP server failed ${errors} request(s) and acknowledged ${points} point(s)`);
    return {
      devices: options.devices, seconds: options.seconds, requests, points,
      serverCpuMsPerRequest: (1000 * cpu) / requests, serverCpuMsPerPoint: (1000 * cpu) / points, ack: distribution(runs.flatMap((r) => r.ackMs)),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    if (child.exitCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    await sleep(100);
  }
}
