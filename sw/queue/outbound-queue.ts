import { deliverOutbox, type DeliveryOptions, type DeliveryResult } from './delivery.ts';
import { getStatus, openOutboxDb, type OutboxDb } from './outbox-db.ts';
import { retryDelayMs, summarizeQueue, type QueueSummary } from './queue-status.ts';

export interface OutboundQueueOptions extends Omit<DeliveryOptions, 'db'> {
  db?: OutboxDb;
  /** Asks the platform to wake us when connectivity returns (Background Sync), where it exists. */
  requestWakeUp?: () => Promise<void>;
  /** Retries while alive; false in tests that drive delivery by hand. */
  autoRetry?: boolean;
}

/**
 * The service worker's delivery loop around the durable queue: one delivery at a time, retried
 * with backoff and jitter for as long as anything waits (nothing ages out), and a wake-up request
 * to the browser so delivery resumes with no page open.
 */
export class OutboundQueue {
  private db: OutboxDb | undefined;
  private running: Promise<DeliveryResult> | undefined;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: OutboundQueueOptions = {}) {
    this.db = options.db;
  }

  async database(): Promise<OutboxDb> {
    this.db ??= await openOutboxDb();
    return this.db;
  }

  /** Delivers now; concurrent calls share one run and trigger one more pass after it. */
  deliver(): Promise<DeliveryResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        let result: DeliveryResult;
        do {
          this.again = false;
          result = await deliverOutbox({ ...this.options, db: await this.database() });
          // A trigger that came in during a run that then failed on the network or the server
          // (e.g. the page's `online` kick while an attempt begun offline was still failing) gets
          // one more attempt now, not after the backoff; auth and update stops need a person.
        } while (this.again && (!result.stoppedBy || result.stoppedBy === 'network' || result.stoppedBy === 'server'));
        await this.afterRun(result);
        return result;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async afterRun(result: DeliveryResult): Promise<void> {
    clearTimeout(this.timer);
    if (!result.stoppedBy || result.stoppedBy === 'auth' || result.stoppedBy === 'update') return;
    await this.options.requestWakeUp?.().catch(() => undefined);
    if (this.options.autoRetry === false) return;
    const status = await getStatus(await this.database());
    this.timer = setTimeout(() => void this.deliver(), result.stoppedBy === 'limit' ? 0 : retryDelayMs(status.failures));
  }

  async summary(): Promise<QueueSummary> {
    return summarizeQueue(await this.database());
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
