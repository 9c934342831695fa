import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  decorrelatedJitterGenerator,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface ResilienceOptions {
  /** Per attempt: an attempt still running after this is abandoned (and its request aborted). */
  timeoutMs: number;
  /** Extra attempts within one call. */
  retries: number;
  /** First retry delay; grows exponentially, with decorrelated jitter, up to `backoffMaxMs`. */
  backoffMs: number;
  backoffMaxMs: number;
  /** Consecutive failed attempts that open a target's breaker. */
  breakerThreshold: number;
  /** How long an open breaker refuses calls before one trial call may go through. */
  breakerHalfOpenAfterMs: number;
}

export interface BreakerEvents {
  onBreakerChange?(target: string, state: BreakerState, lastError: string | undefined): void;
}

/**
 * The target said no in a way that repeating the same request will not change (e.g. a 400).
 * It is not retried within the call and does not count against the breaker: the target is up.
 */
export class PermanentCallError extends Error {
  override name = 'PermanentCallError';
}

/** Thrown when a call gave up; the message names the target, what happened and what happens next. */
export class IntegrationCallError extends Error {
  override name = 'IntegrationCallError';
  constructor(
    readonly target: string,
    readonly reason: 'permanent' | 'breaker-open' | 'timeout' | 'failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface TargetPolicy {
  policy: IPolicy;
  breaker: CircuitBreakerPolicy;
  openedAt: number;
}

/**
 * One resilience policy per outbound target: retry ∘ circuit breaker ∘ timeout. Each attempt
 * has its own timeout, and each attempt's failure counts against the breaker, so a target that
 * hangs opens its breaker after a few attempts and later calls fail at once instead of holding a
 * hook runner slot for the whole retry budget. Policies are never shared between targets: one
 * hospital being down does not refuse calls to another.
 */
export class ResilientCaller {
  private readonly targets = new Map<string, TargetPolicy>();

  constructor(private readonly options: ResilienceOptions, private readonly events: BreakerEvents = {}) {}

  /** Creates the target's policy now, so `/ready` and `/metrics` list it before its first call. */
  declare(target: string): void {
    this.policyFor(target);
  }

  /**
   * Runs `attempt` under the target's policy. `attempt` gets an AbortSignal that fires when the
   * attempt times out; pass it to `fetch` so the abandoned request is really closed.
   */
  async call<T>(target: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const entry = this.policyFor(target);
    let attempts = 0;
    try {
      return await entry.policy.execute(async ({ signal }) => {
        attempts += 1;
        try {
          return await attempt(signal);
        } catch (error) {
          // The timeout aborts the signal; fetch's AbortError can win the race with the timeout's
          // own error, and it is the same event.
          if (signal.aborted) throw new TaskCancelledError(`Operation timed out after ${this.options.timeoutMs}ms`);
          throw error;
        }
      });
    } catch (error) {
      throw this.explain(target, error, attempts);
    }
  }

  /** Every known target's breaker state. */
  breakerStates(): Record<string, BreakerState> {
    const states: Record<string, BreakerState> = {};
    for (const [target, entry] of this.targets) states[target] = this.stateOf(entry);
    return states;
  }

  private stateOf(entry: TargetPolicy): BreakerState {
    switch (entry.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        // cockatiel leaves the state at Open until the next call arrives, then lets that call
        // through as the trial. Once the wait is over the next call *is* a trial call, which is
        // what half-open means to someone reading /ready, so that is what is reported.
        return Date.now() - entry.openedAt >= this.options.breakerHalfOpenAfterMs ? 'half-open' : 'open';
    }
  }

  private policyFor(target: string): TargetPolicy {
    const existing = this.targets.get(target);
    if (existing) return existing;
    const o = this.options;
    // Transient: anything except a permanent refusal and the breaker's own fast failure.
    const transient = handleWhen((error) => !(error instanceof PermanentCallError) && !isBrokenCircuitError(error));
    const retryPolicy = retry(transient, {
      maxAttempts: o.retries,
      backoff: new ExponentialBackoff({ initialDelay: o.backoffMs, maxDelay: o.backoffMaxMs, generator: decorrelatedJitterGenerator }),
    });
    const breaker = circuitBreaker(transient, { halfOpenAfter: o.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(o.breakerThreshold) });
    const perAttempt = timeout(o.timeoutMs, TimeoutStrategy.Aggressive);
    const entry: TargetPolicy = { policy: wrap(retryPolicy, breaker, perAttempt), breaker, openedAt: 0 };
    breaker.onBreak(() => {
      entry.openedAt = Date.now();
    });
    breaker.onStateChange(() => {
      const failure = breaker.lastFailure;
      const lastError = failure && 'error' in failure ? failure.error.message : undefined;
      this.events.onBreakerChange?.(target, this.stateOf(entry), lastError);
    });
    this.targets.set(target, entry);
    return entry;
  }

  private explain(target: string, error: unknown, attempts: number): Error {
    if (error instanceof PermanentCallError) return new IntegrationCallError(target, 'permanent', error.message, { cause: error });
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    if (isBrokenCircuitError(error)) {
      const entry = this.targets.get(target);
      const last = entry?.breaker.lastFailure;
      const lastText = last && 'error' in last ? ` Last failure: ${describe(last.error, this.options.timeoutMs)}.` : '';
      const waitMs = entry ? Math.max(0, this.options.breakerHalfOpenAfterMs - (Date.now() - entry.openedAt)) : this.options.breakerHalfOpenAfterMs;
      return new IntegrationCallError(target, 'breaker-open',
        `${target} is not being called: its circuit breaker is open after ${this.options.breakerThreshold} consecutive failures.${lastText} ` +
        `It lets a trial call through in ${Math.ceil(waitMs / 1000)} s.`, { cause: error });
    }
    if (isTaskCancelledError(error)) {
      return new IntegrationCallError(target, 'timeout',
        `${target} did not answer within ${this.options.timeoutMs} ms (${tries}).`, { cause: error });
    }
    const last = describe(error instanceof Error ? error : new Error(String(error)), this.options.timeoutMs);
    return new IntegrationCallError(target, 'failed', `${target} failed after ${tries}; last failure: ${last}.`, { cause: error });
  }
}

/**
 * cockatiel 3.2.1's own `isTaskCancelledError` tests for the bulkhead marker (a bug), so the
 * timeout's marker property is checked here instead.
 */
function isTaskCancelledError(error: unknown): boolean {
  return error instanceof Error && 'isTaskCancelledError' in error;
}

/** fetch's own errors say only "fetch failed"; the useful part (ECONNREFUSED, …) is the cause. */
function describe(error: Error, timeoutMs: number): string {
  if (isTaskCancelledError(error)) return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? code : cause.message})`;
  }
  return error.message;
}
