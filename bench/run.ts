import { attachmentBenchmarks } from './attachments.ts';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { runBulk, type BulkResult } from './bulk.ts';
import { clientCeiling, httpFloor, type ClientCeiling } from './ceilings.ts';
import { comparePeers, type Comparison } from './compare.ts';
import { fleetWarmupSeconds, runFleet, type FleetResult } from './fleet.ts';
import { epcrDoc, gpsDoc } from './lib/docs.ts';
import { mainThreadProfile, printProfile, type ProfileWindow } from './lib/profile.ts';
import { loadAverage } from './lib/proc.ts';
import { fmtNum, runMeta } from './lib/report.ts';
import { printTable, type BenchFigure } from './lib/stats.ts';
import { ensurePeersInstalled, ours, peerSystems, TENANT } from './lib/systems.ts';
import { productBenchmarks } from './product.ts';
import { rawBaselines } from './raw.ts';
import { pushBenchmarks, replicationBenchmarks, scalingBenchmarks } from './replication.ts';
import { buildChart, evaluateTargets, printBulkOurs, printCeilings, printComparison, printFleet, printRaw, printTargets, printUnitLoad, type Ceilings, type Target } from './summary.ts';
import { runHttpFleet, runUnitLoad, type UnitLoadResult } from './unit-load.ts';
import { printScaleout, runScaleout, writeScaleout } from './scaleout.ts';
import { dispatchMapBenchmarks } from './dispatch-map.ts';

/**
 * `npm run bench` (add `-- --quick` for a smaller run): our suite, workloads A–D and issue #6.
 * `npm run bench:peers`: workloads A and B on fieldsync and the peers, interleaved, three rounds.
 * `-- --profile` adds profiled runs of our server (not counted in the figures) and prints the top frames.
 * `-- --only=push,units,scaling,bulk,fleet,scaleout` runs only the named parts of our suite (push: issue
 * #2's HTTP push figures; units: issue #6's 500 units; scaling: workload C; bulk: workload A with
 * our RxDB client beside raw SQLite; fleet: workload B at 100 devices, HTTP and RxDB clients;
 * scaleout: issue #19's 1–3 processes on PostgreSQL and the commit-ordering micro-benchmark, also
 * written to bench/results/scaleout.json; dispatchmap: issue #20's dispatch console with 500 live units and 200 calls in
 * Chromium, tile map against grid map, bench/dispatch-map.ts),
 * prints them (with their server profiles under `--profile`), and writes
 * bench/results/partial.json instead of the full results.
 * Figures go to bench/results/ (JSON and summary.svg).
 */
const SERVER_LINE = 'our server: separate process (`npm start`\'s CLI), durable SQLite (WAL, synchronous=FULL), hook runner on, socket.io /sync and /live fan-out on';
const BATCH = 500;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const peers = process.argv.includes('--peers');
  const profile = process.argv.includes('--profile');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').filter(Boolean);
  const started = Date.now();
  const resultsDir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const meta = runMeta();
  console.log(`fieldsync benchmarks on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`code: commit ${String(meta['commit'])} with ${String(meta['uncommittedFiles'])} uncommitted file(s) in the work tree`);
  console.log(SERVER_LINE);
  console.log('clients: worker threads of this process, library clients on memory storage; everything on 127.0.0.1');

  if (only) {
    await runParts(only, { quick, profile, peers, resultsDir, meta });
    return;
  }

  // D: raw baselines, measured in this run (the targets compare against them).
  const raw = rawBaselines(10_000);
  printRaw(raw);
  const fleetSeconds = quick ? 10 : 30;
  const warmupSeconds = fleetWarmupSeconds(quick);
  const ceilings: Ceilings = {
    client: await clientCeilings(quick ? 2_000 : 10_000),
    http: [await httpFloor({ devices: 100, seconds: fleetSeconds })],
  };
  printCeilings(ceilings);

  let comparison: Comparison | undefined;
  let oursBulk: BulkResult[] = [];
  let oursFleet100: FleetResult[] = [];
  let oursFleet500: FleetResult[] = [];
  let oursHttp100: FleetResult[] = [];
  let oursHttp500: FleetResult[] = [];
  let scaling: BenchFigure[] | undefined;
  let unitLoad: UnitLoadResult | undefined;

  if (peers) {
    comparison = await comparePeers({ quick });
    printComparison(comparison);
    oursBulk = comparison.runs.filter((r) => r.system === 'ours' && r.bulk).map((r) => r.bulk!);
    oursFleet100 = comparison.runs.filter((r) => r.system === 'ours' && r.workload === 'fleet-100' && r.fleet).map((r) => r.fleet!);
    oursFleet500 = comparison.runs.filter((r) => r.system === 'ours' && r.workload === 'fleet-500' && r.fleet).map((r) => r.fleet!);
    oursHttp100 = comparison.runs.filter((r) => r.system === 'ours-http' && r.workload === 'fleet-100' && r.fleet).map((r) => r.fleet!);
    oursHttp500 = comparison.runs.filter((r) => r.system === 'ours-http' && r.workload === 'fleet-500' && r.fleet).map((r) => r.fleet!);
    console.log('\n(workload C, scaling, and issue #6 are ours only: npm run bench)');
  } else {
    const replication = await replicationBenchmarks({ quick });
    printTable('A (protocol only): HTTP push/pull without a client database, vs raw SQLite', replication);
    await productBenchmarks({ quick, resultsDir });

    const count = 10_000;
    oursBulk = [
      await runBulk(ours, 'GPS ~200 B', 'gps_points', Array.from({ length: count }, (_, i) => gpsDoc(TENANT, i)), BATCH),
      await runBulk(ours, 'ePCR ~2 KB', 'epcrs', Array.from({ length: count }, (_, i) => epcrDoc(TENANT, i)), BATCH),
    ];
    printBulkOurs(oursBulk, raw);

    const seconds = fleetSeconds;
    oursHttp100 = [await runHttpFleet({ devices: 100, seconds, warmupSeconds })];
    oursHttp500 = [await runHttpFleet({ devices: 500, seconds, warmupSeconds })];
    oursFleet100 = [await runFleet(ours, { devices: 100, seconds, warmupSeconds, batchSize: BATCH })];
    printFleet(`B. GPS fleet, ${seconds} s after a ${warmupSeconds}-s warm-up, one point per device per second, live push; one dispatcher on the /live feed`, [
      { label: 'HTTP devices 100', fleet: oursHttp100 }, { label: 'HTTP devices 500', fleet: oursHttp500 }, { label: 'RxDB client 100', fleet: oursFleet100 },
    ], [
      'HTTP devices: each device sends the HTTP push batches RxDB\'s live replication sends (everything queued, ≤200 rows, one request in flight), no client database: protocol + server',
      'RxDB client: RxDB 17 + createFieldsyncDatabase + replicateCollection (live push), 13 devices per worker thread: what the peers are compared on (npm run bench:peers; 500 RxDB clients saturate this 2-core machine)',
      'dispatcher: socket.io /live feed, event unit:position; LIVE_GPS_INTERVAL_MS=0 for these runs, so no position is coalesced; device threads at nice 10',
      'e2e = arrival at the dispatcher − device timestamp taken just before the local write / queueing (same wall clock); ack = that moment → push acknowledged',
    ]);

    scaling = await scalingBenchmarks({ quick });
    printTable('C. scaling: pull of the 100 most recent changes', scaling);
    // Issue #2's figures in one file: push, initial pull, and the recent-change pulls by store size.
    writeFileSync(path.join(resultsDir, 'replication.json'), JSON.stringify([...replication, ...scaling], null, 2) + '\n');

    unitLoad = await runUnitLoad({ units: 500, seconds: quick ? 20 : 60 });
    printUnitLoad(unitLoad);

    // Issue #19: several processes on one PostgreSQL, beside one process, and the ordering scheme alone.
    const scaleout = await runScaleout({ quick });
    printScaleout(scaleout);
    writeScaleout(path.join(resultsDir, 'scaleout.json'), meta, scaleout);

    // Issue 18: photos through the service worker (real Chromium); a failure is reported and the run goes on.
    try {
      const attachments = await attachmentBenchmarks({ quick });
      printTable('Attachments: photo upload through the service worker vs a plain fetch, resume overhead (issue 18)', attachments);
      writeFileSync(path.join(resultsDir, 'attachments.json'), JSON.stringify({ meta, figures: attachments }, null, 2) + '\n');
    } catch (error) {
      console.log(`attachments: not measured (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  const fleets = [
    { label: 'HTTP devices', devices: 100 as const, results: oursHttp100 }, { label: 'RxDB client devices', devices: 100 as const, results: oursFleet100 },
    { label: 'HTTP devices', devices: 500 as const, results: oursHttp500 }, { label: 'RxDB client devices', devices: 500 as const, results: oursFleet500 },
  ];
  const targets: Target[] = evaluateTargets({ raw, oursBulkSmall: oursBulk.filter((b) => b.kind.startsWith('GPS')), fleets, ...(scaling ? { scaling } : {}), ...(unitLoad ? { unitLoad } : {}), ...(comparison ? { comparison } : {}), ceilings });
  printTargets(targets);

  const profiles: Record<string, unknown> = {};
  if (profile) {
    const dir = path.join(tmpdir(), `fieldsync-bench-profiles-${process.pid}`);
    const profiled = async <T>(label: string, job: (dir: string) => Promise<T>, cut: (result: T) => { window: ProfileWindow; per: { count: number; unit: string } }[]) => {
      const sub = path.join(dir, label.replace(/\W+/g, '-'));
      rmSync(sub, { recursive: true, force: true });
      mkdirSync(sub, { recursive: true });
      const result = await job(sub);
      const file = mainThreadProfile(sub);
      if (!file) return;
      for (const [i, c] of cut(result).entries()) {
        const name = cut(result).length > 1 ? `${label} (${i === 0 ? 'push' : 'pull'})` : label;
        profiles[name] = { file, ...printProfile(`profile (extra run, not in the figures): ${name}`, file, { limit: 20, ...c }) };
      }
    };
    console.log('\nprofiled runs of our server (node --cpu-prof; extra runs, not counted above)');
    await profiled('bulk 10k GPS', (d) => runBulk(ours, 'GPS ~200 B', 'gps_points', Array.from({ length: 10_000 }, (_, i) => gpsDoc(TENANT, i)), BATCH, d),
      (r) => [{ window: r.windows.push, per: { count: r.count, unit: 'doc' } }, { window: r.windows.pull, per: { count: r.count, unit: 'doc' } }]);
    await profiled('GPS fleet 100 HTTP devices', (d) => runHttpFleet({ devices: 100, seconds: quick ? 10 : 30, warmupSeconds, profileDir: d }),
      (r) => [{ window: r.window, per: { count: r.measuredPoints, unit: 'point' } }]);
    await profiled('issue #6 500 units', (d) => runUnitLoad({ units: 500, seconds: 20, profileDir: d }),
      (r) => [{ window: r.window, per: { count: r.pointsStored, unit: 'point' } }]);
  }

  // Issue #20: the dispatch console with the map in Chromium (10 minutes of streaming per map; 1 with --quick).
  const dispatchMap = await dispatchMapBenchmarks({ quick });
  printTable('Issue #20: dispatch console with the map, in Chromium', dispatchMap);

  const subtitle = [
    `${String(meta['machine'])}, node ${process.version}, load average at start ${String(meta['loadAverageAtStart'])}, at end ${loadAverage()}; ${new Date().toISOString().slice(0, 16)}Z; commit ${String(meta['commit'])} (+${String(meta['uncommittedFiles'])} uncommitted files)`,
    comparison ? `median of ${comparison.rounds} interleaved round(s); bulk ${comparison.docsPerBulk.toLocaleString('en-US')} docs in batches of ${comparison.batchSize}; fleet ${comparison.fleetSeconds} s; all on 127.0.0.1, fresh server per run`
      : `one run each; bulk 10,000 docs in batches of ${BATCH}; fleet ${quick ? 10 : 30} s; all on 127.0.0.1, fresh server per run`,
  ];
  const notes = [
    'fieldsync: SQLite WAL synchronous=FULL (durable), hook runner on, socket.io fan-out on; dispatcher = socket.io /live feed with LIVE_GPS_INTERVAL_MS=0 (nothing coalesced).',
    'fieldsync (RxDB client) = library clients like the peers; fieldsync/HTTP = devices sending the same HTTP push batches without a client database (protocol + server).',
    ...(comparison ? [
      'PouchDB and RxDB17+Couch: express-pouchdb 4.2 (PouchDB 9, LevelDB on disk, defaults). RxServer15: rxdb-server 15.22 on RxDB 15 MEMORY storage (not durable).',
      'Clients: library clients on memory storage in worker threads (RxDB: 13 devices per thread). Latency = dispatcher arrival − device timestamp, one wall clock.',
    ] : ['Peers: run npm run bench:peers. Clients: library clients on memory storage in worker threads.']),
    ...(['in-process', 'plain-http'] as const).map((via) => {
      const gps = ceilings.client.find((c) => c.via === via && c.kind.startsWith('GPS'));
      return `Limit in this run, ${fmtNum(gps?.count)} GPS points: ${via === 'in-process' ? 'the RxDB client alone (instant in-process handlers)' : 'our client over HTTP to a server doing no work'} pushes ${fmtNum(gps?.pushDocsPerSec)} and pulls ${fmtNum(gps?.pullDocsPerSec)} docs/s.`;
    }),
    `Limit in this run: a plain Node HTTP server under 100 devices uses ${ceilings.http.map((h) => fmtNum(h.serverCpuMsPerRequest, 3)).join(', ')} ms CPU per request.`,
  ];
  // summary.svg is the comparison (npm run bench:peers); our suite alone draws ours.svg beside it.
  const chart = path.join(resultsDir, peers ? 'summary.svg' : 'ours.svg');
  writeFileSync(chart, buildChart({ subtitle, ...(comparison ? { comparison } : {}), oursBulk, oursFleet100, oursFleet500, oursHttp100, oursHttp500, notes }));
  const out = {
    meta: { ...meta, loadAverageAtEnd: loadAverage(), quick, server: SERVER_LINE, minutes: (Date.now() - started) / 60_000 },
    raw, ceilings, targets, ...(comparison ? { comparison } : { bulk: oursBulk, fleet: [...oursHttp100, ...oursHttp500, ...oursFleet100], scaling, unitLoad }), dispatchMap, profiles,
  };
  const file = path.join(resultsDir, peers ? 'peers.json' : 'ours.json');
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${file} and ${chart} in ${((Date.now() - started) / 60_000).toFixed(1)} min; load average now ${loadAverage()}`);
}

const PARTS = ['push', 'units', 'scaling', 'bulk', 'fleet', 'scaleout', 'dispatchmap', 'attachments'] as const;

/** Both client ceilings (ceilings.ts) for both document sizes, in batches of BATCH. */
async function clientCeilings(count: number): Promise<ClientCeiling[]> {
  const out: ClientCeiling[] = [];
  for (const via of ['in-process', 'plain-http'] as const) {
    for (const kind of ['GPS ~200 B', 'ePCR ~2 KB'] as const) out.push(await clientCeiling(via, kind, count, BATCH));
  }
  return out;
}

/** A subset of our suite, for measuring one change: each figure beside its same-run baseline. */
async function runParts(parts: string[], options: { quick: boolean; profile: boolean; peers: boolean; resultsDir: string; meta: Record<string, unknown> }): Promise<void> {
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--only: unknown part(s) ${unknown.join(', ')}; the parts are ${PARTS.join(', ')}`);
  const dir = options.profile ? path.join(tmpdir(), `fieldsync-bench-profiles-${process.pid}`) : undefined;
  const out: Record<string, unknown> = { meta: options.meta, parts };
  if (parts.includes('push')) {
    const figures = await pushBenchmarks({ quick: options.quick, ...(dir ? { profileDir: path.join(dir, 'push') } : {}) });
    printTable('A (protocol only): HTTP push without a client database, vs raw SQLite', figures.map(({ window: _w, profileDir: _p, count: _c, ...f }) => f));
    for (const f of figures) {
      const file = f.profileDir ? mainThreadProfile(f.profileDir) : undefined;
      if (file) printProfile(`profile: ${f.name}`, file, { limit: 25, window: f.window, per: { count: f.count, unit: 'doc' } });
    }
    out['push'] = figures.map(({ window: _w, profileDir: _p, count: _c, ...f }) => f);
  }
  if (parts.includes('attachments')) {
    const figures = await attachmentBenchmarks({ quick: options.quick });
    printTable('Attachments: photo upload through the service worker vs a plain fetch, resume overhead (issue 18)', figures);
    out['attachments'] = figures;
  }
  if (parts.includes('dispatchmap')) {
    // Issue #20: the dispatch console in Chromium, 500 live units and 200 calls (bench/dispatch-map.ts).
    const figures = await dispatchMapBenchmarks({ quick: options.quick });
    printTable('Issue #20: dispatch console with the map, in Chromium', figures);
    out['dispatchMap'] = figures;
  }
  if (parts.includes('units')) {
    const sub = dir ? path.join(dir, 'units') : undefined;
    if (sub) mkdirSync(sub, { recursive: true });
    const unitLoad = await runUnitLoad({ units: 500, seconds: options.quick ? 20 : 60, ...(sub ? { profileDir: sub } : {}) });
    printUnitLoad(unitLoad);
    const file = sub ? mainThreadProfile(sub) : undefined;
    if (file) printProfile('profile: issue #6 500 units', file, { limit: 25, window: unitLoad.window, per: { count: unitLoad.pointsStored, unit: 'point' } });
    out['unitLoad'] = unitLoad;
  }
  if (parts.includes('bulk')) {
    const raw = rawBaselines(10_000);
    printRaw(raw);
    const client = await clientCeilings(10_000);
    printCeilings({ client });
    out['clientCeiling'] = client;
    const bulk: BulkResult[] = [];
    for (const [kind, collection, make] of [['GPS ~200 B', 'gps_points', gpsDoc], ['ePCR ~2 KB', 'epcrs', epcrDoc]] as const) {
      const sub = dir ? path.join(dir, `bulk-${collection}`) : undefined;
      if (sub) mkdirSync(sub, { recursive: true });
      const result = await runBulk(ours, kind, collection, Array.from({ length: 10_000 }, (_, i) => make(TENANT, i)), BATCH, sub);
      bulk.push(result);
      const file = sub ? mainThreadProfile(sub) : undefined;
      if (file) {
        printProfile(`profile: bulk push ${kind}`, file, { limit: 20, window: result.windows.push, per: { count: result.count, unit: 'doc' } });
        printProfile(`profile: bulk pull ${kind}`, file, { limit: 20, window: result.windows.pull, per: { count: result.count, unit: 'doc' } });
      }
    }
    printBulkOurs(bulk, raw);
    out['raw'] = raw;
    out['bulk'] = bulk;
  }
  if (parts.includes('fleet')) {
    const seconds = options.quick ? 10 : 30;
    // Every system below runs the same warm-up before its window (see fleetWarmupSeconds).
    const warmupSeconds = fleetWarmupSeconds(options.quick);
    const subHttp = dir ? path.join(dir, 'fleet-http') : undefined;
    const subRx = dir ? path.join(dir, 'fleet-rxdb') : undefined;
    for (const sub of [subHttp, subRx]) if (sub) mkdirSync(sub, { recursive: true });
    const floor = await httpFloor({ devices: 100, seconds });
    printCeilings({ http: [floor] });
    out['httpFloor'] = floor;
    const http = await runHttpFleet({ devices: 100, seconds, warmupSeconds, ...(subHttp ? { profileDir: subHttp } : {}) });
    const rx = await runFleet(ours, { devices: 100, seconds, warmupSeconds, batchSize: BATCH, ...(subRx ? { profileDir: subRx } : {}) });
    // With --peers, RxServer's fleet in the same run: issue #21 compares server CPU per GPS point with it.
    let rxServer: FleetResult | undefined;
    if (options.peers) {
      ensurePeersInstalled();
      const peer = peerSystems().find((s) => s.key === 'rxserver')!;
      rxServer = await runFleet(peer, { devices: 100, seconds, warmupSeconds, batchSize: BATCH });
    }
    printFleet(`B. GPS fleet, ${seconds} s after a ${warmupSeconds}-s warm-up, 100 devices`, [
      { label: 'HTTP devices 100', fleet: [http] },
      { label: 'RxDB client 100', fleet: [rx] },
      ...(rxServer ? [{ label: 'RxServer15 100', fleet: [rxServer] }] : []),
    ], []);
    if (rxServer) {
      // Steady state first (after the warm-up, what a server running all shift costs), then cold (the warm-up's compiling included).
      const steady = (f: FleetResult): number => f.serverCpuMsPerPoint;
      const cold = (f: FleetResult): number => f.serverCpuMsPerPointCold;
      console.log(`server CPU per point, steady (${seconds} s after a ${warmupSeconds}-s warm-up): HTTP devices ${steady(http).toFixed(3)} ms, ours (RxDB devices) ${steady(rx).toFixed(3)} ms, RxServer15 ${steady(rxServer).toFixed(3)} ms`);
      console.log(`server CPU per point, cold (from the first point, warm-up included): HTTP devices ${cold(http).toFixed(3)} ms, ours (RxDB devices) ${cold(rx).toFixed(3)} ms, RxServer15 ${cold(rxServer).toFixed(3)} ms`);
      console.log(`ratio ours (RxDB devices) / RxServer15: steady ${(steady(rx) / steady(rxServer)).toFixed(2)}, cold ${(cold(rx) / cold(rxServer)).toFixed(2)}; HTTP devices / RxServer15: steady ${(steady(http) / steady(rxServer)).toFixed(2)}, cold ${(cold(http) / cold(rxServer)).toFixed(2)}; load ${loadAverage()}`);
    }
    // Where each server's CPU went, by thread (main = the event loop; libuv-worker = fsyncs and file I/O off the loop; V8 threads = GC and compiling).
    for (const [label, f] of [['HTTP devices', http], ['RxDB devices', rx], ...(rxServer ? [['RxServer15', rxServer] as const] : [])] as const) {
      const threads = (f.serverThreads ?? []).slice(0, 6).map((t) => `${t.name} ${((1000 * t.user) / f.measuredPoints).toFixed(2)}+${((1000 * t.sys) / f.measuredPoints).toFixed(2)}`);
      console.log(`server CPU per point by thread (user+sys ms, steady), ${label}: ${threads.join(', ')}`);
    }
    for (const [label, sub, result] of [['HTTP devices', subHttp, http], ['RxDB devices', subRx, rx]] as const) {
      const file = sub ? mainThreadProfile(sub) : undefined;
      if (file) printProfile(`profile: fleet 100 ${label}`, file, { limit: 25, window: result.window, per: { count: result.measuredPoints, unit: 'point' } });
    }
    out['fleet'] = rxServer ? [http, rx, rxServer] : [http, rx];
  }
  if (parts.includes('scaling')) {
    const scaling = await scalingBenchmarks({ quick: options.quick });
    printTable('C. scaling: pull of the 100 most recent changes', scaling);
    out['scaling'] = scaling;
  }
  if (parts.includes('scaleout')) {
    const scaleout = await runScaleout({ quick: options.quick });
    printScaleout(scaleout);
    const scaleoutFile = path.join(options.resultsDir, 'scaleout.json');
    writeScaleout(scaleoutFile, options.meta, scaleout);
    console.log(`wrote ${scaleoutFile}`);
    out['scaleout'] = scaleout;
  }
  out['loadAverageAtEnd'] = loadAverage();
  const file = path.join(options.resultsDir, 'partial.json');
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${file}; load average now ${loadAverage()}`);
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
