/**
 * A measurement's time budget: the bench must never die on a slow machine. A measurement that
 * cannot finish in its budget is reported as such, with what it reached, and the rest of the run
 * goes on (issue #21). Waits inside a measurement go through `Budget.waitFor`, which throws
 * `OverBudget` with the last progress the measurement reported; `measure` turns that, or any
 * other failure, into a report instead of a crash.
 */
export class OverBudget extends Error {
  constructor(readonly what: string, readonly reached: string) {
    super(`over budget waiting for ${what} (reached: ${reached})`);
  }
}

export class Budget {
  readonly deadline: number;
  /** What the measurement has reached so far, in words (shown when it cannot finish). */
  reached = 'nothing yet';

  constructor(readonly ms: number) {
    this.deadline = Date.now() + ms;
  }

  get left(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  /** Polls `check` until it returns something truthy; throws OverBudget at the deadline (or `timeoutMs` earlier). */
  async waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, options: { everyMs?: number; timeoutMs?: number } = {}): Promise<T> {
    const until = Math.min(this.deadline, options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs);
    for (;;) {
      let value: T | undefined | false;
      try {
        value = await check();
      } catch {
        value = undefined;
      }
      if (value) return value;
      if (Date.now() >= until) throw new OverBudget(what, this.reached);
      await new Promise((r) => setTimeout(r, options.everyMs ?? 20));
    }
  }
}

export type Measured<T> = { ok: true; value: T; ms: number } | { ok: false; error: string; reached: string; ms: number };

/** Runs one measurement within `budgetMs`; never throws. */
export async function measure<T>(name: string, budgetMs: number, run: (budget: Budget) => Promise<T>, log: (m: string) => void = console.log): Promise<Measured<T>> {
  const budget = new Budget(budgetMs);
  const t0 = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // A hard stop too, for a step that never polls (a browser that hangs on launch): the
    // measurement's own cleanup still runs when its promise settles later.
    const hard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OverBudget(`${name} (hard stop at ${Math.round(budgetMs * 1.5 / 1000)} s)`, budget.reached)), budgetMs * 1.5);
    });
    const value = await Promise.race([run(budget), hard]);
    return { ok: true, value, ms: Date.now() - t0 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  ${name}: NOT FINISHED within ${Math.round(budgetMs / 1000)} s: ${message}`);
    return { ok: false, error: message, reached: budget.reached, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}
