import { rmSync } from 'node:fs';
import { cpuSeconds, cpuShares } from './lib/proc.ts';
import { monotonicMicros, type ProfileWindow } from './lib/profile.ts';
import { peerSchemas, TENANT, workDir, type SystemDef } from './lib/systems.ts';
import { BenchWorker } from './lib/workers.ts';

export interface BulkResult {
  system: SystemDef['key'];
  kind: string;
  count: number;
  batchSize: number;
  pushSeconds: number;
  pullSeconds: number;
  /** Server CPU seconds (user + system, /proc) during the push and during the pull. */
  pushServerCpu: number;
  pullServerCpu: number;
  /** Cores taken by everything else on the machine during push and pull (other people's work). */
  otherCores: { push: number; pull: number };
  /** Wall seconds of the whole measurement, server start to stop. */
  wallSeconds: number;
  /** The push and the pull on CLOCK_MONOTONIC (µs), to cut a server CPU profile to them. */
  windows: { push: ProfileWindow; pull: ProfileWindow };
  /** What the client library had to do differently (see BenchClient.notes). */
  notes: string[];
}

/**
 * Workload A for one system: a device's local database holds `docs` (not timed); it pushes them
 * all (timed until the last batch is acknowledged); then a fresh device pulls them all (timed
 * until they are in its local database). Fresh server, fresh worker threads.
 */
export async function runBulk(system: SystemDef, kind: string, collection: string, docs: Record<string, unknown>[], batchSize: number, profileDir?: string): Promise<BulkResult> {
  const began = performance.now();
  const dataDir = workDir(`bulk-${system.key}`);
  const server = await system.start({ dataDir, ...(profileDir ? { profileDir } : {}) });
  const context = { serverUrl: server.url, tenant: TENANT, schemas: peerSchemas() };
  const workers: BenchWorker[] = [];
  let result: BulkResult;
  try {
    const pusher = await BenchWorker.start(system.clientModule, context);
    workers.push(pusher);
    await pusher.call('bulk:prepare', { collection, docs });
    let cpu = cpuSeconds(server.pid);
    let shares = cpuShares(server.pid);
    const pushFrom = monotonicMicros();
    const pushSeconds = await pusher.call<number>('bulk:push', { collection, batchSize }, 300_000);
    const pushServerCpu = cpuSeconds(server.pid) - cpu;
    const pushOthers = shares.stop().otherCores;
    const push = { fromUs: pushFrom, toUs: monotonicMicros() };
    const notes = await pusher.call<string[]>('notes');
    await pusher.call('close');

    const puller = await BenchWorker.start(system.clientModule, context);
    workers.push(puller);
    cpu = cpuSeconds(server.pid);
    shares = cpuShares(server.pid);
    const pullFrom = monotonicMicros();
    const pulled = await puller.call<{ seconds: number; count: number }>('bulk:pull', { collection, batchSize, expected: docs.length }, 300_000);
    const pullServerCpu = cpuSeconds(server.pid) - cpu;
    const pullOthers = shares.stop().otherCores;
    const pull = { fromUs: pullFrom, toUs: monotonicMicros() };
    if (pulled.count !== docs.length) throw new Error(`${system.label}: the fresh device pulled ${pulled.count} of ${docs.length} documents`);
    await puller.call('close');
    result = { system: system.key, kind, count: docs.length, batchSize, pushSeconds: pushSeconds, pullSeconds: pulled.seconds, pushServerCpu, pullServerCpu, otherCores: { push: pushOthers, pull: pullOthers }, wallSeconds: 0, windows: { push, pull }, notes };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  result.wallSeconds = (performance.now() - began) / 1000;
  return result;
}
