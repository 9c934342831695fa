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
 * - Our client library over HTTP to a plain Node HTTP server that does no work
 *   (bench/lib/raw-http-server.ts: pushes answered `[]`, pulls from pages encoded once): our
 *   client's and the transport's share of a bulk push or pull, with the server's share at zero.
 * - That plain server under the fleet's requests: the same simulated devices, the same rate, one
 *   request per point. Its CPU per request is what one HTTP request per point costs this
 *   machine's kernel and Node.
 */

const OURS = path.resolve(import.meta.dirname, 'clients/ours.ts');
const ALONE = path.resolve(import.meta.dirname, 'clients/rxdb-alone.ts');
const UNIT_SIM = path.resolve(import.meta.dirname, 'workers/unit-sim.ts');
const RAW_HTTP = path.resolve(import.meta.dirname, 'lib/raw-http-server.ts');

export interface ClientCeiling {
  /** `in-process`: the RxDB client alone; `plain-http`: our client library against the plain HTTP server. */
  via: 'in-process' | 'plain-http';
  kind: string;
  count: number;
  batchSize: number;
  /** Best of two runs, docs/s. */
  pushDocsPerSec: number;
  pullDocsPerSec: number;
}

/**
 * A client pushing `count` documents and a fresh one pulling them (best of 2 each): the RxDB
 * client alone (`in-process`), or our client library against the plain HTTP server (`plain-http`).
 */
export async function clientCeiling(via: ClientCeiling['via'], kind: 'GPS ~200 B' | 'ePCR ~2 KB', count: number, batchSize: number): Promise<ClientCeiling> {
  const collection = kind.startsWith('GPS') ? 'gps_points' : 'epcrs';
  const make = kind.startsWith('GPS') ? gpsDoc : epcrDoc;
  const server = via === 'plain-http' ? await startPlainServer({ RAW_PULL_DOCS: String(count), RAW_PULL_KIND: kind.startsWith('GPS') ? 'gps' : 'epcr' }) : undefined;
  const context = { serverUrl: server?.url ?? '', tenant: TENANT, schemas: peerSchemas() };
  const module = via === 'plain-http' ? OURS : ALONE;
  let push = 0;
  let pull = 0;
  try {
    for (let run = 0; run < 2; run++) {
      push = Math.max(push, await timedPush(module, context, collection, Array.from({ length: count }, (_, i) => make(TENANT, i)), batchSize));
      pull = Math.max(pull, await timedPull(module, context, collection, count, batchSize));
    }
  } finally {
    await server?.stop();
  }
  return { via, kind, count, batchSize, pushDocsPerSec: push, pullDocsPerSec: pull };
}

async function timedPush(module: string, context: Record<string, unknown>, collection: string, docs: Record<string, unknown>[], batchSize: number): Promise<number> {
  const pusher = await BenchWorker.start(module, context);
  try {
    await pusher.call('bulk:prepare', { collection, docs });
    const seconds = await pusher.call<number>('bulk:push', { collection, batchSize }, 300_000);
    await pusher.call('close');
    return docs.length / seconds;
  } finally {
    await pusher.terminate();
  }
}

async function timedPull(module: string, context: Record<string, unknown>, collection: string, count: number, batchSize: number): Promise<number> {
  const puller = await BenchWorker.start(module, context);
  try {
    const pulled = await puller.call<{ seconds: number; count: number }>('bulk:pull', { collection, batchSize, expected: count }, 300_000);
    if (pulled.count !== count) throw new Error(`${path.basename(module)} against ${String(context['serverUrl']) || 'in-process handlers'} stored ${pulled.count} of ${count} pulled documents`);
    await puller.call('close');
    return count / pulled.seconds;
  } finally {
    await puller.terminate();
  }
}

/** bench/lib/raw-http-server.ts in its own process, started fresh. */
async function startPlainServer(env: Record<string, string> = {}): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', RAW_HTTP], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the plain HTTP server did not print its port in 30 s')), 30_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(line.trim());
      });
      child.once('exit', (code) => reject(new Error(`the plain HTTP server exited with ${code} during start-up`)));
    });
    return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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
  const server = await startPlainServer();
  let workers: BenchWorker[] = [];
  try {
    const serverUrl = server.url;
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
    const cpuStart = cpuSeconds(server.pid);
    type Run = { gpsCreated: number; gpsAcked: number; ackMs: number[]; rttMs: number[]; pushErrors: number };
    const runs = await Promise.all(workers.map((w) => w.call<Run>('run', { startAt, seconds: options.seconds, statusEverySeconds: 0, drainUntil }, options.seconds * 1000 + 60_000)));
    const cpu = cpuSeconds(server.pid) - cpuStart;
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
    await server.stop();
    await sleep(100);
  }
}
