import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { devToken } from '../server/auth/identity.ts';
import { OLDEST_OPEN_XID_SQL } from '../server/store/postgres.ts';
import { schemaVersionOf } from '../shared/schemas/index.ts';
import { startServerProcess, type ServerProcess } from '../test/helpers/server-process.ts';
import { freePort, makeDataDir } from '../test/helpers/server.ts';
import { epcrDoc, gpsDoc } from './lib/docs.ts';
import { cpuSeconds, loadAverage, machineBusySeconds, selfCpuSeconds } from './lib/proc.ts';
import { fmtNum, printGrid } from './lib/report.ts';
import { figure, median, percentile as rawPercentile, type BenchFigure } from './lib/stats.ts';

const percentile = (xs: number[], p: number): number => (xs.length ? rawPercentile(xs, p) : Number.NaN);

/**
 * Issue #19's benchmark: 1, 2 and 3 server processes on one PostgreSQL schema, pushing GPS points
 * and ePCRs concurrently through HTTP (round-robin across the processes), each process followed by
 * a `/sync` subscriber; the latency counted is push sent → the document's `change` event on a
 * subscriber of ANOTHER process (on one process, its own). Beside it, SQL only: the commit order
 * by transaction id at 16 writers against the global advisory lock it replaced.
 */
export const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const TENANT = 'bench';
/** Concurrent pushers (closed loop: the next push when the last was answered), the same in every configuration. */
const GPS_PUSHERS = 8;
const EPCR_PUSHERS = 4;
const GPS_BATCH = 20;
const EPCR_BATCH = 2;
/** Time left for the last changes to reach the subscribers after the pushing stopped. */
const DRAIN_MS = 5_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** A server process's start (compiling TypeScript, loading the NEMSIS schemas): minutes at load 30 on 2 cores. */
const STARTUP_TIMEOUT_MS = 300_000;

type Kind = 'gps' | 'epcr';

export interface PhaseResult {
  label: string;
  processes: number;
  seconds: number;
  /** Documents acknowledged by a push (GPS points + ePCRs). */
  committed: { gps: number; epcr: number; total: number };
  docsPerSec: number;
  requestsPerSec: number;
  pushErrors: number;
  firstError?: string;
  /** Push answered, per request (ms). */
  ackMs: { p50: number; p99: number };
  /** Push sent → `change` on a /sync subscriber of another process (ms), one sample per (document, subscriber). */
  deliveryMs: { p50: number; p99: number; max: number; samples: number };
  /** (document, other-process subscriber) pairs never delivered within the drain. */
  undelivered: number;
  /** CPU seconds of each server process during the pushing (and drain), /proc/<pid>/stat. */
  serverCpuSeconds: number[];
  serverCpuMsPerDoc: number;
  /** The PostgreSQL backends serving these server processes (not the cluster's background writers). */
  postgresCpuSeconds: number;
  postgresCpuMsPerDoc: number;
  cores: { server: number; postgres: number; bench: number; machine: number };
  loadBefore: string;
  loadAfter: string;
  /** Merged rounds: each round's documents/s. */
  roundsDocsPerSec?: number[];
}

export interface ScaleoutConfig {
  processes: number;
  /** The alternating rounds (1, 2, 3 processes, 1, 2, 3, ...); `mixed` merges them. */
  rounds?: PhaseResult[];
  schema: string;
  mixed?: PhaseResult;
  /** Baseline only: one kind at a time, for the CPU per GPS point and per ePCR. */
  gpsOnly?: PhaseResult;
  epcrOnly?: PhaseResult;
  /** Bytes of the schema's tables and indexes per stored document, after the run. */
  bytesPerDoc?: number;
  /** A GPS point's row, scaled by the schema's bytes over its rows' bytes (indexes, audit, outbox, free space). */
  gpsBytesOnDisk?: number;
  /** What went wrong, if the configuration could not finish; what it reached is kept beside it. */
  error?: string;
}

export interface OrderingResult {
  scheme: 'xid horizon' | 'advisory lock';
  writers: number;
  seconds: number;
  commits: number;
  commitsPerSec: number;
  readRows: number;
  error?: string;
}

export interface ScaleoutResult {
  configs: ScaleoutConfig[];
  ordering: OrderingResult[];
  estimate: CapacityEstimate | undefined;
}

export async function runScaleout(options: { quick: boolean; budgetSeconds?: number }): Promise<ScaleoutResult> {
  const seconds = options.quick ? 15 : 30;
  const rounds = options.quick ? 3 : 5;
  // The whole part ends in bounded time on a loaded machine: past the budget no new round or
  // phase starts, and each configuration reports what it reached (its rounds so far).
  const budgetSeconds = options.budgetSeconds ?? Number(process.env['BENCH_SCALEOUT_BUDGET_S'] ?? (options.quick ? 360 : 720));
  // Counted from when the process sets are up (their start has its own timeout, STARTUP_TIMEOUT_MS each).
  let deadline = Number.POSITIVE_INFINITY;
  const overBudget = (what: string): string | undefined => (performance.now() > deadline ? `the ${budgetSeconds} s budget of the scale-out part ran out before ${what}; figures are from what was reached` : undefined);
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  const sets: ProcessSet[] = [];
  const configs: ScaleoutConfig[] = [];
  try {
    try {
      await admin.connect();
    } catch (error) {
      // No PostgreSQL: every configuration says so, and the rest of `npm run bench` goes on.
      const message = `cannot connect to PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//…@')}: ${error instanceof Error ? error.message : String(error)}`;
      console.log(`  scale-out: ${message} (the run goes on)`);
      return { configs: [1, 2, 3].map((processes) => ({ processes, schema: `bench_scaleout_${processes}`, error: message })), ordering: [], estimate: undefined };
    }
    for (const processes of [1, 2, 3]) {
      const config: ScaleoutConfig = { processes, schema: `bench_scaleout_${process.pid}_${processes}`, rounds: [] };
      configs.push(config);
      try {
        const set = await openSet(admin, config.schema, processes);
        sets.push(set);
        set.config = config;
        // Warm-up, untimed: every process gets pushes of each kind (JIT, pools, push decoder).
        await phase(admin, 'warm-up', set.servers, set.subscribers, { gps: 2, epcr: 1, seconds: 2 });
      } catch (error) {
        config.error = error instanceof Error ? error.message : String(error);
        console.log(`  scale-out with ${processes} process(es) could not start: ${config.error} (the run goes on)`);
      }
    }
    deadline = performance.now() + budgetSeconds * 1000;
    // All three sets stay up and the rounds alternate between them (1, 2, 3, 1, 2, 3, ...): on
    // this shared machine the load drifts over minutes (a 1-process run measured 439 and then
    // 1,337 docs/s four minutes later), and alternating makes a drift slow every set alike.
    for (let round = 0; round < rounds; round++) {
      for (const set of sets) {
        const config = set.config!;
        if (config.error) continue;
        const late = overBudget(`round ${round + 1}`);
        if (late) {
          config.error = late;
          console.log(`  scale-out with ${config.processes} process(es): ${late} (the run goes on)`);
          continue;
        }
        try {
          config.rounds!.push(await phase(admin, `${config.processes} process${config.processes > 1 ? 'es' : ''}, GPS + ePCR, round ${round + 1}`, set.servers, set.subscribers, { gps: GPS_PUSHERS, epcr: EPCR_PUSHERS, seconds: seconds / rounds }));
        } catch (error) {
          config.error = `round ${round + 1}: ${error instanceof Error ? error.message : String(error)}`;
          console.log(`  scale-out with ${config.processes} process(es) stopped: ${config.error} (what it reached is kept; the run goes on)`);
        }
      }
    }
    for (const config of configs) if (config.rounds && config.rounds.length > 0) config.mixed = mergePhases(`${config.processes} process(es), GPS + ePCR`, config.rounds);
    const base = sets.find((s) => s.config?.processes === 1 && !s.config.error);
    if (base) {
      const config = base.config!;
      const late = overBudget('the per-kind phases (CPU per point and per ePCR)');
      if (late) console.log(`  scale-out: ${late}; no estimate on paper (the run goes on)`);
      else try {
        // As units push live (RxDB's live replication): one point, or one ePCR save, per request.
        config.gpsOnly = await phase(admin, '1 process, GPS only, 1 point per request', base.servers, base.subscribers, { gps: GPS_PUSHERS + EPCR_PUSHERS, epcr: 0, seconds: Math.max(5, seconds / 3), gpsBatch: 1 });
        config.epcrOnly = await phase(admin, '1 process, ePCR only, 1 per request', base.servers, base.subscribers, { gps: 0, epcr: GPS_PUSHERS + EPCR_PUSHERS, seconds: Math.max(5, seconds / 3), epcrBatch: 1 });
        Object.assign(config, await storage(admin, config.schema));
      } catch (error) {
        config.error = `per-kind phases: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  } finally {
    for (const set of sets) await set.close();
    await admin.end().catch(() => undefined);
  }
  // The ordering comparison is short and always runs (at least one round of each scheme).
  const ordering = await orderingBenchmark({ writers: 16, seconds: options.quick ? 5 : 10, rounds: options.quick || performance.now() > deadline ? 1 : 2 });
  const baseline = configs[0];
  const estimate = baseline?.gpsOnly && baseline.epcrOnly ? capacityEstimate(baseline.gpsOnly, baseline.epcrOnly, baseline.mixed, baseline.gpsBytesOnDisk) : undefined;
  return { configs, ordering, estimate };
}

interface ProcessSet { servers: ServerProcess[]; subscribers: Subscriber[]; config?: ScaleoutConfig; close(): Promise<void> }

/** `processes` server processes on a fresh schema, each with a /sync subscriber. */
async function openSet(admin: pg.Client, schema: string, processes: number): Promise<ProcessSet> {
  const servers: ServerProcess[] = [];
  const dataDirs: string[] = [];
  const subscribers: Subscriber[] = [];
  const set: ProcessSet = {
    servers, subscribers,
    async close() {
      for (const s of subscribers) s.socket.close();
      for (const server of servers) await server.stop().catch(() => undefined);
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
    },
  };
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    for (let i = 0; i < processes; i++) {
      const dataDir = makeDataDir(`bench-scaleout-${processes}-${i}`);
      dataDirs.push(dataDir);
      const port = await freePort();
      servers.push(await startServerProcess({
        port, dataDir, startTimeoutMs: STARTUP_TIMEOUT_MS,
        env: {
          STORE: 'postgres', DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'error',
          // Every position on the feeds (nothing coalesced) and no rate limit in the way of the load.
          LIVE_GPS_INTERVAL_MS: '0', SYNC_RATE_LIMIT: '10000000',
        },
      }));
    }
    for (const [index, server] of servers.entries()) subscribers.push(await subscribe(server.url, index));
    return set;
  } catch (error) {
    await set.close();
    throw error;
  }
}

/**
 * Storage: the schema's tables and indexes (audit, outbox included) per stored document, and a
 * GPS point's row alone, scaled by the schema's bytes over its rows' bytes (what a point costs on disk).
 */
async function storage(admin: pg.Client, schema: string): Promise<Pick<ScaleoutConfig, 'bytesPerDoc' | 'gpsBytesOnDisk'>> {
  const q = pg.escapeIdentifier(schema);
  const size = await admin.query<{ bytes: string; docs: string; gps_row: string | null; rows_bytes: string | null }>(
    `SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r')::text AS bytes,
            (SELECT count(*) FROM ${q}.documents)::text AS docs,
            (SELECT avg(pg_column_size(d.*)) FROM ${q}.documents d WHERE collection = 'gps_points')::text AS gps_row,
            (SELECT sum(pg_column_size(d.*)) FROM ${q}.documents d)::text AS rows_bytes`, [schema]);
  const r = size.rows[0];
  if (!r || Number(r.docs) === 0) return {};
  return {
    bytesPerDoc: Number(r.bytes) / Number(r.docs),
    ...(r.gps_row && r.rows_bytes ? { gpsBytesOnDisk: Number(r.gps_row) * (Number(r.bytes) / Number(r.rows_bytes)) } : {}),
  };
}

/** Raw samples of a phase, for merging rounds (not written to the JSON). */
const samplesOf = new WeakMap<PhaseResult, { acks: number[]; delivery: number[]; requests: number; wall: number }>();

/** Rounds of one configuration as one result: sums, and percentiles over all their samples. */
function mergePhases(label: string, phases: PhaseResult[]): PhaseResult {
  const sum = (f: (p: PhaseResult) => number) => phases.reduce((a, p) => a + f(p), 0);
  const acks = phases.flatMap((p) => samplesOf.get(p)?.acks ?? []);
  const delivery = phases.flatMap((p) => samplesOf.get(p)?.delivery ?? []);
  const seconds = sum((p) => p.seconds);
  const wall = sum((p) => samplesOf.get(p)?.wall ?? p.seconds);
  const total = sum((p) => p.committed.total);
  const serverCpu = phases[0]!.serverCpuSeconds.map((_, i) => sum((p) => p.serverCpuSeconds[i] ?? 0));
  const serverSum = serverCpu.reduce((a, b) => a + b, 0);
  const pgCpu = sum((p) => p.postgresCpuSeconds);
  const firstError = phases.find((p) => p.firstError)?.firstError;
  return {
    label, processes: phases[0]!.processes, seconds,
    committed: { gps: sum((p) => p.committed.gps), epcr: sum((p) => p.committed.epcr), total },
    docsPerSec: total / seconds, requestsPerSec: sum((p) => samplesOf.get(p)?.requests ?? 0) / seconds,
    pushErrors: sum((p) => p.pushErrors), ...(firstError ? { firstError } : {}),
    ackMs: { p50: percentile(acks, 50), p99: percentile(acks, 99) },
    deliveryMs: { p50: percentile(delivery, 50), p99: percentile(delivery, 99), max: delivery.length ? Math.max(...delivery) : Number.NaN, samples: delivery.length },
    undelivered: sum((p) => p.undelivered),
    serverCpuSeconds: serverCpu, serverCpuMsPerDoc: total ? (serverSum * 1000) / total : Number.NaN,
    postgresCpuSeconds: pgCpu, postgresCpuMsPerDoc: total ? (pgCpu * 1000) / total : Number.NaN,
    cores: {
      server: serverSum / wall, postgres: pgCpu / wall,
      bench: sum((p) => p.cores.bench * (samplesOf.get(p)?.wall ?? p.seconds)) / wall, machine: sum((p) => p.cores.machine * (samplesOf.get(p)?.wall ?? p.seconds)) / wall,
    },
    loadBefore: phases[0]!.loadBefore, loadAfter: phases[phases.length - 1]!.loadAfter,
    roundsDocsPerSec: phases.map((p) => p.docsPerSec),
  };
}

interface Subscriber { index: number; socket: Socket; onDocs: (ids: string[], at: number) => void }

/** A dispatcher-side replica's /sync socket on one process, subscribed to both collections. */
async function subscribe(url: string, index: number): Promise<Subscriber> {
  const socket = io(`${url}/sync`, {
    transports: ['websocket'], reconnection: false,
    auth: { token: devToken({ tenantId: TENANT, role: 'admin', deviceId: `scaleout-sub-${index}` }) },
  });
  const subscriber: Subscriber = { index, socket, onDocs: () => undefined };
  socket.on('change', (event: { documents?: { id: string }[] }) => {
    const at = performance.now();
    subscriber.onDocs((event.documents ?? []).map((d) => d.id), at);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`/sync on process ${index} did not acknowledge subscribe in 20 s`)), 20_000);
    socket.once('connect_error', (e) => { clearTimeout(timer); reject(new Error(`/sync on process ${index}: ${e.message}`)); });
    socket.once('connect', () => {
      socket.emit('subscribe', { collections: { gps_points: schemaVersionOf('gps_points'), epcrs: schemaVersionOf('epcrs') } }, (ack: { ok: boolean; error?: { message: string } }) => {
        clearTimeout(timer);
        if (ack.ok) resolve();
        else reject(new Error(`/sync subscribe refused: ${ack.error?.message ?? 'no reason'}`));
      });
    });
  });
  return subscriber;
}

/**
 * The PostgreSQL backends serving the given server processes: their sockets to port 5432 (from
 * /proc/<pid>/fd and /proc/<pid>/net/tcp) matched with pg_stat_activity's client ports. Other
 * people's databases on this shared cluster are not counted; the cluster's background writers
 * (WAL writer, checkpointer) are not either.
 */
async function backendPids(admin: pg.Client, serverPids: number[]): Promise<number[]> {
  const ports: number[] = [];
  for (const pid of serverPids) {
    try {
      const inodes = new Set<string>();
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]!);
        } catch {
          // closed meanwhile
        }
      }
      for (const table of ['tcp', 'tcp6']) {
        for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
          const cols = row.trim().split(/\s+/);
          if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
          if (parseInt(cols[2]!.split(':')[1]!, 16) === 5432) ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
        }
      }
    } catch {
      // the process has gone
    }
  }
  if (ports.length === 0) return [];
  const rows = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
  return rows.rows.map((r) => r.pid);
}

function cpuOf(pid: number): number | undefined {
  try {
    return cpuSeconds(pid);
  } catch {
    return undefined;
  }
}

/**
 * One timed phase: `gps` + `epcr` closed-loop pushers, each request to the next process in turn,
 * for `seconds`, then up to DRAIN_MS for the deliveries.
 */
async function phase(admin: pg.Client, label: string, servers: ServerProcess[], subscribers: Subscriber[], mix: { gps: number; epcr: number; seconds: number; gpsBatch?: number; epcrBatch?: number }): Promise<PhaseResult> {
  const gpsBatch = mix.gpsBatch ?? GPS_BATCH;
  const epcrBatch = mix.epcrBatch ?? EPCR_BATCH;
  const n = servers.length;
  /** Per document: when its push was sent, through which process, and the subscribers still to hear it. */
  const pending = new Map<string, { sentAt: number; via: number; waiting: Set<number> }>();
  const delivery: number[] = [];
  const acks: number[] = [];
  for (const s of subscribers) {
    s.onDocs = (ids, at) => {
      for (const id of ids) {
        const p = pending.get(id);
        if (!p || !p.waiting.delete(s.index)) continue;
        delivery.push(at - p.sentAt);
        if (p.waiting.size === 0) pending.delete(id);
      }
    };
  }
  const committed = { gps: 0, epcr: 0 };
  let requests = 0;
  let pushErrors = 0;
  let firstError: string | undefined;
  let rr = 0;
  let counter = 0;
  const loadBefore = loadAverage();
  const cpu0 = servers.map((s) => cpuSeconds(s.child.pid!));
  const pids = servers.map((s) => s.child.pid!);
  const backends0 = new Map((await backendPids(admin, pids)).map((pid) => [pid, cpuOf(pid) ?? 0]));
  const self0 = selfCpuSeconds();
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const end = t0 + mix.seconds * 1000;

  const pusher = async (kind: Kind, unit: string) => {
    const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `scaleout-${unit}`, subject: unit });
    const collection = kind === 'gps' ? 'gps_points' : 'epcrs';
    const url = (i: number) => `${servers[i]!.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`;
    while (performance.now() < end) {
      const via = rr++ % n;
      const docs = Array.from({ length: kind === 'gps' ? gpsBatch : epcrBatch }, () => (kind === 'gps' ? gpsDoc(TENANT, counter++, unit) : epcrDoc(TENANT, counter++, unit)));
      const sentAt = performance.now();
      // The subscribers of the other processes (on one process, its own) are the ones that count.
      const waiting = subscribers.filter((s) => n === 1 || s.index !== via).map((s) => s.index);
      for (const d of docs) pending.set(d['id'] as string, { sentAt, via, waiting: new Set(waiting) });
      try {
        const response = await fetch(url(via), {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(docs.map((d) => ({ newDocumentState: d }))), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`push to process ${via} answered ${response.status}: ${text.slice(0, 300)}`);
        const conflicts = JSON.parse(text) as unknown[];
        if (Array.isArray(conflicts) && conflicts.length > 0) throw new Error(`push to process ${via} returned ${conflicts.length} conflict(s)`);
        acks.push(performance.now() - sentAt);
        committed[kind] += docs.length;
        requests++;
      } catch (error) {
        // Not committed (or not known to be): not waited for.
        for (const d of docs) pending.delete(d['id'] as string);
        pushErrors++;
        firstError ??= error instanceof Error ? error.message : String(error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < mix.gps; i++) loops.push(pusher('gps', `U${i + 1}`));
  for (let i = 0; i < mix.epcr; i++) loops.push(pusher('epcr', `E${i + 1}`));
  await Promise.all(loops);
  const pushSeconds = (performance.now() - t0) / 1000;
  const drainEnd = performance.now() + DRAIN_MS;
  while (pending.size > 0 && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 50));
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = servers.map((s, i) => {
    try {
      return cpuSeconds(s.child.pid!) - cpu0[i]!;
    } catch {
      return Number.NaN;
    }
  });
  // Backends of our pools: those there at the start count from then, those opened since from zero.
  let pgCpu = 0;
  for (const pid of new Set([...backends0.keys(), ...(await backendPids(admin, pids))])) {
    const now = cpuOf(pid);
    if (now !== undefined) pgCpu += now - (backends0.get(pid) ?? 0);
  }
  const selfCpu = selfCpuSeconds() - self0;
  const machine = machineBusySeconds() - machine0;
  let undelivered = 0;
  for (const p of pending.values()) undelivered += p.waiting.size;
  for (const s of subscribers) s.onDocs = () => undefined;
  const total = committed.gps + committed.epcr;
  const serverSum = serverCpu.reduce((a, b) => a + b, 0);
  const result: PhaseResult = {
    label, processes: n, seconds: pushSeconds,
    committed: { ...committed, total },
    docsPerSec: total / pushSeconds, requestsPerSec: requests / pushSeconds, pushErrors, ...(firstError ? { firstError } : {}),
    ackMs: { p50: percentile(acks, 50), p99: percentile(acks, 99) },
    deliveryMs: { p50: percentile(delivery, 50), p99: percentile(delivery, 99), max: delivery.length ? Math.max(...delivery) : Number.NaN, samples: delivery.length },
    undelivered,
    serverCpuSeconds: serverCpu, serverCpuMsPerDoc: total ? (serverSum * 1000) / total : Number.NaN,
    postgresCpuSeconds: pgCpu, postgresCpuMsPerDoc: total ? (pgCpu * 1000) / total : Number.NaN,
    cores: { server: serverSum / wall, postgres: pgCpu / wall, bench: selfCpu / wall, machine: machine / wall },
    loadBefore, loadAfter: loadAverage(),
  };
  samplesOf.set(result, { acks, delivery, requests, wall });
  return result;
}

/**
 * The ordering schemes alone, on PostgreSQL, `writers` connections each committing one row per
 * transaction in a loop and reading what became readable since its cursor:
 * - xid horizon (what the store does now): the row carries `pg_current_xact_id()`; readers take
 *   rows below the oldest transaction in progress that may write this database (OLDEST_OPEN_XID_SQL, as the store); no lock between writers;
 * - advisory lock (what it replaced): each transaction takes `pg_advisory_xact_lock` and bumps a
 *   head counter for its sequence number, so commits are serialized.
 * Rounds alternate between the schemes (a neighbour's burst then slows both alike).
 */
export async function orderingBenchmark(options: { writers: number; seconds: number; rounds: number }): Promise<OrderingResult[]> {
  // Per run: two runs on one PostgreSQL server (a shared machine) do not drop each other's tables.
  const schema = `bench_scaleout_sql_${process.pid}`;
  const q = pg.escapeIdentifier(schema);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: options.writers });
  pool.on('error', () => undefined);
  const results: OrderingResult[] = [];
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${q} CASCADE; CREATE SCHEMA ${q};
      CREATE TABLE ${q}.xlog (pos bigserial PRIMARY KEY, xid xid8 NOT NULL, body text NOT NULL); CREATE INDEX ON ${q}.xlog (xid);
      CREATE TABLE ${q}.slog (seq bigint PRIMARY KEY, body text NOT NULL);
      CREATE TABLE ${q}.head (id int PRIMARY KEY, seq bigint NOT NULL); INSERT INTO ${q}.head VALUES (1, 0);`);
    const body = 'x'.repeat(200);
    const runScheme = async (scheme: OrderingResult['scheme']): Promise<OrderingResult> => {
      let commits = 0;
      let readRows = 0;
      let error: string | undefined;
      const end = performance.now() + options.seconds * 1000;
      const t0 = performance.now();
      const writer = async () => {
        const client = await pool.connect();
        let cursor = '0';
        try {
          while (performance.now() < end) {
            await client.query('BEGIN');
            if (scheme === 'xid horizon') {
              await client.query(`INSERT INTO ${q}.xlog (xid, body) VALUES (pg_current_xact_id(), $1)`, [body]);
            } else {
              await client.query('SELECT pg_advisory_xact_lock(1179010627, 19)');
              const seq = await client.query<{ seq: string }>(`UPDATE ${q}.head SET seq = seq + 1 WHERE id = 1 RETURNING seq::text`);
              await client.query(`INSERT INTO ${q}.slog (seq, body) VALUES ($1, $2)`, [seq.rows[0]!.seq, body]);
            }
            await client.query('COMMIT');
            commits++;
            // A reader's step: what became readable since this writer's cursor (at most 100 rows).
            const read = scheme === 'xid horizon'
              ? await client.query<{ xid: string }>(`SELECT xid::text FROM ${q}.xlog WHERE xid > $1::xid8 AND xid::text::bigint < ${OLDEST_OPEN_XID_SQL} ORDER BY xid LIMIT 100`, [cursor])
              : await client.query<{ xid: string }>(`SELECT seq::text AS xid FROM ${q}.slog WHERE seq > $1::bigint ORDER BY seq LIMIT 100`, [cursor]);
            readRows += read.rowCount ?? 0;
            if (read.rows.length > 0) cursor = read.rows[read.rows.length - 1]!.xid;
          }
        } catch (e) {
          error ??= e instanceof Error ? e.message : String(e);
          await client.query('ROLLBACK').catch(() => undefined);
        } finally {
          client.release();
        }
      };
      await Promise.all(Array.from({ length: options.writers }, writer));
      const seconds = (performance.now() - t0) / 1000;
      return { scheme, writers: options.writers, seconds, commits, commitsPerSec: commits / seconds, readRows, ...(error ? { error } : {}) };
    };
    for (let round = 0; round < options.rounds; round++) {
      results.push(await runScheme('xid horizon'));
      results.push(await runScheme('advisory lock'));
    }
  } catch (error) {
    console.log(`  ordering micro-benchmark did not finish: ${error instanceof Error ? error.message : String(error)} (the run goes on)`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${q} CASCADE`).catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
  return results;
}

/**
 * On paper, from the baseline's CPU per document on this machine: 5,000 units at one point per
 * second and a state's ePCR pushes. The assumptions are printed with the figures.
 */
export interface CapacityEstimate {
  gpsPerSec: number;
  epcrPushesPerSec: number;
  assumptions: string[];
  serverCpuMsPerPoint: number;
  serverCpuMsPerEpcr: number;
  postgresCpuMsPerPoint: number;
  postgresCpuMsPerEpcr: number;
  serverCores: number;
  postgresCores: number;
  /** Node processes (one event loop each) at the target utilization. */
  processes: number;
  postgresRowsPerDay: number;
  /** The lower bound: documents sharing transactions (the 1-process mixed run, GPS in batches of 20). */
  batched?: { serverCpuMsPerDoc: number; postgresCpuMsPerDoc: number; serverCores: number; postgresCores: number; processes: number };
  /** GPS points' disk use per day, unpruned (gpsBytesOnDisk of the baseline schema). */
  gpsGigabytesPerDay: number;
}

const TARGET_UTILIZATION = 0.6;

function capacityEstimate(gps: PhaseResult, epcr: PhaseResult, batched: PhaseResult | undefined, gpsBytesOnDisk: number | undefined): CapacityEstimate {
  // A state: ~1.5 million EMS responses a year (a large US state; NEMSIS counts ~50 million a year
  // nationwide), each ePCR pushed ~30 times (autosaves and edits), busiest hour 3x the average.
  const responsesPerYear = 1_500_000;
  const pushesPerReport = 30;
  const epcrPushesPerSec = (responsesPerYear * pushesPerReport / (365 * 86_400)) * 3;
  const gpsPerSec = 5_000;
  const serverCores = (gpsPerSec * gps.serverCpuMsPerDoc + epcrPushesPerSec * epcr.serverCpuMsPerDoc) / 1000;
  const postgresCores = (gpsPerSec * gps.postgresCpuMsPerDoc + epcrPushesPerSec * epcr.postgresCpuMsPerDoc) / 1000;
  // Lower bound: the points share transactions (batches of 20, as the server's group commit makes
  // of concurrent requests at thousands a second), from the mixed run's CPU per document.
  const batchedRate = gpsPerSec + epcrPushesPerSec;
  return {
    gpsPerSec, epcrPushesPerSec,
    ...(batched ? {
      batched: {
        serverCpuMsPerDoc: batched.serverCpuMsPerDoc, postgresCpuMsPerDoc: batched.postgresCpuMsPerDoc,
        serverCores: (batchedRate * batched.serverCpuMsPerDoc) / 1000, postgresCores: (batchedRate * batched.postgresCpuMsPerDoc) / 1000,
        processes: Math.ceil((batchedRate * batched.serverCpuMsPerDoc) / 1000 / TARGET_UTILIZATION),
      },
    } : {}),
    assumptions: [
      `5,000 units x 1 point/s; a state of ${responsesPerYear.toLocaleString('en-US')} EMS responses a year, ${pushesPerReport} pushes per ePCR, busiest hour 3x average = ${epcrPushesPerSec.toFixed(1)} ePCR pushes/s`,
      `CPU per document from the 1-process PostgreSQL baseline on this machine, one point (one ePCR) per request as units push live, server processes at ${TARGET_UTILIZATION * 100} % of a core each`,
      'PostgreSQL CPU: the backends serving the server processes only (the WAL writer and checkpointer, shared with other databases on this cluster, are not counted); it runs on the same 2 cores',
    ],
    serverCpuMsPerPoint: gps.serverCpuMsPerDoc, serverCpuMsPerEpcr: epcr.serverCpuMsPerDoc,
    postgresCpuMsPerPoint: gps.postgresCpuMsPerDoc, postgresCpuMsPerEpcr: epcr.postgresCpuMsPerDoc,
    serverCores, postgresCores,
    processes: Math.ceil(serverCores / TARGET_UTILIZATION),
    postgresRowsPerDay: gpsPerSec * 86_400 + responsesPerYear / 365,
    gpsGigabytesPerDay: gpsBytesOnDisk ? (gpsPerSec * 86_400 * gpsBytesOnDisk) / 1e9 : Number.NaN,
  };
}

/** bench/results/scaleout.json: the figures with the commit and the load they were measured at. */
export function writeScaleout(file: string, meta: Record<string, unknown>, result: ScaleoutResult): void {
  const baseline = baselineOf(result.configs);
  const lock = median(result.ordering.filter((o) => o.scheme === 'advisory lock').map((o) => o.commitsPerSec));
  // The headline figures beside their same-run baselines, in replication.json's form.
  const figures: BenchFigure[] = [
    ...result.configs.filter((c) => c.mixed).flatMap((c) => [
      figure(`${c.processes} process(es) on PostgreSQL: documents committed/s (GPS + ePCR, round-robin)`, c.mixed!.docsPerSec, 'docs/s', baseline?.docsPerSec ?? null),
      figure(`${c.processes} process(es): p99 push → /sync change on another process`, c.mixed!.deliveryMs.p99, 'ms', baseline?.deliveryMs.p99 ?? null),
    ]),
    ...(result.ordering.length ? [figure('SQL only, 16 writers: commits/s ordering by transaction id', median(result.ordering.filter((o) => o.scheme === 'xid horizon').map((o) => o.commitsPerSec)), 'commits/s', lock || null, 'baseline: the global advisory lock it replaced')] : []),
  ];
  writeFileSync(file, JSON.stringify({ meta: { ...meta, loadAverageAtEnd: loadAverage() }, figures, ...result }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

/** The 1-process figures the ratios divide by. */
export function baselineOf(configs: ScaleoutConfig[]): { docsPerSec: number; deliveryMs: { p99: number } } | undefined {
  return configs.find((c) => c.processes === 1)?.mixed;
}

export function printScaleout(result: ScaleoutResult): void {
  const baseline = baselineOf(result.configs);
  const rows = [['configuration', 'docs/s', 'ratio', 'req/s', 'ack p99 ms', 'push→other p50 ms', 'p99 ms', 'ratio p99', 'undelivered', 'errors', 'server CPU ms/doc', 'cores srv/pg/bench/machine', 'load before → after']];
  const line = (p: PhaseResult | undefined, label: string, error?: string) => {
    if (!p) {
      rows.push([label, '–', '', '', '', '', '', '', '', error ?? 'not reached', '', '', '']);
      return;
    }
    rows.push([
      label, fmtNum(p.docsPerSec), baseline ? (p.docsPerSec / baseline.docsPerSec).toFixed(2) : '', fmtNum(p.requestsPerSec),
      fmtNum(p.ackMs.p99), fmtNum(p.deliveryMs.p50), fmtNum(p.deliveryMs.p99), baseline ? (p.deliveryMs.p99 / baseline.deliveryMs.p99).toFixed(2) : '',
      `${p.undelivered}/${p.deliveryMs.samples + p.undelivered}`, String(p.pushErrors), fmtNum(p.serverCpuMsPerDoc, 3),
      [p.cores.server, p.cores.postgres, p.cores.bench, p.cores.machine].map((c) => c.toFixed(2)).join('/'), `${p.loadBefore.split(' ')[0]} → ${p.loadAfter.split(' ')[0]}`,
    ]);
  };
  for (const c of result.configs) {
    line(c.mixed, `${c.processes} process${c.processes > 1 ? 'es' : ''} (GPS + ePCR)${c.processes === 1 ? ' = baseline' : ''}`, c.error);
    if (c.gpsOnly) line(c.gpsOnly, '  1 process, GPS only, 1/request');
    if (c.epcrOnly) line(c.epcrOnly, '  1 process, ePCR only, 1/request');
  }
  printGrid('Scale-out (issue #19): server processes on one PostgreSQL schema, pushes round-robin, /sync subscriber on every process', rows, [
    `${GPS_PUSHERS} GPS pushers (batches of ${GPS_BATCH}) + ${EPCR_PUSHERS} ePCR pushers (batches of ${EPCR_BATCH}), closed loop, each request to the next process; ratios against the 1-process set of this run; the sets run side by side and their rounds alternate`,
    'push→other = push sent → the document in a /sync `change` on a subscriber of another process (1 process: its own); undelivered = (document, subscriber) pairs not heard 5 s after the pushing stopped',
    'cores: server processes / their PostgreSQL backends / this benchmark / the whole machine (2 cores; shared); CPU from /proc/<pid>/stat; sub-rows: one point or one ePCR per request, as units push live',
    ...result.configs.filter((c) => c.mixed?.roundsDocsPerSec).map((c) => `${c.processes} process(es), docs/s per round: ${c.mixed!.roundsDocsPerSec!.map((r) => fmtNum(r)).join(', ')}`),
    ...result.configs.filter((c) => c.error).map((c) => `${c.processes} process(es): ${c.error}`),
    ...result.configs.flatMap((c) => [c.mixed, c.gpsOnly, c.epcrOnly]).filter((p): p is PhaseResult => Boolean(p?.firstError)).map((p) => `${p.label}: first push error: ${p.firstError}`),
  ]);
  const byScheme = (s: OrderingResult['scheme']) => result.ordering.filter((o) => o.scheme === s);
  const rate = (s: OrderingResult['scheme']) => { const xs = byScheme(s).map((o) => o.commitsPerSec).sort((a, b) => a - b); return xs.length ? xs[Math.floor(xs.length / 2)]! : Number.NaN; };
  const lock = rate('advisory lock');
  printGrid('Commit ordering alone, SQL only, 16 concurrent writers (pg pool of 16), one row per transaction + a reader step', [
    ['scheme', 'commits/s', 'ratio vs advisory lock', 'rounds (commits/s)'],
    ...(['xid horizon', 'advisory lock'] as const).map((s) => [s, fmtNum(rate(s)), fmtNum(rate(s) / lock, 2), byScheme(s).map((o) => fmtNum(o.commitsPerSec) + (o.error ? ` (${o.error})` : '')).join(', ')]),
  ], ['xid horizon: rows carry pg_current_xact_id(), readers take rows below the oldest transaction in progress in this database (pg_snapshot_xip less the xids of other databases: the store now); advisory lock: pg_advisory_xact_lock + head counter (what it replaced)']);
  const e = result.estimate;
  if (e) {
    printGrid('On paper: 5,000 units at 1 point/s and a state\'s ePCR traffic, from this machine\'s CPU per document (an estimate)', [
      ['', 'per point', 'per ePCR', 'cores needed'],
      ['server (Node)', `${fmtNum(e.serverCpuMsPerPoint, 3)} ms`, `${fmtNum(e.serverCpuMsPerEpcr, 3)} ms`, `${fmtNum(e.serverCores, 1)} → ${e.processes} processes`],
      ['PostgreSQL', `${fmtNum(e.postgresCpuMsPerPoint, 3)} ms`, `${fmtNum(e.postgresCpuMsPerEpcr, 3)} ms`, fmtNum(e.postgresCores, 1)],
      ...(e.batched ? [
        ['server, batched (lower bound)', `${fmtNum(e.batched.serverCpuMsPerDoc, 3)} ms/doc`, '', `${fmtNum(e.batched.serverCores, 1)} → ${e.batched.processes} processes`],
        ['PostgreSQL, batched', `${fmtNum(e.batched.postgresCpuMsPerDoc, 3)} ms/doc`, '', fmtNum(e.batched.postgresCores, 1)],
      ] : []),
    ], [
      'upper rows: one point (one ePCR save) per request and per transaction; batched: the mixed 1-process run (GPS in batches of 20), what group commit approaches when thousands of requests a second share transactions',...e.assumptions, `PostgreSQL takes ${fmtNum(e.postgresRowsPerDay / 1e6, 0)} million new rows a day (GPS points dominate), about ${fmtNum(e.gpsGigabytesPerDay, 0)} GB a day of GPS points unless pruned`]);
  }
}
