/**
 * The NEMSIS national Schematron, run in-process on a worker thread with SaxonJS.
 *
 * `SchematronValidator.validate(xml)` gives every `[ERROR]` and `[WARNING]` of the national rules
 * with its rule id (e.g. nemSch_e145), message, where it fired and the NEMSIS elements the rule
 * names (from NEMSIS's own diagnostic: the elements to revisit and those missing). A document that
 * breaks the rules is a result; a validator that cannot run (no rules, compile failure, worker
 * died) is an Error, so a setup problem is never mistaken for a bad report.
 */
import { Worker } from 'node:worker_threads';
import { compiledSchematron, defaultSchematronCacheDir } from './schematron-compile.ts';
import { findingOf, type RawSchematronFinding, type SchematronFinding } from '../../shared/nemsis/schematron-findings.ts';

export type { SchematronFinding, SchematronSeverity } from '../../shared/nemsis/schematron-findings.ts';
export { elementOf, plainLocation } from '../../shared/nemsis/schematron-findings.ts';

export interface SchematronResult {
  errors: SchematronFinding[];
  warnings: SchematronFinding[];
  /** Time the rules took on the worker, in milliseconds. */
  ms: number;
}

/** @internal The worker's protocol (schematron.worker.ts). */
export interface SchematronRequest { id: number; xml: string }
/** @internal */
export type SchematronWorkerReply =
  | { ready: true }
  | { ready: false; error: string }
  | { id: number; findings: RawSchematronFinding[]; ms: number }
  | { id: number; error: string };

export interface SchematronOptions {
  /** The NEMSIS directory (NEMSIS_DIR) holding schematron/. */
  nemsisDir: string;
  /** Where the compiled rules are kept (SCHEMATRON_CACHE_DIR); default a folder in the OS temp directory. */
  cacheDir?: string;
  /** Which data set's national rules: EMSDataSet.sch (default) or DEMDataSet.sch. */
  dataSet?: 'EMSDataSet' | 'DEMDataSet';
}

// The worker is TypeScript like the rest of the server; loader hooks of the main thread do not
// reach a worker on Node 20, so it registers tsx itself before loading its module (as push-decoder.ts).
const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then(({ register }) => { register(); return import(workerData.module); });
`;

export class SchematronValidator {
  private worker: Promise<Worker> | undefined;
  private readonly waiting = new Map<number, { resolve: (result: SchematronResult) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  constructor(private readonly options: SchematronOptions) {}

  /** Compiles the rules if needed and loads them; validate() does this itself on first use. */
  ready(): Promise<void> {
    return this.started().then(() => undefined);
  }

  async validate(xml: string): Promise<SchematronResult> {
    const worker = await this.started();
    const id = this.nextId++;
    return new Promise<SchematronResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Waiting for an answer keeps the process alive; an idle worker does not.
      worker.ref();
      worker.postMessage({ id, xml } satisfies SchematronRequest);
    });
  }

  /** Stops the worker; a later validate() starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await (await worker.catch(() => undefined))?.terminate();
  }

  private started(): Promise<Worker> {
    if (!this.worker) {
      this.worker = this.start();
      // A failed start is not kept: the next call tries again (e.g. after the rules were installed).
      this.worker.catch(() => { this.worker = undefined; });
    }
    return this.worker;
  }

  private async start(): Promise<Worker> {
    const sefPath = await compiledSchematron({ nemsisDir: this.options.nemsisDir, ...(this.options.dataSet ? { dataSet: this.options.dataSet } : {}) }, this.options.cacheDir ?? defaultSchematronCacheDir());
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { sefPath, module: new URL('./schematron.worker.ts', import.meta.url).href } });
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`The Schematron worker stopped (exit code ${code}) before it was ready`));
      worker.once('exit', onExit);
      worker.once('error', reject);
      worker.once('message', (reply: SchematronWorkerReply) => {
        worker.off('exit', onExit);
        worker.off('error', reject);
        if ('ready' in reply && reply.ready) resolve();
        else reject(new Error('error' in reply ? reply.error : 'The Schematron worker did not start'));
      });
    });
    worker.on('message', (reply: SchematronWorkerReply) => this.answer(worker, reply));
    const fail = (error: Error) => {
      if (this.worker) this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (error) => fail(new Error(`The Schematron worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`The Schematron worker stopped (exit code ${code}); the report was not checked. Try again.`)));
    return worker;
  }

  private answer(worker: Worker, reply: SchematronWorkerReply): void {
    if (!('id' in reply)) return;
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) worker.unref();
    if (!waiter) return;
    if ('error' in reply) {
      waiter.reject(new Error(`The national Schematron could not be run on this document: ${reply.error}`));
      return;
    }
    const result: SchematronResult = { errors: [], warnings: [], ms: Math.round(reply.ms) };
    for (const raw of reply.findings) {
      const finding = findingOf(raw);
      (finding.severity === 'error' ? result.errors : result.warnings).push(finding);
    }
    waiter.resolve(result);
  }
}

const shared = new Map<string, SchematronValidator>();

/** One validator (one worker, rules loaded once) per NEMSIS directory and cache in this process. */
export function sharedSchematronValidator(options: SchematronOptions): SchematronValidator {
  const key = `${options.nemsisDir}\0${options.cacheDir ?? ''}\0${options.dataSet ?? 'EMSDataSet'}`;
  let validator = shared.get(key);
  if (!validator) {
    validator = new SchematronValidator(options);
    shared.set(key, validator);
  }
  return validator;
}
