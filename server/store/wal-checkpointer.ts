import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointResult {
  /** Frames in the WAL, and frames of it now copied into the database file. */
  log: number;
  checkpointed: number;
}

// Plain CommonJS, evaluated in the worker: no TypeScript loader is needed there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
// Never wait for the writer's locks: a busy checkpoint just copies less and tries again later.
db.pragma('busy_timeout = 0');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error && error.message || error) });
  }
});
`;

/**
 * Copies WAL frames into the database file from a worker thread with its own connection.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold: it copies
 * thousands of pages and fsyncs the database file on the event loop, a stall of tens of ms (far
 * more on a busy disk) every few MB written. Here the main connection has wal_autocheckpoint=0
 * and this worker runs PASSIVE checkpoints, which never block the writer; the store decides when
 * (group-commit.ts).
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private waiting: { resolve: (result: CheckpointResult) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(file: string) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, module } });
    // A checkpoint in progress must not keep the process alive at shutdown.
    this.worker.unref();
    this.worker.on('message', (message: { ok: true; log: number; checkpointed: number } | { ok: false; error: string }) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (!waiting) return;
      if (message.ok) waiting.resolve({ log: message.log, checkpointed: message.checkpointed });
      else waiting.reject(new Error(`WAL checkpoint failed: ${message.error}`));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the WAL checkpoint worker exited (code ${code})`)));
  }

  /** Whether the worker is gone (it failed): the store then checkpoints on its own connection. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** One PASSIVE checkpoint; one at a time. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('a WAL checkpoint is already running'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.postMessage('checkpoint');
    });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.failure = new Error('the WAL checkpointer is closed');
    // Unreferenced, the worker would let the process end before it closed its connection.
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.reject(error);
    this.waiting = undefined;
  }
}
