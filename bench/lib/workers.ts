import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const BOOT = path.resolve(import.meta.dirname, '../workers/boot.mjs');
const HOST = path.resolve(import.meta.dirname, '../workers/host.ts');

/**
 * Nice value of the threads that simulate many devices (fleet and issue #6 units). On this 2-core
 * machine 100–500 simulated devices would otherwise take CPU from the server they measure (Linux
 * schedules each thread separately); real devices bring their own hardware. The dispatcher and the
 * single bulk-transfer device keep normal priority.
 */
export const DEVICE_NICE = 10;

interface Pending { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }

/**
 * One worker thread running one system's client library (a JavaScript realm of its own, so
 * RxDB's 13-collection limit applies per worker). Calls are request/response with a deadline:
 * nothing in a benchmark waits forever.
 */
export class BenchWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failed: Error | undefined;
  readonly ready: Promise<void>;

  private constructor(clientModule: string, context: Record<string, unknown>, host: string) {
    this.worker = new Worker(BOOT, {
      workerData: { host: pathToFileURL(host).href, clientModule: pathToFileURL(clientModule).href, context },
      stdout: false,
      stderr: false,
    });
    this.ready = new Promise<void>((resolve, reject) => {
      // 180 s: at load 35-40 on 2 cores a client worker (tsx, RxDB) took over 60 s to start.
      const timer = setTimeout(() => reject(new Error(`worker for ${path.basename(clientModule)} did not start in 180 s (a loaded machine? see the load average)`)), 180_000);
      this.worker.once('message', (message: { ready?: boolean; error?: string }) => {
        clearTimeout(timer);
        if (message.ready) resolve();
        else reject(new Error(message.error ?? 'worker failed to start'));
      });
      this.worker.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    this.ready.then(() => {
      this.worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if (message.error !== undefined) call.reject(new Error(message.error));
        else call.resolve(message.result);
      });
    }, () => {});
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`worker exited with code ${code}`)));
  }

  /** `host` is the worker's entry (default: workers/host.ts, which loads `clientModule`). */
  static async start(clientModule: string, context: Record<string, unknown>, host = HOST): Promise<BenchWorker> {
    const worker = new BenchWorker(clientModule, context, host);
    try {
      await worker.ready;
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return worker;
  }

  call<T>(method: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.worker.postMessage({ id, method, args });
    });
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.pending.clear();
  }

  async terminate(): Promise<void> {
    this.failed ??= new Error('worker terminated');
    await this.worker.terminate();
  }
}

/** Starts `count` workers, at most `parallel` loading at a time (each load costs ~0.7 CPU-seconds). */
export async function startWorkers(count: number, clientModule: string, context: Record<string, unknown>, parallel = 4, host = HOST): Promise<BenchWorker[]> {
  const workers: BenchWorker[] = [];
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        next++;
        workers.push(await BenchWorker.start(clientModule, context, host));
      }
    }));
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }
  return workers;
}

const PROBE = path.resolve(import.meta.dirname, '../workers/disk-probe.ts');

/** Starts the disk-commit probe (workers/disk-probe.ts); stop() returns each commit's duration in ms. */
export async function startDiskProbe(): Promise<{ stop(): Promise<number[]> }> {
  const worker = await BenchWorker.start(PROBE, {}, PROBE);
  await worker.call('start');
  return {
    async stop() {
      try {
        return await worker.call<number[]>('stop', {}, 10_000);
      } finally {
        await worker.terminate();
      }
    },
  };
}
