import { runBulk, type BulkResult } from './bulk.ts';
import { fleetWarmupSeconds, runFleet, type FleetResult } from './fleet.ts';
import { epcrDoc, gpsDoc } from './lib/docs.ts';
import { loadAverage } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import { runHttpFleet } from './unit-load.ts';
import { ensurePeersInstalled, ours, peerSystems, TENANT, type SystemDef } from './lib/systems.ts';

export type Workload = 'bulk-small' | 'bulk-epcr' | 'fleet-100' | 'fleet-500';

export interface SystemRun {
  round: number;
  system: SystemDef['key'];
  workload: Workload;
  load: string;
  bulk?: BulkResult;
  fleet?: FleetResult;
  error?: string;
}

export interface Comparison {
  systems: { key: SystemDef['key']; label: string; server: string; client: string }[];
  rounds: number;
  docsPerBulk: number;
  batchSize: number;
  fleetSeconds: number;
  /** Seconds every fleet run ran unmeasured before its window (the same for every system). */
  fleetWarmupSeconds: number;
  runs: SystemRun[];
  /** Why a system was or was not run with 500 devices. */
  fleet500Decisions: Record<string, string>;
}

/** Above this projected server load at 500 points/s a peer is not run with 500 devices (the clients need the other core). */
const MAX_PROJECTED_CORES = 1.0;

function progress(run: SystemRun, label: string): void {
  const head = `  [round ${run.round}] ${run.workload.padEnd(10)} ${label.padEnd(13)}`;
  if (run.error) console.log(`${head} FAILED: ${run.error.split('\n')[0]}`);
  else if (run.bulk) {
    const b = run.bulk;
    console.log(`${head} push ${b.pushSeconds.toFixed(2)} s (${Math.round(b.count / b.pushSeconds)} docs/s), pull ${b.pullSeconds.toFixed(2)} s (${Math.round(b.count / b.pullSeconds)} docs/s), server CPU ${b.pushServerCpu.toFixed(2)}+${b.pullServerCpu.toFixed(2)} s; others ${b.otherCores.push.toFixed(1)}/${b.otherCores.pull.toFixed(1)} cores; ${b.wallSeconds.toFixed(0)} s; load ${run.load}`);
  } else if (run.fleet) {
    const f = run.fleet;
    console.log(`${head} e2e p50/p95/p99 ${f.e2e.p50.toFixed(1)}/${f.e2e.p95.toFixed(0)}/${f.e2e.p99.toFixed(0)} ms, ack p50/p95 ${f.ack.p50.toFixed(1)}/${f.ack.p95.toFixed(0)} ms, server CPU ${f.serverCpuSeconds.toFixed(2)} s = ${f.serverCpuMsPerPoint.toFixed(2)} ms/point steady (${f.serverCpuMsPerPointCold.toFixed(2)} cold, warm-up included), delivered ${f.deliveredPct.toFixed(2)} %; cores server/clients/others ${f.cores.server.toFixed(2)}/${f.cores.clients.toFixed(2)}/${f.cores.others.toFixed(2)}; disk commit p99 ${f.diskCommit.p99.toFixed(1)} ms; ${f.wallSeconds.toFixed(0)} s (setup ${f.setupSeconds.toFixed(0)} s); load ${run.load}`);
  }
}

async function attempt(round: number, system: SystemDef, workload: Workload, job: () => Promise<Partial<SystemRun>>): Promise<SystemRun> {
  const base: SystemRun = { round, system: system.key, workload, load: '' };
  let run: SystemRun;
  try {
    run = { ...base, ...(await job()), load: loadAverage() };
  } catch (error) {
    run = { ...base, load: loadAverage(), error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  progress(run, system.label);
  return run;
}

/**
 * Workloads A and B for fieldsync and the peers, interleaved: in every round each workload runs
 * on every system in turn (ours, PouchDB, RxDB+CouchDB, RxServer), each on a fresh server.
 * Then 500 devices for ours, and for each peer whose 100-device run projects to keep up.
 */
export async function comparePeers(options: { quick: boolean }): Promise<Comparison> {
  ensurePeersInstalled();
  const began = Date.now();
  /** After this many minutes the optional 500-device runs of the peers are skipped (said so), to keep the whole run under 20 minutes. */
  const budgetMinutes = 14;
  const systems = [ours, ...peerSystems()];
  const rounds = options.quick ? 1 : 3;
  const count = options.quick ? 2_000 : 10_000;
  const batchSize = 500;
  const fleetSeconds = options.quick ? 10 : 30;
  const warmupSeconds = fleetWarmupSeconds(options.quick);
  const small = Array.from({ length: count }, (_, i) => gpsDoc(TENANT, i));
  const epcr = Array.from({ length: count }, (_, i) => epcrDoc(TENANT, i));
  const runs: SystemRun[] = [];
  console.log(`\ncomparison: ${rounds} round(s); bulk ${count.toLocaleString('en-US')} docs in batches of ${batchSize}; GPS fleet 100 devices × ${fleetSeconds} s after a ${warmupSeconds}-s warm-up`);
  for (let round = 1; round <= rounds; round++) {
    for (const system of systems) runs.push(await attempt(round, system, 'bulk-small', async () => ({ bulk: await runBulk(system, 'GPS ~200 B', 'gps_points', small, batchSize) })));
    for (const system of systems) runs.push(await attempt(round, system, 'bulk-epcr', async () => ({ bulk: await runBulk(system, 'ePCR ~2 KB', 'epcrs', epcr, batchSize) })));
    for (const system of systems) runs.push(await attempt(round, system, 'fleet-100', async () => ({ fleet: await runFleet(system, { devices: 100, seconds: fleetSeconds, warmupSeconds, batchSize }) })));
  }

  const fleet500Decisions: Record<string, string> = {};
  for (const system of systems) {
    const at100 = runs.filter((r) => r.system === system.key && r.workload === 'fleet-100' && r.fleet).map((r) => r.fleet!);
    if (system.key !== 'ours') {
      if (at100.length === 0) {
        fleet500Decisions[system.key] = 'not run: the 100-device run failed';
        continue;
      }
      const msPerPoint = median(at100.map((f) => f.serverCpuMsPerPoint));
      const delivered = median(at100.map((f) => f.deliveredPct));
      const cores = (msPerPoint * 500) / 1000;
      if (cores > MAX_PROJECTED_CORES || delivered < 99) {
        fleet500Decisions[system.key] = `not run: at 100 devices it used ${msPerPoint.toFixed(2)} ms server CPU per point (projects to ${cores.toFixed(2)} cores at 500 points/s; limit ${MAX_PROJECTED_CORES}) and delivered ${delivered.toFixed(1)} %`;
        continue;
      }
      const elapsed = (Date.now() - began) / 60_000;
      if (elapsed > budgetMinutes) {
        fleet500Decisions[system.key] = `not run: would keep up (projected ${cores.toFixed(2)} cores at 500 points/s) but ${elapsed.toFixed(1)} min had passed (budget ${budgetMinutes} min before the 500-device runs; the machine was slow)`;
        continue;
      }
      fleet500Decisions[system.key] = `run: projected ${cores.toFixed(2)} cores at 500 points/s`;
    } else {
      fleet500Decisions[system.key] = 'run (ours always)';
    }
    runs.push(await attempt(1, system, 'fleet-500', async () => ({ fleet: await runFleet(system, { devices: 500, seconds: fleetSeconds, warmupSeconds, batchSize }) })));
  }
  // Our devices as the brief describes them (HTTP push batches, no client database): once each.
  const http: SystemDef = { ...ours, key: 'ours-http', label: 'fieldsync/HTTP', client: 'simulated devices sending the HTTP push batches the RxDB client sends (no client database), 2 worker threads' };
  for (const devices of [100, 500]) {
    runs.push(await attempt(1, http, devices === 100 ? 'fleet-100' : 'fleet-500', async () => ({ fleet: await runHttpFleet({ devices, seconds: fleetSeconds, warmupSeconds }) })));
  }
  return {
    systems: [...systems, http].map((s) => ({ key: s.key, label: s.label, server: s.server, client: s.client })),
    rounds, docsPerBulk: count, batchSize, fleetSeconds, fleetWarmupSeconds: warmupSeconds, runs, fleet500Decisions,
  };
}
