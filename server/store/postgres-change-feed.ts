import pg from 'pg';
import type { CommitNotifier } from './commit-notifier.ts';
import type { StoredDocument } from './types.ts';

/** What the feed reads from the store (PostgresStore implements it). */
export interface ChangeFeedSource {
  /**
   * Documents with a position after `cursor` and below the horizon, in position order, and the
   * horizon of the snapshot they were read in (every position below it is final), and whether
   * committed documents wait above it (for an older transaction still open).
   */
  readAfter(cursor: number, limit: number): Promise<{ documents: StoredDocument[]; horizon: number; waiting: boolean }>;
  /** The transaction a position belongs to (documents of one transaction form one event per collection and tenant). */
  transactionOf(position: number): number;
}

export interface ChangeFeedOptions {
  source: ChangeFeedSource;
  notifier: CommitNotifier;
  /** Connection settings of the LISTEN session (the pool's own). */
  listen: pg.ClientConfig;
  channel: string;
  /** This process's store instance: its own NOTIFYs of outbox-only commits were already heard locally. */
  instanceId: string;
  /** The fallback poll: commits whose NOTIFY was lost, rollbacks and other databases' transactions that held the horizon back. */
  pollMs: number;
  /** Documents read per round; a full page is followed by another read at once. */
  pageSize?: number;
  onError?: (message: string, error: unknown) => void;
}

/**
 * One process's tail of the shared log: PostgreSQL is the log, and every process reads it from
 * its own cursor, so a change committed through any process reaches every process's listeners
 * (the `/sync` stream, the `/live` feed, the hook runner, metrics), in position order, and only
 * once it is below the horizon, i.e. once a pull can return it too: an event never hands a client
 * a checkpoint its pull could not yet reach.
 *
 * Woken by NOTIFY (each writer notifies after its COMMIT, never inside the transaction), by this
 * process's own commits, and by a short poll; after the LISTEN session is lost it reconnects and
 * reads again from its cursor, so nothing committed meanwhile is skipped.
 */
export class PostgresChangeFeed {
  private cursor = 0;
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private reconnectDelayMs = 100;
  /** A re-read scheduled while committed changes wait above the horizon (backs off up to the poll). */
  private recheck: NodeJS.Timeout | undefined;
  private recheckDelayMs = RECHECK_FIRST_MS;
  /** Tenants of outbox-only commits announced by other processes since the last read. */
  private readonly outboxTenants = new Set<string>();

  constructor(private readonly options: ChangeFeedOptions) {}

  /** Starts at `cursor` (the horizon when the first listener subscribed, minus one). */
  async start(cursor: number): Promise<void> {
    if (this.timer || this.stopped) return;
    this.cursor = cursor;
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    await this.connect();
  }

  /** Reads what is new (coalesced: one read runs at a time, and one more follows if woken meanwhile). */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readAll().catch((error: unknown) => {
      this.options.onError?.('the change feed could not read the log; the next poll tries again', error);
    }).finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.recheck);
    while (this.reading) await this.reading;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  private async readAll(): Promise<void> {
    const pageSize = this.options.pageSize ?? 1000;
    const outbox = [...this.outboxTenants];
    this.outboxTenants.clear();
    for (;;) {
      if (this.stopped) return;
      const { documents, horizon, waiting } = await this.options.source.readAfter(this.cursor, pageSize);
      this.emit(documents);
      if (documents.length < pageSize) {
        // Everything below the horizon was examined: nothing can appear there any more.
        this.cursor = Math.max(this.cursor, horizon - 1);
        // Changes already committed wait for an older transaction: their own NOTIFY came too early
        // and the end of that transaction sends none (a rollback, another database): look again soon.
        this.scheduleRecheck(waiting);
        break;
      }
      this.cursor = documents[documents.length - 1]!.seq;
    }
    for (const tenantId of outbox) this.options.notifier.emit({ collection: '', tenantId, documents: [] });
  }

  private scheduleRecheck(waiting: boolean): void {
    if (!waiting) {
      this.recheckDelayMs = RECHECK_FIRST_MS;
      return;
    }
    if (this.recheck || this.stopped) return;
    const delay = this.recheckDelayMs;
    this.recheckDelayMs = Math.min(this.options.pollMs, delay * 2);
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.wake();
    }, delay);
    this.recheck.unref();
  }

  /** One event per run of documents of the same transaction, collection and tenant, in position order. */
  private emit(documents: StoredDocument[]): void {
    let run: StoredDocument[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      this.options.notifier.emit({ collection: run[0]!.collection, tenantId: run[0]!.tenantId, documents: run });
      run = [];
    };
    for (const doc of documents) {
      const head = run[0];
      if (head && (head.collection !== doc.collection || head.tenantId !== doc.tenantId
        || this.options.source.transactionOf(head.seq) !== this.options.source.transactionOf(doc.seq))) flush();
      run.push(doc);
    }
    flush();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.options.listen);
    client.on('notification', (message) => {
      const payload = message.payload ?? '';
      // "<instance>|outbox|<tenant>": a commit that only added outbox entries (wakes hook runners).
      const [instance, kind, tenantId] = payload.split('|');
      if (kind === 'outbox' && instance !== this.options.instanceId && tenantId) this.outboxTenants.add(tenantId);
      this.wake();
    });
    const lost = (error?: unknown): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      if (error) this.options.onError?.('the change feed lost its LISTEN session; reconnecting (the poll covers the gap)', error);
      void client.end().catch(() => undefined);
      const delay = this.reconnectDelayMs;
      this.reconnectDelayMs = Math.min(5_000, delay * 2);
      setTimeout(() => { void this.connect(); }, delay).unref();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
      this.reconnectDelayMs = 100;
      // Whatever was committed while no session listened is read now.
      this.wake();
    } catch (error) {
      lost(error);
    }
  }
}

/** First re-read while changes wait above the horizon (doubling up to the poll interval). */
const RECHECK_FIRST_MS = 20;
