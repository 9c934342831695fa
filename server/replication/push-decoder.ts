import { Worker } from 'node:worker_threads';
import type { JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';
import { SERVER_DEFAULTS } from '../config.ts';
import type { CollectionRegistry } from './collections.ts';

const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then(({ register }) => { register(); return import(workerData.module); });
`;

/** A push row's newDocumentState, whatever the row is (the route itself refuses malformed rows). */
export function newDocumentStateOf(row: unknown): unknown {
  return (row as { newDocumentState?: unknown } | null | undefined)?.newDocumentState;
}

/** The body as text, or as UTF-8 bytes moved (not copied) to the worker. */
export interface DecodeRequest { id: number; collection: string; text?: string; bytes?: ArrayBuffer }
/** Per row, the newDocumentState as JSON text if it is a document that passed its schema; null otherwise. */
export interface DecodeReply { id: number; states: (string | null)[] | null }

export interface PushDecoderOptions {
  /** Bodies shorter than this are decoded on the event loop only (a worker round trip costs more than it saves). */
  minBytes?: number;
  /** Requests waiting for the worker beyond which new ones are not sent to it (the event loop then does the work itself). */
  maxQueued?: number;
  /**
   * Only collections whose pushed documents average at least this many bytes go to the worker:
   * it saves the event loop about 13 µs of an 80 µs ePCR of 2 KB, but nothing on a 200 B GPS
   * point, whose parse it repeats (measured: +4 µs of server CPU per point, same throughput).
   */
  minDocumentBytes?: number;
}

/**
 * Half of a large push's per-document work, done on another core while the event loop parses the
 * same body: a worker thread parses it too, validates every newDocumentState with the collection's
 * schema and returns each one's JSON text. The push route then skips validating those rows and
 * the store keeps that text instead of serialising the document again (for an ePCR of 2 KB about
 * 13 µs of 80 on the event loop). Nothing on the wire changes.
 *
 * Only bodies of collections whose documents average 1 KB or more go to the worker (observe()):
 * for small documents the repeated parse costs more than it saves. It is only an optimisation:
 * whatever the worker cannot answer (it is busy, it failed, a row is invalid) is done on the
 * event loop exactly as before, and invalid rows are always explained there.
 */
export class PushDecoder {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, (states: (string | null)[] | null) => void>();
  private nextId = 1;
  private broken = false;
  /** Until the worker has compiled its validators, pushes are not kept waiting for it. */
  private ready = false;
  /** Settles when the worker is ready or has failed. */
  private settled: Promise<void> | undefined;
  private settle: (() => void) | undefined;
  private readonly minBytes: number;
  private readonly maxQueued: number;
  private readonly minDocumentBytes: number;
  /** Rows the worker validated and serialised, by collection (cumulative; `/metrics`). */
  readonly rowsDecoded = new Map<string, number>();
  /** Per collection, the average size of its pushed documents (bytes of body per row, smoothed). */
  private readonly documentBytes = new Map<string, number>();

  constructor(private readonly registry: CollectionRegistry, options: PushDecoderOptions = {}) {
    this.minBytes = options.minBytes ?? SERVER_DEFAULTS.pushWorkerMinBytes;
    this.maxQueued = options.maxQueued ?? 4;
    this.minDocumentBytes = options.minDocumentBytes ?? 1024;
  }

  /** What a parsed push body was like; the first large body of a collection with large documents starts the worker. */
  observe(collection: string, bodyBytes: number, rows: number): void {
    if (bodyBytes < this.minBytes || rows === 0) return;
    const before = this.documentBytes.get(collection);
    const size = bodyBytes / rows;
    this.documentBytes.set(collection, before === undefined ? size : (before + size) / 2);
    if ((this.documentBytes.get(collection) ?? 0) >= this.minDocumentBytes) this.ensureStarted();
  }

  /** Starts the worker once; if it cannot be started, the event loop keeps doing all the work. */
  private ensureStarted(): Worker | undefined {
    if (this.broken) return undefined;
    try {
      this.worker ??= this.start();
    } catch (error) {
      this.broken = true;
      console.error('the push worker could not be started; pushes are decoded on the event loop', error);
    }
    return this.worker;
  }

  /** Started by the first large body, so a server that never receives one never pays for it. */
  private start(): Worker {
    const schemas: Record<string, JsonSchemaObject> = {};
    for (const [name, spec] of this.registry) schemas[name] = spec.schema;
    // The worker is TypeScript like the rest of the server; loader hooks of the main thread do
    // not reach a worker on Node 20, so it registers tsx itself before loading its module.
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { schemas, module: new URL('./push-decoder.worker.ts', import.meta.url).href } });
    worker.unref();
    this.settled = new Promise((resolve) => { this.settle = resolve; });
    worker.on('message', (reply: DecodeReply | 'ready') => {
      if (reply === 'ready') {
        this.ready = true;
        this.settle?.();
        return;
      }
      const resolve = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      resolve?.(reply.states);
    });
    const fail = () => {
      this.broken = true;
      this.settle?.();
      for (const resolve of this.waiting.values()) resolve(null);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }

  /**
   * Starts decoding a push body for `collection`; undefined when it is left to the event loop.
   * A Buffer that owns its whole memory is moved to the worker, not copied: it is empty afterwards.
   */
  decode(collection: string, body: string | Buffer): Promise<(string | null)[] | null> | undefined {
    if (this.broken || (typeof body === 'string' ? body.length : body.byteLength) < this.minBytes) return undefined;
    if ((this.documentBytes.get(collection) ?? 0) < this.minDocumentBytes) return undefined;
    const worker = this.ensureStarted();
    if (!worker || !this.ready || this.waiting.size >= this.maxQueued) return undefined;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (states) => {
        if (states) this.rowsDecoded.set(collection, (this.rowsDecoded.get(collection) ?? 0) + states.reduce((n, state) => n + (state === null ? 0 : 1), 0));
        resolve(states);
      });
      try {
        if (typeof body === 'string') {
          worker.postMessage({ id, collection, text: body } satisfies DecodeRequest);
        } else if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer) {
          worker.postMessage({ id, collection, bytes: body.buffer } satisfies DecodeRequest, [body.buffer]);
        } else {
          worker.postMessage({ id, collection, text: body.toString('utf8') } satisfies DecodeRequest);
        }
      } catch {
        // Not handed over: the event loop does this body's work itself.
        this.waiting.delete(id);
        resolve(null);
      }
    });
  }

  /** idle: not started (no large body of large documents yet); starting; ready; failed. */
  get state(): 'idle' | 'starting' | 'ready' | 'failed' {
    if (this.broken) return 'failed';
    if (!this.worker) return 'idle';
    return this.ready ? 'ready' : 'starting';
  }

  /** Starts the worker and resolves once it is ready (or failed): for a caller that wants it warm. */
  async whenReady(): Promise<void> {
    this.ensureStarted();
    await this.settled;
  }

  async close(): Promise<void> {
    if (this.broken) return;
    this.broken = true;
    await this.worker?.terminate();
  }
}

/** A body the decoder works on: the rows as parsed on the event loop, and what the worker will say of them. */
interface Pending { states: readonly unknown[]; result: Promise<(string | null)[] | null> }

/**
 * The push scope's JSON body parser: Fastify's own (same limits, same errors, prototype poisoning
 * refused), which also hands large push bodies to the decoder.
 */
export function decodingJsonParser(app: import('fastify').FastifyInstance, decoder: PushDecoder) {
  const pending = new WeakMap<object, Pending>();
  // The server's JSON handling (server/http/json-depth.ts): the nesting limit, then Fastify's own parse.
  const { depthError, parseChecked: parseJson } = app.jsonBody;
  // Registered with parseAs 'buffer': the event loop decodes the bytes once for its own parse and
  // the worker gets the bytes themselves (moved, not copied).
  const parser = (request: import('fastify').FastifyRequest, raw: string | Buffer, done: (error: Error | null, body?: unknown) => void): void => {
    // Checked and decoded before the worker gets the bytes (they move to it).
    const tooDeep = depthError(raw);
    if (tooDeep) {
      done(tooDeep);
      return;
    }
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    const collection = (request.params as { collection?: unknown } | undefined)?.collection;
    const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
    const result = typeof collection === 'string' ? decoder.decode(collection, raw) : undefined;
    parseJson(request, text, (error: Error | null, body?: unknown) => {
      if (!error && typeof collection === 'string' && Array.isArray(body)) decoder.observe(collection, bytes, body.length);
      if (!error && result && Array.isArray(body)) {
        pending.set(request, { states: body.map(newDocumentStateOf), result });
      }
      done(error, body);
    });
  };
  /**
   * Per row of `rows` (the body as the route sees it, after sealed rows were opened), the JSON
   * text of its newDocumentState if the worker validated that very object; undefined otherwise.
   */
  const decoded = async (request: import('fastify').FastifyRequest, rows: readonly unknown[]): Promise<(string | undefined)[] | undefined> => {
    const entry = pending.get(request);
    if (!entry) return undefined;
    pending.delete(request);
    const states = await entry.result;
    if (!states || states.length !== rows.length) return undefined;
    return rows.map((row, i) => (newDocumentStateOf(row) === entry.states[i] ? states[i] ?? undefined : undefined));
  };
  return { parser, decoded };
}
