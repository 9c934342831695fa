import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';

/**
 * Measures what a durable SQLite commit costs on this disk while a benchmark runs: one tiny
 * transaction (WAL, synchronous=FULL, like our server's) every 200 ms in its own thread and file.
 * Other people's work on the shared machine shows up here as slow fsyncs.
 */
const port = parentPort!;
let running = false;
let loop: Promise<void> | undefined;
const times: number[] = [];

const handlers: Record<string, () => Promise<unknown>> = {
  async start() {
    running = true;
    times.length = 0;
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldsync-bench-probe-'));
    const db = new Database(path.join(dir, 'probe.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const tx = db.transaction(() => insert.run('x'.repeat(250)));
    loop = (async () => {
      while (running && times.length < 100_000) {
        const start = performance.now();
        tx();
        times.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, 200));
      }
      db.close();
      rmSync(dir, { recursive: true, force: true });
    })();
  },
  async stop() {
    running = false;
    await loop;
    return [...times];
  },
};

port.on('message', (message: { id: number; method: string }) => {
  const handler = handlers[message.method];
  if (!handler) return port.postMessage({ id: message.id, error: `unknown method ${message.method}` });
  handler().then((result) => port.postMessage({ id: message.id, result }), (error: unknown) => port.postMessage({ id: message.id, error: String(error) }));
});
port.postMessage({ ready: true });
