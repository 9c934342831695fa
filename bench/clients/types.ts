/**
 * What every system's client library does for the benchmark, implemented once per system in a
 * worker thread (bench/clients/*.ts for libraries of the root install, bench/peers/clients/*.mjs
 * for the peer libraries). The host (bench/workers/host.ts) does all timing around these calls,
 * identically for every system.
 */
export type BenchDoc = Record<string, unknown>;

/** fetch as the libraries call it; the host wraps it to time push acknowledgements. */
export type FetchLike = (url: string, init?: { method?: string; body?: unknown; headers?: unknown }) => Promise<{ ok: boolean; status: number }>;

export interface ClientContext {
  serverUrl: string;
  tenant: string;
  /** RxDB JSON schemas of the collections, by name (our schemas; the peers use the same ones). */
  schemas: Record<string, Record<string, unknown>>;
}

export interface BenchDevice {
  /** Writes one document into the device's local database; live replication pushes it. */
  write(doc: BenchDoc): Promise<void>;
  close(): Promise<void>;
}

export interface BenchClient {
  /** A device's local database filled with `docs` (not timed). */
  bulkPrepare(options: { collection: string; docs: BenchDoc[] }): Promise<void>;
  /** Pushes everything bulkPrepare wrote; resolves when the server has acknowledged all of it. */
  bulkPush(options: { collection: string; batchSize: number }): Promise<void>;
  /** A fresh device pulls the whole collection; resolves with the number of local documents. */
  bulkPull(options: { collection: string; batchSize: number; expected: number }): Promise<number>;
  /**
   * A device with live push replication of `collection`. The library's HTTP calls must go through
   * `instrument(theLibrarysOwnFetch)`, which times the acknowledgement of every pushed document.
   */
  openDevice(options: { collection: string; deviceId: string; unitId: string; batchSize: number; instrument(fetch: FetchLike): FetchLike }): Promise<BenchDevice>;
  /** A dispatcher following GPS positions live; calls onPoint as early as the library allows. */
  openDispatcher(options: { batchSize: number; onPoint(sourceId: string, recordedAt: string): void }): Promise<{ close(): Promise<void> }>;
  /** How the dispatcher follows, for the report. */
  readonly dispatcherVia: string;
  /** Anything the client had to do differently from its plain path, for the report. */
  notes?(): string[];
  close(): Promise<void>;
}

export type CreateClient = (context: ClientContext) => Promise<BenchClient>;
