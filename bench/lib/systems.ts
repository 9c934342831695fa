import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collectionSchemas } from '../../shared/schemas/index.ts';
import { SERVER_NODE_FLAGS, startServerProcess } from '../../test/helpers/server-process.ts';
import { freePort } from '../../test/helpers/server.ts';
import { sleep } from './clock.ts';

const BENCH = path.resolve(import.meta.dirname, '..');
const ROOT = path.resolve(BENCH, '..');
export const PEERS_DIR = path.join(BENCH, 'peers');
export const TENANT = 'bench';
/** Collections every system serves in the benchmark; the peers get our RxDB schemas for them. */
export const BENCH_COLLECTIONS = ['gps_points', 'epcrs'] as const;

export interface ServerHandle {
  url: string;
  /** The server's own process: its CPU and RSS are read from /proc/<pid>. */
  pid: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A fresh directory for this run's data (removed by the caller). */
  dataDir: string;
  /** Extra environment for our server (e.g. LIVE_GPS_INTERVAL_MS=0). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the server process into this directory (ours only). */
  profileDir?: string;
}

export interface SystemDef {
  key: 'ours' | 'ours-http' | 'pouchdb' | 'rxdb-couch' | 'rxserver';
  label: string;
  /** Server stack and where it keeps data, printed beside the figures. */
  server: string;
  client: string;
  clientModule: string;
  start(options: StartOptions): Promise<ServerHandle>;
}

export function workDir(label: string): string {
  const dir = path.join(tmpdir(), `fieldsync-bench-${label}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function versionOf(pkg: string, from = PEERS_DIR): string {
  try {
    return (JSON.parse(readFileSync(path.join(from, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** `npm install --prefix bench/peers` on first use; the product's package.json is never touched. */
export function ensurePeersInstalled(): void {
  if (existsSync(path.join(PEERS_DIR, 'node_modules', 'rxdb-server')) && existsSync(path.join(PEERS_DIR, 'node_modules', 'express-pouchdb'))) return;
  console.log('bench/peers/node_modules is missing: installing the peer systems (npm install --prefix bench/peers; about a minute) …');
  const result = spawnSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm install --prefix bench/peers failed with status ${result.status}`);
}

/** Spawns a peer server script with plain node (no tsx) and waits until `healthPath` answers 200. */
async function spawnPeer(script: string, env: Record<string, string>, healthPath: string): Promise<ServerHandle> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(PEERS_DIR, script)], {
    cwd: PEERS_DIR, env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} during start-up`);
    try {
      if ((await fetch(url + healthPath)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not answer ${healthPath} within 30 s`);
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Our CLI as test/helpers/server-process.ts starts it, plus `--cpu-prof` (which Node does not take
 * from NODE_OPTIONS). SIGTERM makes the CLI close and exit normally, which writes the profile.
 */
async function startOursProfiled(dataDir: string, profileDir: string, env: Record<string, string> = {}): Promise<ServerHandle> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(ROOT, 'server/cli.ts')], {
    cwd: ROOT, // As startServerProcess: the bench's clients identify with development tokens, off by default now.
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', DEV_TOKENS: 'true', ...env }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // As the unprofiled servers: 180 s, a loaded machine (load 29 on 2 cores) took over 30 s to start it.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} during start-up`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the profiled server did not become healthy in 180 s (a loaded machine? see the load average)');
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function schemasFile(dir: string): string {
  const file = path.join(dir, 'schemas.json');
  writeFileSync(file, JSON.stringify(peerSchemas()));
  return file;
}

/**
 * Our RxDB schemas for the peers, without `encrypted`: that list asks RxDB to encrypt fields at
 * rest on the device (it needs a database password, else RxDB throws UT6), which no peer client
 * or server does here; the figures are about protocol and server.
 */
export function peerSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(BENCH_COLLECTIONS.map((c) => {
    const { encrypted: _encrypted, ...schema } = JSON.parse(JSON.stringify(collectionSchemas[c])) as Record<string, unknown>;
    // The peers start from empty databases every run and load no migration plugin: their copy is
    // a first version (RxDB wants strategies, and the plugin, for any version above 0).
    return [c, { ...schema, version: 0 }];
  }));
}

export const ours: SystemDef = {
  key: 'ours',
  label: 'fieldsync',
  server: 'fieldsync server (Fastify) as `npm start` runs it: SQLite WAL synchronous=FULL (durable), hook runner on, socket.io /sync and /live on',
  client: `RxDB ${versionOf('rxdb', ROOT)} memory storage + createFieldsyncDatabase (ajv validation) + our SyncTransport/replicateCollection`,
  clientModule: path.join(BENCH, 'clients/ours.ts'),
  async start({ dataDir, env, profileDir }) {
    if (profileDir) return startOursProfiled(dataDir, profileDir, env);
    const port = await freePort();
    // A loaded machine (the bench's usual home) can take half a minute to start a server: wait longer than the tests do.
    const server = await startServerProcess({ port, dataDir, env: { LOG_LEVEL: 'error', ...env }, startTimeoutMs: 180_000 });
    return { url: server.url, pid: server.child.pid!, stop: () => server.stop() };
  },
};

export function peerSystems(): SystemDef[] {
  return [
    {
      key: 'pouchdb',
      label: 'PouchDB',
      server: `express-pouchdb ${versionOf('express-pouchdb')} on PouchDB ${versionOf('pouchdb')}, LevelDB adapter on disk (leveldown defaults), fullCouchDB mode`,
      client: `PouchDB ${versionOf('pouchdb')} memory adapter, PouchDB.replicate / changes (CouchDB replication protocol)`,
      clientModule: path.join(PEERS_DIR, 'clients/pouchdb.mjs'),
      start: ({ dataDir }) => spawnPeer('pouchdb-server.mjs', { DATA_DIR: dataDir, COLLECTIONS: BENCH_COLLECTIONS.join(',') }, '/'),
    },
    {
      key: 'rxdb-couch',
      label: 'RxDB17+Couch',
      server: `the same express-pouchdb ${versionOf('express-pouchdb')} server (LevelDB on disk)`,
      client: `RxDB ${versionOf('rxdb', ROOT)} memory storage + rxdb/plugins/replication-couchdb`,
      clientModule: path.join(BENCH, 'clients/rxdb-couch.ts'),
      start: ({ dataDir }) => spawnPeer('pouchdb-server.mjs', { DATA_DIR: dataDir, COLLECTIONS: BENCH_COLLECTIONS.join(',') }, '/'),
    },
    {
      key: 'rxserver',
      label: 'RxServer15',
      server: `RxServer (rxdb-server ${versionOf('rxdb-server')}, Express adapter) on RxDB ${versionOf('rxdb')} MEMORY storage (not durable); body limit raised to 8 MiB`,
      client: `RxDB ${versionOf('rxdb')} memory storage + rxdb-server replicateServer (HTTP, SSE)`,
      clientModule: path.join(PEERS_DIR, 'clients/rxdb15-server.mjs'),
      start: ({ dataDir }) => spawnPeer('rxserver.mjs', { SCHEMAS: schemasFile(dataDir) }, '/gps_points/0/pull?limit=1'),
    },
  ];
}
