import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { createFieldsyncDatabase } from '../client/sync/database.ts';
import { startSync } from '../client/sync/sync-engine.ts';
import { devToken } from '../server/auth/identity.ts';
import { SqliteStore } from '../server/store/sqlite.ts';
import type { WireDocument } from '../server/store/types.ts';
import { startServerProcess } from '../test/helpers/server-process.ts';
import { freePort } from '../test/helpers/server.ts';
import { BENCH_UNIT, epcrDoc, gpsDoc } from './lib/docs.ts';
import { rawInsertRate, rawRecentReadMs } from './lib/raw-sqlite.ts';
import { monotonicMicros, type ProfileWindow } from './lib/profile.ts';
import { cpuSeconds } from './lib/proc.ts';
import { figure, median, type BenchFigure } from './lib/stats.ts';
import { ours } from './lib/systems.ts';
import { sleep } from './lib/clock.ts';
import { schemaVersionOf } from '../shared/schemas/index.ts';

const TENANT = 'bench';
/** Reads go through an admin console (the whole tenant); writes through a crew device of the unit the documents belong to. */
const TOKEN = devToken({ tenantId: TENANT, role: 'admin', deviceId: 'bench' });
const CREW_TOKEN = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'bench-crew', subject: BENCH_UNIT });
const BATCH = 500;
const CLIENTS = 4;

function workDir(label: string): string {
  const dir = path.join(tmpdir(), `fieldsync-bench-${label}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Fills a store directly (not timed): the scaling figures need a million documents. Seeding a
 * million documents through the store takes a minute or two, so the seeded file is kept in the
 * temp directory, keyed by the store's source and the document generator, and copied into the
 * run's fresh directory; any change to the store code makes a new seed.
 */
async function seed(dataDir: string, collection: string, count: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  const key = createHash('sha256')
    .update(readFileSync(path.resolve(import.meta.dirname, '../server/store/sqlite.ts')))
    .update(readFileSync(path.resolve(import.meta.dirname, '../server/store/types.ts')))
    .update(readFileSync(path.resolve(import.meta.dirname, 'lib/docs.ts')))
    .update(`${collection}|${count}|${make.toString()}`).digest('hex').slice(0, 16);
  const prefix = `fieldsync-bench-seed-${collection}-${count}-`;
  const cache = path.join(tmpdir(), `${prefix}${key}`);
  if (!existsSync(path.join(cache, 'done'))) {
    // Seeds made for older store code are of no further use: keep /tmp from filling up.
    for (const old of readdirSync(tmpdir())) if (old.startsWith(prefix)) rmSync(path.join(tmpdir(), old), { recursive: true, force: true });
    const building = `${cache}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    await seedStore(building, collection, count, make);
    rmSync(cache, { recursive: true, force: true });
    renameSync(building, cache);
    writeFileSync(path.join(cache, 'done'), new Date().toISOString());
  }
  for (const file of readdirSync(cache)) if (file !== 'done') cpSync(path.join(cache, file), path.join(dataDir, file));
}

async function seedStore(dataDir: string, collection: string, count: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  const store = new SqliteStore({ dataDir, synchronous: 'NORMAL' });
  for (let i = 0; i < count; i += 5000) {
    const docs = Array.from({ length: Math.min(5000, count - i) }, (_, k) => make(i + k) as WireDocument);
    await store.writeBatch({
      collection, tenantId: TENANT, actor: { kind: 'system', tenantId: TENANT },
      requests: docs.map((doc) => ({ id: doc['id'] as string, incoming: doc, decide: () => ({ action: 'write', doc }) })),
    });
  }
  await store.close();
}

/**
 * One timed push of `docs` through the HTTP API into a fresh server (4 clients, batches of 500),
 * in docs/s, with the CLOCK_MONOTONIC window of the pushing.
 */
async function pushOnce(collection: string, docs: Record<string, unknown>[], profileDir?: string): Promise<{ rate: number; cpuMicrosPerDoc: number; window: ProfileWindow }> {
  const dataDir = workDir(`push-${collection}`);
  const server = await ours.start({ dataDir, ...(profileDir ? { profileDir } : {}) });
  try {
    const bodies: string[] = [];
    for (let i = 0; i < docs.length; i += BATCH) bodies.push(JSON.stringify(docs.slice(i, i + BATCH).map((d) => ({ newDocumentState: d }))));
    // Warm-up, not timed: one batch of other documents, then a pause. A server that has been up a
    // while has its JIT warm and its push worker (server/replication/push-decoder.ts, started by
    // the first large body, about a second to start) running.
    const warmDocs = docs.slice(0, BATCH).map((d) => ({ newDocumentState: { ...d, id: randomUUID() } }));
    const warm = await fetch(`${server.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
      method: 'POST', headers: { authorization: `Bearer ${CREW_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(warmDocs),
    });
    if (!warm.ok) throw new Error(`warm-up push failed: ${warm.status} ${(await warm.text()).slice(0, 400)}`);
    await warm.arrayBuffer();
    await sleep(2000);
    let next = 0;
    const fromUs = monotonicMicros();
    const cpuStart = cpuSeconds(server.pid);
    const start = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await fetch(`${server.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
          method: 'POST', headers: { authorization: `Bearer ${CREW_TOKEN}`, 'content-type': 'application/json' }, body,
        });
        if (!response.ok) throw new Error(`push failed: ${response.status} ${(await response.text()).slice(0, 400)}`);
        await response.arrayBuffer();
      }
    }));
    const rate = docs.length / ((performance.now() - start) / 1000);
    // All of the server's threads (fsync pool, checkpointer, GC): less sensitive to a busy machine than the rate.
    const cpuMicrosPerDoc = (1e6 * (cpuSeconds(server.pid) - cpuStart)) / docs.length;
    return { rate, cpuMicrosPerDoc, window: { fromUs, toUs: monotonicMicros() } };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Push throughput beside raw SQLite, measured alternately (push, raw, push, raw, ...) and
 * reported as the median of each: on this shared machine a neighbour's burst during one push
 * moved a single-shot ratio by ±30 %.
 * Only the first round is profiled.
 */
async function pushThroughput(label: string, collection: string, docs: Record<string, unknown>[], rounds: number, profileDir?: string): Promise<BenchFigure & { window: ProfileWindow }> {
  const rates: number[] = [];
  const cpus: number[] = [];
  const raws: number[] = [];
  let window: ProfileWindow | undefined;
  for (let round = 0; round < rounds; round++) {
    const run = await pushOnce(collection, docs, round === 0 ? profileDir : undefined);
    rates.push(run.rate);
    cpus.push(run.cpuMicrosPerDoc);
    window ??= run.window;
    const rawDir = workDir(`raw-${collection}`);
    raws.push(rawInsertRate(rawDir, docs, BATCH, 'FULL'));
    rmSync(rawDir, { recursive: true, force: true });
  }
  const spread = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
  return {
    ...figure(`push ${label} (${CLIENTS} clients, batches of ${BATCH})`, median(rates), 'docs/s', median(raws),
      `durable SQLite, synchronous=FULL; median of ${rounds} alternating rounds (ours ${spread(rates)}, raw ${spread(raws)}); server CPU ${median(cpus).toFixed(1)} µs/doc`),
    window: window!,
  };
}

async function initialPull(count: number): Promise<BenchFigure[]> {
  const dataDir = workDir('pull');
  const make = (i: number) => gpsDoc(TENANT, i);
  await seed(dataDir, 'gps_points', count, make);
  const port = await freePort();
  const server = await startServerProcess({ port, dataDir, env: { LOG_LEVEL: 'error' } });
  try {
    const db = await createFieldsyncDatabase({ name: `bench${Date.now()}`, collections: ['gps_points'], storage: getRxStorageMemory() as never, multiInstance: false });
    const start = performance.now();
    const sync = startSync(db, { serverUrl: server.url, getToken: () => TOKEN, collections: ['gps_points'], replicationId: 'bench', live: false, pullBatchSize: 1000 });
    await sync.replications.get('gps_points')!.awaitInitialReplication();
    const seconds = (performance.now() - start) / 1000;
    const got = await db.collections['gps_points']!.count().exec();
    if (got !== count) throw new Error(`initial pull got ${got} of ${count} documents`);
    await sync.stop();
    await db.close();

    // Protocol only (no client database): the server's side of the same pull, page by page.
    let checkpoint: unknown;
    const httpStart = performance.now();
    for (;;) {
      const q = new URLSearchParams({ schemaVersion: '0', limit: '1000', ...(checkpoint ? { checkpoint: JSON.stringify(checkpoint) } : {}) });
      const page = (await (await fetch(`${server.url}/api/sync/gps_points/pull?${q}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { documents: unknown[]; checkpoint: unknown };
      checkpoint = page.checkpoint;
      if (page.documents.length < 1000) break;
    }
    const httpSeconds = (performance.now() - httpStart) / 1000;
    const docs = Array.from({ length: Math.min(count, 20000) }, (_, i) => make(i));
    const raw = rawInsertRate(workDir('raw-pull'), docs, BATCH, 'FULL');
    return [
      figure(`initial pull of ${count} docs into a fresh RxDB client`, count / seconds, 'docs/s', raw, 'pull batch 1000, memory storage on the client'),
      figure(`pull of ${count} docs over HTTP (no client database)`, count / httpSeconds, 'docs/s', raw),
    ];
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The newest 100 changes of each store, requested round-robin across the stores' servers (all
 * running at once), so a neighbour's burst on this shared machine slows every size alike
 * instead of whichever size was being measured when it came.
 */
async function recentPulls(sizes: number[]): Promise<BenchFigure[]> {
  const stores: { stored: number; dataDir: string; url: string; times: number[]; stop: () => Promise<void> }[] = [];
  try {
    for (const stored of sizes) {
      const dataDir = workDir(`recent-${stored}`);
      await seed(dataDir, 'gps_points', stored, (i) => gpsDoc(TENANT, i));
      const port = await freePort();
      const server = await startServerProcess({ port, dataDir, env: { LOG_LEVEL: 'error' } });
      // The newest 100 changes: the checkpoint a device holds when it was in sync a moment ago.
      const url = `${server.url}/api/sync/gps_points/pull?schemaVersion=${schemaVersionOf('gps_points')}&limit=100&checkpoint=${encodeURIComponent(JSON.stringify({ seq: stored - 100 }))}`;
      stores.push({ stored, dataDir, url, times: [], stop: () => server.stop() });
    }
    for (let i = 0; i < 300; i++) {
      for (const store of stores) {
        const start = performance.now();
        const page = (await (await fetch(store.url, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { documents: unknown[] };
        if (page.documents.length !== 100) throw new Error(`expected 100 recent changes, got ${page.documents.length}`);
        if (i >= 50) store.times.push(performance.now() - start); // the first requests warm up connections and caches
      }
    }
    return stores.map((store) => {
      const raw = rawRecentReadMs(path.join(store.dataDir, 'fieldsync.sqlite'), 'gps_points', TENANT, store.stored - 100, 100, 300);
      return figure(`pull 100 recent changes, ${store.stored.toLocaleString('en-US')} stored (median)`, median(store.times), 'ms', median(raw.slice(50)), 'baseline: the raw SQLite query; requests alternate between the stores');
    });
  } finally {
    for (const store of stores) {
      await store.stop();
      rmSync(store.dataDir, { recursive: true, force: true });
    }
  }
}

export type PushFigure = BenchFigure & { window: ProfileWindow; count: number; profileDir?: string };

/**
 * Issue #2's push figures: GPS points and ePCRs through the HTTP API, each beside raw SQLite
 * inserts of the same documents in the same run. With `profileDir`, the servers run under
 * `--cpu-prof` (one subdirectory per document kind) and each figure carries its measured window.
 */
export async function pushBenchmarks(options: { quick: boolean; profileDir?: string }): Promise<PushFigure[]> {
  // The store's size changes both sides (at 80,000 points raw SQLite's insert rate fell by a
  // third, ours by a tenth): the counts stay what they have been, so runs compare over time.
  const gpsCount = options.quick ? 10_000 : 40_000;
  const epcrCount = options.quick ? 4_000 : 12_000;
  const runs: [string, string, string, () => Record<string, unknown>[]][] = [
    ['GPS points ~200 B', 'gps_points', 'gps', () => Array.from({ length: gpsCount }, (_, i) => gpsDoc(TENANT, i))],
    ['ePCRs ~2 KB', 'epcrs', 'epcr', () => Array.from({ length: epcrCount }, (_, i) => epcrDoc(TENANT, i))],
  ];
  const figures: PushFigure[] = [];
  for (const [label, collection, short, make] of runs) {
    const dir = options.profileDir ? path.join(options.profileDir, short) : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
    const docs = make();
    figures.push({ ...await pushThroughput(label, collection, docs, options.quick ? 1 : 5, dir), count: docs.length, ...(dir ? { profileDir: dir } : {}) });
  }
  return figures;
}

/** Protocol-level push and pull (HTTP only, no client database), against raw SQLite. */
export async function replicationBenchmarks(options: { quick: boolean }): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = (await pushBenchmarks(options)).map(({ window: _window, count: _count, ...f }) => f);
  figures.push(...await initialPull(options.quick ? 20_000 : 100_000));
  return figures;
}

/**
 * Workload C: the newest 100 changes with 10k, 100k and 1M documents stored (1M left out with
 * --quick). Target: the largest store within 20% of 10k.
 */
export async function scalingBenchmarks(options: { quick: boolean }): Promise<BenchFigure[]> {
  const sizes = options.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const figures: BenchFigure[] = await recentPulls(sizes);
  const small = figures[0]!;
  for (const large of figures.slice(1)) {
    const n = large.name.match(/([\d,]+) stored/)?.[1] ?? '?';
    figures.push(figure(`recent-change pull: ${n} stored / 10,000 stored`, large.value, 'ms', small.value, 'target: ratio ≤ 1.2'));
  }
  return figures;
}
