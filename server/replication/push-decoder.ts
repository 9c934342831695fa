import { Worker } from 'node:worker_threads';
import type { JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';
import type { CollectionRegistry } from './collections.ts';

const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then(({ register }) => { register(); return import(workerData.module); });
`;

export interface DecodeRequest { id: number; collection: string; text: string }
/** Per row, the newDocumentState as JSON text if it is a document that passed its schema; null otherwise. */
export interface DecodeReply { id: number; states: (string | null)[] | null }

export interface PushDecoderOptions {
  /** Bodies shorter than this are decoded on the event loop only (a worker round trip costs more than it saves). */
  minBytes?: number;
  /** Requests waiting for the worker beyond which new ones are not sent to it (the event loop then does the work itself). */
  maxQueued?: number;
}

/**
 * Half of a large push's per-document work, done on another core while the event loop parses the
 * same body: a worker thread parses it too, validates every newDocumentState with the collection's
 * schema and returns each one's JSON text. The push route then skips validating those rows and
 * the store stores that text instead of serialising the document again (for an ePCR of 2 KB
 * about 13 µs of 80 on the event loop; docs/protocol.md is unchanged by it).
 *
 * Only an optimisation: whatever the worker cannot answer (it is busy, it failed, a row is
 * invalid) is done on the event loop exactly as before, and invalid rows are always explained
 * there.
 */
export class PushDecoder {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, (states: (string | null)[] | null) => void>();
  private nextId = 1;
  private broken = false;
  /** Until the worker has compiled its validators, pushes are not kept waiting for it. */
  private ready = false;
  private readonly minBytes: number;
  private readonly maxQueued: number;

  constructor(private readonly registry: CollectionRegistry, options: PushDecoderOptions = {}) {
    this.minBytes = options.minBytes ?? 32 * 1024;
    this.maxQueued = options.maxQueued ?? 4;
  }

  /** Started by the first large body, so a server that never receives one never pays for it. */
  private start(): Worker {
    const schemas: Record<string, JsonSchemaObject> = {};
    for (const [name, spec] of this.registry) schemas[name] = spec.schema;
    // The worker is TypeScript like the rest of the server; loader hooks of the main thread do
    // not reach a worker on Node 20, so it registers tsx itself before loading its module.
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { schemas, module: new URL('./push-decoder.worker.ts', import.meta.url).href } });
    worker.unref();
    worker.on('message', (reply: DecodeReply | 'ready') => {
      if (reply === 'ready') {
        this.ready = true;
        return;
      }
      const resolve = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      resolve?.(reply.states);
    });
    const fail = () => {
      this.broken = true;
      for (const resolve of this.waiting.values()) resolve(null);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }

  /** Starts decoding `text` (a push body for `collection`); undefined when it is left to the event loop. */
  decode(collection: string, text: string): Promise<(string | null)[] | null> | undefined {
    if (this.broken || text.length < this.minBytes) return undefined;
    this.worker ??= this.start();
    if (!this.ready || this.waiting.size >= this.maxQueued) return undefined;
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ id, collection, text } satisfies DecodeRequest);
    });
  }

  /** Resolves once the worker answers (tests, and a caller that wants it warm). */
  async whenReady(): Promise<void> {
    this.worker ??= this.start();
    while (!this.ready && !this.broken) await new Promise((resolve) => setTimeout(resolve, 10));
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
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const parser = (request: import('fastify').FastifyRequest, text: string | Buffer, done: (error: Error | null, body?: unknown) => void): void => {
    const collection = (request.params as { collection?: unknown } | undefined)?.collection;
    const result = typeof collection === 'string' && typeof text === 'string' ? decoder.decode(collection, text) : undefined;
    parseJson(request, text as string, (error: Error | null, body?: unknown) => {
      if (!error && result && Array.isArray(body)) {
        pending.set(request, { states: body.map((row: unknown) => (row as { newDocumentState?: unknown } | null)?.newDocumentState), result });
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
    return rows.map((row, i) => (row as { newDocumentState?: unknown } | null)?.newDocumentState === entry.states[i] ? states[i] ?? undefined : undefined);
  };
  return { parser, decoded };
}
