import type { BulkResult } from './bulk.ts';
import type { ClientCeiling, HttpFloor } from './ceilings.ts';
import type { Comparison, SystemRun, Workload } from './compare.ts';
import type { FleetResult } from './fleet.ts';
import { bulkRates, fleetCells, fmtNum, printGrid, spread } from './lib/report.ts';
import type { BenchFigure, Distribution } from './lib/stats.ts';
import { summarySvg, type ChartSystem, type LatencyGroup, type ThroughputGroup } from './lib/svg.ts';
import type { UnitLoadResult } from './unit-load.ts';

export const COLORS: Record<string, string> = { ours: '#1b7837', 'ours-http': '#7fbc41', pouchdb: '#b2182b', 'rxdb-couch': '#ef8a62', rxserver: '#2166ac' };

/** Reference figures quoted in issue #8 (same machine kind), used when the peers were not run here. */
export const ISSUE_REFERENCE = {
  pouchdb: { push10k: 4.0, pull10k: 5.7, e2e: [42, 590, 897], cpuMsPerPoint: 7.0 },
  rxserver: { push10k: 3.6, pull10k: 0.78, e2e: [4, 28, 381], cpuMsPerPoint: 1.7 },
};

export interface RawBaselines {
  small: { insertDocsPerSec: number; encodeDocsPerSec: number; decodeDocsPerSec: number; bytesPerDoc: number };
  epcr: { insertDocsPerSec: number; encodeDocsPerSec: number; decodeDocsPerSec: number; bytesPerDoc: number };
}

export interface Target { name: string; goal: string; measured: string; met: boolean | null; note?: string }

const ok = <T>(runs: SystemRun[], system: string, workload: Workload, pick: (r: SystemRun) => T | undefined): T[] =>
  runs.filter((r) => r.system === system && r.workload === workload).map(pick).filter((v): v is T => v !== undefined);

export function printRaw(raw: RawBaselines): void {
  printGrid('D. raw baselines in this run (no HTTP, no validation, no index)', [
    ['measure', 'GPS ~200 B', 'ePCR ~2 KB'],
    ['better-sqlite3 insert, WAL synchronous=FULL, batches of 500 (docs/s)', fmtNum(raw.small.insertDocsPerSec), fmtNum(raw.epcr.insertDocsPerSec)],
    ['JSON.stringify of the same batches (docs/s)', fmtNum(raw.small.encodeDocsPerSec), fmtNum(raw.epcr.encodeDocsPerSec)],
    ['JSON.parse of the same bytes (docs/s)', fmtNum(raw.small.decodeDocsPerSec), fmtNum(raw.epcr.decodeDocsPerSec)],
    ['bytes per document as JSON', fmtNum(raw.small.bytesPerDoc), fmtNum(raw.epcr.bytesPerDoc)],
  ]);
}

/** What no server can change, measured in this run (bench/ceilings.ts): the clients' own limits, and a plain HTTP server under the fleet. */
export interface Ceilings {
  client: ClientCeiling[];
  http: HttpFloor[];
}

export function printCeilings(ceilings: Partial<Ceilings>): void {
  const client = ceilings.client ?? [];
  if (client.length) {
    const kinds = [...new Set(client.map((c) => c.kind))];
    const cell = (via: ClientCeiling['via'], kind: string, pick: (c: ClientCeiling) => number) => {
      const c = client.find((x) => x.via === via && x.kind === kind);
      return c ? fmtNum(pick(c)) : '–';
    };
    const rows = [[`measure (docs/s, best of 2; ${fmtNum(client[0]!.count)} docs in batches of ${client[0]!.batchSize})`, ...kinds]];
    for (const [via, label] of [['in-process', 'RxDB client alone'], ['plain-http', 'our client over HTTP, server doing no work']] as const) {
      if (!client.some((c) => c.via === via)) continue;
      rows.push([`${label}: push`, ...kinds.map((k) => cell(via, k, (c) => c.pushDocsPerSec))]);
      rows.push([`${label}: pull into a fresh device`, ...kinds.map((k) => cell(via, k, (c) => c.pullDocsPerSec))]);
    }
    printGrid('D. the clients\' own limits in this run', rows, [
      'RxDB client alone: our device database (createFieldsyncDatabase, memory storage) replicated by RxDB with handlers answering at once in the same thread: no JSON, network or server. Every system with an RxDB client does at least this work per bulk push or pull',
      'our client over HTTP: the same client library the figures below use (SyncTransport), against a plain Node HTTP server that answers pushes [] and pulls from pages encoded once: the client\'s and the transport\'s share, with the server\'s at zero',
    ]);
  }
  if (ceilings.http?.length) {
    printGrid('D. a plain Node HTTP server under the fleet\'s devices in this run (no framework, store or fan-out: reads the body, parses it, answers [])', [
      ['devices', 'seconds', 'requests', 'server CPU ms per request', 'ack p50 / p99 ms'],
      ...ceilings.http.map((h) => [String(h.devices), String(h.seconds), fmtNum(h.requests), fmtNum(h.serverCpuMsPerRequest, 3), `${fmtNum(h.ack.p50, 1)} / ${fmtNum(h.ack.p99, 1)}`]),
    ], ['the same simulated devices and rate as workload B (one point per device per second, one request per point): what one HTTP request costs this machine\'s kernel and Node before any work is done']);
  }
}

export function printBulkOurs(bulk: BulkResult[], raw: RawBaselines): void {
  const rows = [['measure (one run each)', 'seconds', 'docs/s', 'server CPU s', 'vs raw SQLite insert', 'other processes, cores']];
  for (const b of bulk) {
    const r = bulkRates(b);
    const rawRate = b.kind.startsWith('GPS') ? raw.small.insertDocsPerSec : raw.epcr.insertDocsPerSec;
    rows.push([`push ${fmtNum(b.count)} ${b.kind} (1 device, library client)`, b.pushSeconds.toFixed(2), fmtNum(r.push), b.pushServerCpu.toFixed(2), `${((100 * r.push) / rawRate).toFixed(1)} %`, b.otherCores.push.toFixed(2)]);
    rows.push([`pull ${fmtNum(b.count)} ${b.kind} (fresh device)`, b.pullSeconds.toFixed(2), fmtNum(r.pull), b.pullServerCpu.toFixed(2), `${((100 * r.pull) / rawRate).toFixed(1)} %`, b.otherCores.pull.toFixed(2)]);
  }
  printGrid('A. bulk, fieldsync library client (RxDB 17 memory storage, batches of 500)', rows, [...new Set(bulk.flatMap((b) => b.notes ?? []))].map((n) => `note: ${n}`));
}

export function printFleet(title: string, results: { label: string; fleet: FleetResult[] }[], notes: string[]): void {
  const rows = [['system', 'devices', 'e2e p50', 'p95', 'p99 ms', 'ack p50', 'p95 ms', 'push RTT p99', 'server CPU s', 'ms/point steady', 'ms/point cold', 'RSS MB', 'delivered %', 'unacked', 'slip p99', 'cores srv/cli/other', 'disk commit p50/p99']];
  const warnings: string[] = [];
  for (const { label, fleet } of results) {
    if (fleet.length === 0) continue;
    const c = fleetCells(fleet);
    const f = fleet[0]!;
    rows.push([label, String(f.devices), c.e2e50!, c.e2e95!, c.e2e99!, c.ack50!, c.ack95!, c.rtt99!, c.cpu!, c.cpuPt!, c.cpuPtCold!, c.rss!, c.delivered!, c.unacked!, c.slip99!, `${f.cores.server.toFixed(2)}/${f.cores.clients.toFixed(2)}/${f.cores.others.toFixed(2)}`, `${f.diskCommit.p50.toFixed(2)}/${f.diskCommit.p99.toFixed(1)} ms`]);
    const w = contention(f);
    if (w) warnings.push(`WARNING ${label}: ${w}`);
  }
  const warmup = results.flatMap((r) => r.fleet)[0]?.warmupSeconds ?? 0;
  printGrid(title, rows, [...notes,
    `server CPU s and ms/point steady: the measured window, after a ${warmup}-s warm-up at the same load (latencies likewise count only points written in the window); ms/point cold: from the first point, warm-up included, per point written; delivered and unacked count every point, warm-up included`,
    'disk commit = a 1-row SQLite WAL synchronous=FULL commit on this disk every 200 ms during the run (probe thread): the fsync our server pays per push', ...warnings]);
}

export function printUnitLoad(u: UnitLoadResult): void {
  printGrid(`Issue #6: ${u.units} simulated units × ${u.seconds} s, one GPS point/s each (pushed in batches) + a status change every ${u.statusEverySeconds} s, one dispatch socket`, [
    ['measure', 'value'],
    ['points created / acknowledged / stored in SQLite', `${fmtNum(u.pointsCreated)} / ${fmtNum(u.pointsAcked)} / ${fmtNum(u.pointsStored)}`],
    ['points stored per second', fmtNum(u.pointsStoredPerSecond, 1)],
    ['point → dispatch socket p50 / p99 / max (ms)', `${fmtNum(u.pointToDispatch.p50, 1)} / ${fmtNum(u.pointToDispatch.p99, 1)} / ${fmtNum(u.pointToDispatch.max, 0)}`],
    ['push sent → dispatch socket p50 / p99 / max (ms; target p99 < 100)', `${fmtNum(u.pushToDispatch.p50, 1)} / ${fmtNum(u.pushToDispatch.p99, 1)} / ${fmtNum(u.pushToDispatch.max, 0)}`],
    ['positions delivered to dispatch (distinct)', `${fmtNum(u.positionsDelivered)} of ${fmtNum(u.pointsAcked)} acknowledged (coalescing to ${u.liveGpsIntervalMs} ms is allowed)`],
    ['point → push acknowledged p50 / p99 (ms); push RTT p99', `${fmtNum(u.ack.p50, 1)} / ${fmtNum(u.ack.p99, 1)}; ${fmtNum(u.pushRtt.p99, 1)}`],
    ['status changes acknowledged / delivered / LOST', `${fmtNum(u.statusesAcked)} / ${fmtNum(u.statusesDelivered)} / ${fmtNum(u.statusesLost)}`],
    ['status change → dispatch p50 / p99 (ms)', `${fmtNum(u.statusToDispatch.p50, 1)} / ${fmtNum(u.statusToDispatch.p99, 1)}`],
    ['push errors / conflicts / still unsent at end', `${u.pushErrors} / ${u.conflicts} / ${u.unsent}`],
    ['units\' timer slip p50 / p99 (ms; late timers mean starved client threads, not a slow server)', `${fmtNum(u.slip.p50, 1)} / ${fmtNum(u.slip.p99, 1)}`],
    ['server event-loop delay p50 / p99 / max (ms)', `${fmtNum(u.serverLoopDelay.p50, 1)} / ${fmtNum(u.serverLoopDelay.p99, 1)} / ${fmtNum(u.serverLoopDelay.max, 0)}`],
    ['server CPU seconds (cores busy), ms per stored point', `${fmtNum(u.serverCpuSeconds, 2)} (${fmtNum(u.serverCores, 2)}), ${fmtNum(u.serverCpuMsPerPoint, 3)}`],
    ['server RSS start / peak / end (MB)', `${fmtNum(u.serverRssStartMb)} / ${fmtNum(u.serverRssPeakMb)} / ${fmtNum(u.serverRssEndMb)}`],
    ['cores during the run: server / units+dispatcher / other processes', `${u.cores.server.toFixed(2)} / ${u.cores.clients.toFixed(2)} / ${u.cores.others.toFixed(2)}`],
    ['durable SQLite commit on this disk during the run p50 / p99 (probe)', `${u.diskCommit.p50.toFixed(2)} / ${u.diskCommit.p99.toFixed(1)} ms`],
  ], [...(contention(u) ? [`WARNING: ${contention(u)}`] : []),'our server with its defaults (LIVE_GPS_INTERVAL_MS 250: a unit\'s positions may be coalesced on /live; statuses never are), durable SQLite synchronous=FULL']);
}

/** Why a run's latency is not representative of the server, if it is not: the machine was busy. */
export function contention(f: { cores: { others: number }; diskCommit?: Distribution }): string | undefined {
  const parts: string[] = [];
  if (f.cores.others > 0.5) parts.push(`other processes used ${f.cores.others.toFixed(2)} of 2 cores during the run`);
  if (f.diskCommit && f.diskCommit.p99 > 5) parts.push(`a durable commit on this disk took up to ${f.diskCommit.p99.toFixed(1)} ms (p99)`);
  return parts.length ? `${parts.join('; ')}: its latencies are not representative of the server alone` : undefined;
}

/** The comparison table: median over rounds, (min–max) beside it. */
export function printComparison(cmp: Comparison): void {
  const systems = cmp.systems;
  const header = ['measure', ...systems.map((s) => s.label)];
  const rows: string[][] = [header];
  const bulkRow = (label: string, workload: Workload, f: (b: BulkResult) => number, digits = 0) =>
    rows.push([label, ...systems.map((s) => spread(ok(cmp.runs, s.key, workload, (r) => r.bulk).map(f), digits).text)]);
  bulkRow(`push ${fmtNum(cmp.docsPerBulk)} GPS ~200 B, docs/s`, 'bulk-small', (b) => bulkRates(b).push);
  bulkRow('  push seconds', 'bulk-small', (b) => b.pushSeconds, 2);
  bulkRow(`pull ${fmtNum(cmp.docsPerBulk)} GPS ~200 B, docs/s`, 'bulk-small', (b) => bulkRates(b).pull);
  bulkRow('  pull seconds', 'bulk-small', (b) => b.pullSeconds, 2);
  bulkRow('  server CPU s, push + pull', 'bulk-small', (b) => b.pushServerCpu + b.pullServerCpu, 2);
  bulkRow('  other processes, cores (push)', 'bulk-small', (b) => b.otherCores.push, 2);
  bulkRow(`push ${fmtNum(cmp.docsPerBulk)} ePCR ~2 KB, docs/s`, 'bulk-epcr', (b) => bulkRates(b).push);
  bulkRow('  push seconds', 'bulk-epcr', (b) => b.pushSeconds, 2);
  bulkRow(`pull ${fmtNum(cmp.docsPerBulk)} ePCR ~2 KB, docs/s`, 'bulk-epcr', (b) => bulkRates(b).pull);
  bulkRow('  pull seconds', 'bulk-epcr', (b) => b.pullSeconds, 2);
  bulkRow('  server CPU s, push + pull', 'bulk-epcr', (b) => b.pushServerCpu + b.pullServerCpu, 2);
  bulkRow('  other processes, cores (push)', 'bulk-epcr', (b) => b.otherCores.push, 2);
  for (const workload of ['fleet-100', 'fleet-500'] as const) {
    const fleets = systems.map((s) => ok(cmp.runs, s.key, workload, (r) => r.fleet));
    if (fleets.every((f) => f.length === 0)) continue;
    const n = workload === 'fleet-100' ? 100 : 500;
    const fleetRow = (label: string, f: (r: FleetResult) => number, digits = 0) =>
      rows.push([label, ...fleets.map((runs, i) => (runs.length ? spread(runs.map(f), digits).text : workload === 'fleet-500' ? `not run` : (cmp.runs.find((r) => r.system === systems[i]!.key && r.workload === workload)?.error ? 'FAILED' : '–')))]);
    fleetRow(`GPS ${n} dev: e2e p50 ms`, (r) => r.e2e.p50, 1);
    fleetRow('  e2e p95 ms', (r) => r.e2e.p95);
    fleetRow('  e2e p99 ms', (r) => r.e2e.p99);
    fleetRow('  push ack p50 ms', (r) => r.ack.p50, 1);
    fleetRow('  push ack p95 ms', (r) => r.ack.p95);
    fleetRow('  server CPU s per run', (r) => r.serverCpuSeconds, 2);
    fleetRow('  server CPU ms per point, steady', (r) => r.serverCpuMsPerPoint, 2);
    fleetRow('  server CPU ms per point, cold', (r) => r.serverCpuMsPerPointCold, 2);
    fleetRow('  delivered %', (r) => r.deliveredPct, 2);
    fleetRow('  unacked points', (r) => r.unacked);
    fleetRow('  server RSS peak MB', (r) => r.serverRssPeakMb);
    fleetRow('  device timer slip p99 ms', (r) => r.slip.p99);
    fleetRow('  cores: server', (r) => r.cores.server, 2);
    fleetRow('  cores: clients (bench process)', (r) => r.cores.clients, 2);
    fleetRow('  cores: other processes', (r) => r.cores.others, 2);
    fleetRow('  disk commit p99 ms (probe)', (r) => r.diskCommit?.p99 ?? Number.NaN, 1);
  }
  const failures = cmp.runs.filter((r) => r.error);
  printGrid(`A+B. fieldsync vs peers: median of ${cmp.rounds} interleaved round(s) (min–max); fresh server per run; all on 127.0.0.1`, rows, [
    ...systems.map((s) => `${s.label}: server = ${s.server}; client = ${s.client}`),
    ...Object.entries(cmp.fleet500Decisions).map(([k, v]) => `500 devices, ${systems.find((s) => s.key === k)?.label}: ${v}`),
    ...failures.map((f) => `FAILED round ${f.round} ${f.workload} ${f.system}: ${f.error!.split('\n')[0]}`),
    ...[...new Set(cmp.runs.flatMap((r) => r.bulk?.notes ?? []))].map((n) => `note: ${n}`),
  ]);
}

function medianOf(values: number[]): number {
  const ok2 = values.filter((v) => Number.isFinite(v));
  return ok2.length ? spread(ok2).median : Number.NaN;
}

/**
 * The issue's targets, met or missed with the numbers. Peers: measured medians when they ran,
 * otherwise the reference figures quoted in the issue (labelled as such).
 */
export function evaluateTargets(input: {
  raw: RawBaselines;
  oursBulkSmall: BulkResult[];
  /** Our fleet runs the GPS targets are checked on, each labelled with how the devices were simulated. */
  fleets: { label: string; devices: 100 | 500; results: FleetResult[] }[];
  scaling?: BenchFigure[];
  unitLoad?: UnitLoadResult;
  comparison?: Comparison;
  ceilings?: Partial<Ceilings>;
}): Target[] {
  const targets: Target[] = [];
  const push = medianOf(input.oursBulkSmall.map((b) => bulkRates(b).push));
  const pull = medianOf(input.oursBulkSmall.map((b) => bulkRates(b).pull));
  let bestPush: { label: string; rate: number };
  let bestPull: { label: string; rate: number };
  if (input.comparison) {
    const peers = input.comparison.systems.filter((s) => s.key !== 'ours');
    const rates = peers.map((s) => ({ label: s.label, push: medianOf(ok(input.comparison!.runs, s.key, 'bulk-small', (r) => r.bulk).map((b) => bulkRates(b).push)), pull: medianOf(ok(input.comparison!.runs, s.key, 'bulk-small', (r) => r.bulk).map((b) => bulkRates(b).pull)) }));
    const bp = rates.filter((r) => Number.isFinite(r.push)).sort((a, b) => b.push - a.push)[0];
    const bl = rates.filter((r) => Number.isFinite(r.pull)).sort((a, b) => b.pull - a.pull)[0];
    bestPush = { label: `${bp?.label ?? '?'} (measured)`, rate: bp?.push ?? Number.NaN };
    bestPull = { label: `${bl?.label ?? '?'} (measured)`, rate: bl?.pull ?? Number.NaN };
  } else {
    bestPush = { label: 'RxServer 3.6 s (issue reference, not measured here)', rate: 10_000 / ISSUE_REFERENCE.rxserver.push10k };
    bestPull = { label: 'RxServer 0.78 s (issue reference, not measured here)', rate: 10_000 / ISSUE_REFERENCE.rxserver.pull10k };
  }
  const ratio = (a: number, b: number) => a / b;
  const pr = ratio(push, bestPush.rate);
  const alone = input.ceilings?.client?.find((c) => c.via === 'in-process' && c.kind.startsWith('GPS'));
  const overHttp = input.ceilings?.client?.find((c) => c.via === 'plain-http' && c.kind.startsWith('GPS'));
  const ceilingNote = (needed: number, pick: (c: ClientCeiling) => number) => [
    alone ? `; the RxDB client alone reaches ${fmtNum(pick(alone))} docs/s in this run (${((100 * needed) / pick(alone)).toFixed(0)} % of it is needed)` : '',
    overHttp ? `; our client over HTTP to a server doing no work reaches ${fmtNum(pick(overHttp))} (${((100 * needed) / pick(overHttp)).toFixed(0)} %)` : '',
  ].join('');
  targets.push({ name: 'bulk push 10k small vs best peer', goal: '≥ 4× faster', measured: `${fmtNum(push)} vs ${fmtNum(bestPush.rate)} docs/s (${bestPush.label}) = ${pr.toFixed(2)}×`, met: pr >= 4, ...(pr < 4 ? { note: `short by ${(4 / pr).toFixed(1)}× (needs ${fmtNum(4 * bestPush.rate)} docs/s, i.e. ${(10_000 / (4 * bestPush.rate)).toFixed(2)} s for 10k)${ceilingNote(4 * bestPush.rate, (c) => c.pushDocsPerSec)}` } : {}) });
  const lr = ratio(pull, bestPull.rate);
  targets.push({ name: 'bulk pull 10k small vs best peer', goal: '≥ 2× faster', measured: `${fmtNum(pull)} vs ${fmtNum(bestPull.rate)} docs/s (${bestPull.label}) = ${lr.toFixed(2)}×`, met: lr >= 2, ...(lr < 2 ? { note: `short by ${(2 / lr).toFixed(1)}× (needs ${fmtNum(2 * bestPull.rate)} docs/s)${ceilingNote(2 * bestPull.rate, (c) => c.pullDocsPerSec)}` } : {}) });
  const raw = input.raw.small.insertDocsPerSec;
  targets.push({ name: 'bulk push vs raw SQLite insert (same run)', goal: '≥ 30 %', measured: `${fmtNum(push)} / ${fmtNum(raw)} docs/s = ${((100 * push) / raw).toFixed(1)} %`, met: push / raw >= 0.3, ...(push / raw < 0.3 ? { note: `needs ${fmtNum(0.3 * raw)} docs/s (${((0.3 * raw) / push).toFixed(1)}× more)${ceilingNote(0.3 * raw, (c) => c.pushDocsPerSec)}` } : {}) });
  targets.push({ name: 'bulk pull vs raw SQLite insert (same run)', goal: '≥ 30 %', measured: `${fmtNum(pull)} / ${fmtNum(raw)} docs/s = ${((100 * pull) / raw).toFixed(1)} %`, met: pull / raw >= 0.3, ...(pull / raw < 0.3 ? { note: `needs ${fmtNum(0.3 * raw)} docs/s (${((0.3 * raw) / pull).toFixed(1)}× more)${ceilingNote(0.3 * raw, (c) => c.pullDocsPerSec)}` } : {}) });
  for (const fleet of input.fleets) {
    if (fleet.results.length === 0) continue;
    const p99 = medianOf(fleet.results.map((f) => f.e2e.p99));
    const contended = fleet.results.map(contention).filter(Boolean).length;
    const runs = `${fleet.results.length > 1 ? ` (median of ${fleet.results.length})` : ''}${contended ? ` [${contended} of ${fleet.results.length} run(s) on a busy machine, see WARNING]` : ''}`;
    if (fleet.devices === 100) {
      const cpu = medianOf(fleet.results.map((f) => f.serverCpuMsPerPoint));
      targets.push({ name: `GPS 100 devices e2e p99, ${fleet.label}`, goal: '< 50 ms', measured: `${fmtNum(p99, 1)} ms${runs}`, met: p99 < 50, ...(p99 >= 50 ? { note: `over by ${fmtNum(p99 - 50, 1)} ms (${(p99 / 50).toFixed(1)}×)` } : {}) });
      const floor = input.ceilings?.http?.find((h) => h.devices === 100)?.serverCpuMsPerRequest;
      const floorNote = floor === undefined ? '' : `; a plain Node HTTP server answering the same devices' requests used ${fmtNum(floor, 3)} ms per request in this run (ours = ${(cpu / floor).toFixed(1)}× that)`;
      targets.push({ name: `GPS 100 devices server CPU per point, ${fleet.label}`, goal: '< 0.5 ms', measured: `${fmtNum(cpu, 2)} ms${runs}`, met: cpu < 0.5, ...(cpu >= 0.5 ? { note: `over by ${(cpu / 0.5).toFixed(1)}×${floorNote}` } : {}) });
    } else {
      const written = fleet.results.reduce((n, f) => n + f.written, 0);
      const missing = fleet.results.reduce((n, f) => n + Math.max(0, f.written - f.delivered) + f.writeErrors, 0);
      const unacked = fleet.results.reduce((n, f) => n + f.unacked, 0);
      // Acknowledged by the server but never at the dispatcher: the only kind the server is to blame for.
      const ackedNotDelivered = fleet.results.reduce((n, f) => n + Math.max(0, f.written - f.unacked - f.delivered), 0);
      targets.push({ name: `GPS 500 devices e2e p99, ${fleet.label}`, goal: '< 100 ms', measured: `${fmtNum(p99, 1)} ms${runs}`, met: p99 < 100, ...(p99 >= 100 ? { note: `over by ${fmtNum(p99 - 100, 1)} ms (${(p99 / 100).toFixed(1)}×)` } : {}) });
      targets.push({
        name: `GPS 500 devices nothing lost, ${fleet.label}`, goal: '0 lost',
        measured: `${missing} of ${written} not at the dispatcher 10 s after the run: ${unacked} never acknowledged (still queued on the devices), ${ackedNotDelivered} acknowledged but not delivered`,
        met: missing === 0, ...(missing > 0 && ackedNotDelivered === 0 ? { note: 'late, not lost: the devices had not pushed them yet' } : {}),
      });
    }
  }
  if (input.scaling?.length) {
    const ratios = input.scaling.filter((f) => f.name.startsWith('recent-change pull:'));
    const last = ratios[ratios.length - 1];
    if (last?.ratio !== null && last) targets.push({ name: `scaling: ${last.name.replace('recent-change pull: ', '')}`, goal: '≤ 1.2', measured: `${last.value} ms vs ${last.baseline} ms = ${last.ratio}`, met: last.ratio! <= 1.2 });
  }
  if (input.unitLoad) {
    targets.push({ name: `issue #6: statuses lost (${input.unitLoad.units} units × ${input.unitLoad.seconds} s)`, goal: '0', measured: `${input.unitLoad.statusesLost} of ${input.unitLoad.statusesAcked}`, met: input.unitLoad.statusesLost === 0 });
    const u = input.unitLoad;
    targets.push({
      name: `issue #6: push → dispatch p99 (${u.units} units × ${u.seconds} s)`, goal: '< 100 ms',
      measured: `${u.pushToDispatch.p99.toFixed(1)} ms (point created → dispatch p99 ${u.pointToDispatch.p99.toFixed(1)} ms; unit timer slip p99 ${u.slip.p99.toFixed(1)} ms)`,
      met: u.pushToDispatch.p99 < 100, ...(contention(u) ? { note: 'machine busy during the run' } : {}),
    });
  }
  return targets;
}

export function printTargets(targets: Target[]): void {
  printGrid('targets', [['target', 'goal', 'measured', 'result'], ...targets.map((t) => [t.name, t.goal, t.measured, `${t.met === null ? '?' : t.met ? 'MET' : 'MISSED'}${t.note ? ` — ${t.note}` : ''}`])]);
}

export function buildChart(input: {
  subtitle: string[];
  comparison?: Comparison;
  oursBulk: BulkResult[];
  oursFleet100: FleetResult[];
  oursFleet500: FleetResult[];
  oursHttp100: FleetResult[];
  oursHttp500: FleetResult[];
  notes: string[];
}): string {
  const cmp = input.comparison;
  const systems: ChartSystem[] = cmp
    ? cmp.systems.map((s) => ({ key: s.key, label: s.label, color: COLORS[s.key] ?? '#777' }))
    : [{ key: 'ours', label: 'fieldsync (RxDB client)', color: COLORS['ours']! }, { key: 'ours-http', label: 'fieldsync (HTTP devices)', color: COLORS['ours-http']! }];
  const bulkOf = (key: string, workload: Workload): BulkResult[] => (cmp ? ok(cmp.runs, key, workload, (r) => r.bulk) : key === 'ours' ? input.oursBulk.filter((b) => (workload === 'bulk-small') === b.kind.startsWith('GPS')) : []);
  const fleetOf = (key: string, workload: Workload): FleetResult[] => {
    if (cmp) return ok(cmp.runs, key, workload, (r) => r.fleet);
    if (key === 'ours') return workload === 'fleet-100' ? input.oursFleet100 : input.oursFleet500;
    return workload === 'fleet-100' ? input.oursHttp100 : input.oursHttp500;
  };
  const throughput: ThroughputGroup[] = [
    ['push GPS ~200 B', 'bulk-small', 'push'], ['pull GPS ~200 B', 'bulk-small', 'pull'], ['push ePCR ~2 KB', 'bulk-epcr', 'push'], ['pull ePCR ~2 KB', 'bulk-epcr', 'pull'],
  ].map(([label, workload, dir]) => ({
    label: label!,
    values: Object.fromEntries(systems.map((s) => {
      const rates = bulkOf(s.key, workload as Workload).map((b) => bulkRates(b)[dir as 'push' | 'pull']);
      return [s.key, rates.length ? medianOf(rates) : null];
    })),
  }));
  const latency: LatencyGroup[] = (['fleet-100', 'fleet-500'] as const).map((workload) => ({
    label: workload === 'fleet-100' ? '100 devices × 1 Hz' : '500 devices × 1 Hz',
    values: Object.fromEntries(systems.map((s) => {
      const f = fleetOf(s.key, workload);
      if (f.length === 0) return [s.key, null];
      return [s.key, { p50: medianOf(f.map((r) => r.e2e.p50)), p95: medianOf(f.map((r) => r.e2e.p95)), p99: medianOf(f.map((r) => r.e2e.p99)), note: `${medianOf(f.map((r) => r.serverCpuMsPerPoint)).toFixed(2)} ms CPU/pt` }];
    })),
  }));
  return summarySvg({
    title: cmp ? 'fieldsync vs peers: bulk replication and live GPS fleet' : 'fieldsync: bulk replication and live GPS fleet (peers not run: npm run bench:peers)',
    subtitle: input.subtitle, systems, throughput, latency, notes: input.notes,
  });
}
