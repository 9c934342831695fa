import { deliverOutbox, type DeliveryOptions, type DeliveryResult } from './delivery.ts';
import { getSession, getStatus, openOutboxDb, summarizeQueue, type OutboxDb, type QueueSummary } from '../../client/queue/index.ts';
import { retryDelayMs } from './queue-status.ts';

export interface OutboundQueueOptions extends Omit<DeliveryOptions, 'db'> {
  db?: OutboxDb;
  /** Asks the platform to wake us when connectivity returns (Background Sync), where it exists. */
  requestWakeUp?: () => Promise<void>;
  /** Retries while alive; false in tests that drive delivery by hand. */
  autoRetry?: boolean;
  /** Told the result of every run, whoever started it (a page's kick, an event, the retry timer). */
  onResult?: (result: DeliveryResult) => Promise<void> | void;
  /** How often the server is asked whether it can be reached again after a network failure (default `COVERAGE_PROBE_MS`). */
  probeEveryMs?: number;
  /** The wait before the next attempt after `failures` failed runs (default `retryDelayMs`: backoff with jitter). */
  backoff?: (failures: number, kind: 'network' | 'server') => number;
}

/**
 * After a run failed on the network, the server is asked this often whether it can be reached
 * (a HEAD request, no body, no credentials), and delivery starts at its first answer instead of
 * after the backoff (up to 5 s). A service worker has no reliable way to hear that coverage is
 * back: `online` events do not reach it reliably, `navigator.onLine` and Background Sync follow
 * the browser's network state, which Chromium moves 0.5-2 s after the link, and a stopped worker
 * is only started by Background Sync. While offline the probe fails at once, on the device;
 * in a dead zone it waits at most `PROBE_TIMEOUT_MS`. The browser stops an idle worker after
 * about 30 s, and with it the probing. A run the probe started that fails on the network again
 * having delivered nothing (a link that carries a HEAD but not a batch: weak signal, a captive
 * portal) spends the probe: until a run delivers something, the backoff alone paces the retries,
 * so such a link is not sent a batch five times a second.
 */
export const COVERAGE_PROBE_MS = 200;
const PROBE_TIMEOUT_MS = 3000;

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
  private probe: ReturnType<typeof setTimeout> | undefined;
  /** The last run was started by the probe; `probeSpent`: it then failed again with nothing delivered. */
  private probeStarted = false;
  private probeSpent = false;
  /** The last finished run (undefined: none yet in this worker's life) and when it ended. */
  last: { result: DeliveryResult; at: number } | undefined;

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
        this.last = { result, at: Date.now() };
        await this.options.onResult?.(result);
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
    const startedByProbe = this.probeStarted;
    this.probeStarted = false;
    if (result.delivered + result.merged + result.rejected + result.uploaded > 0 || result.stoppedBy !== 'network') this.probeSpent = false;
    else if (startedByProbe) this.probeSpent = true;
    if (!result.stoppedBy || result.stoppedBy === 'auth' || result.stoppedBy === 'update') return;
    await this.options.requestWakeUp?.().catch(() => undefined);
    if (this.options.autoRetry === false) return;
    const status = await getStatus(await this.database());
    // The timer only starts a run when none is going: joining one would ask for an extra pass.
    this.timer = setTimeout(() => void (this.running ?? this.deliver()), result.stoppedBy === 'limit' ? 0 : (this.options.backoff ?? retryDelayMs)(status.failures, result.stoppedBy === 'server' ? 'server' : 'network'));
    if (result.stoppedBy === 'network') this.watchCoverage();
  }

  /** Starts delivery as soon as the server answers again (see COVERAGE_PROBE_MS). */
  private watchCoverage(): void {
    clearTimeout(this.probe);
    if (this.probeSpent) return;
    const failedAt = this.last?.at;
    // The server's address, read once per failure, not every 200 ms.
    let serverUrl: Promise<string | undefined> | undefined;
    const tick = async (): Promise<void> => {
      // Another run started meanwhile (a page's kick, an event, the timer): it probes for itself.
      if (this.running || this.last?.at !== failedAt) return;
      serverUrl ??= this.database().then(getSession).then((s) => s?.serverUrl, () => undefined);
      if (await this.reachable(await serverUrl)) {
        if (!this.running && this.last?.at === failedAt) {
          this.probeStarted = true;
          void this.deliver().catch(() => undefined);
        }
        return;
      }
      if (this.last?.at === failedAt) this.probe = setTimeout(() => void tick(), this.options.probeEveryMs ?? COVERAGE_PROBE_MS);
    };
    this.probe = setTimeout(() => void tick(), this.options.probeEveryMs ?? COVERAGE_PROBE_MS);
  }

  /** The server answers (any HTTP status): the network carries data to it again. */
  private async reachable(serverUrl: string | undefined): Promise<boolean> {
    if (!serverUrl) return false;
    const fetchFn = this.options.fetch ?? fetch;
    try {
      await fetchFn(serverUrl, { method: 'HEAD', mode: 'no-cors', cache: 'no-store', credentials: 'omit', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return true;
    } catch {
      return false;
    }
  }

  /** A run is going now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** The run going now, or the last one's result (undefined: none yet). */
  async settled(): Promise<DeliveryResult | undefined> {
    return this.running ? this.running : this.last?.result;
  }

  /** The backoff before the next try after the last run failed (0 when it did not). */
  async retryDelay(): Promise<number> {
    const stoppedBy = this.last?.result.stoppedBy;
    if (stoppedBy !== 'network' && stoppedBy !== 'server') return 0;
    return (this.options.backoff ?? retryDelayMs)((await getStatus(await this.database())).failures, stoppedBy);
  }

  async summary(): Promise<QueueSummary> {
    return summarizeQueue(await this.database());
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.probe);
  }
}
