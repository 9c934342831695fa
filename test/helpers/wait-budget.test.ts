// The default wait of the test helpers (eventually, waitFor, settled, settle) lasts as long as the
// test it runs in may, less a second to fail with what it waited for.
import { describe, expect, it } from 'vitest';
import { eventually } from './device.ts';
import { waitBudgetMs } from './wait-budget.ts';

const outside = waitBudgetMs(12_345);

describe('the wait budget of the test helpers', () => {
  it('is the test\'s own time limit less a second', () => {
    const budget = waitBudgetMs();
    expect(budget).toBeLessThanOrEqual(89_000);
    expect(budget).toBeGreaterThan(80_000);
  }, 90_000);

  it('shrinks as the test runs, and is the fallback outside a test', async () => {
    const first = waitBudgetMs();
    // The wait as the budget's own clock (Date.now) saw it: a 200-ms timer may end 199 ms later
    // by that clock (it failed once in CI, by 1 ms).
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waited = Date.now() - from;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waitBudgetMs()).toBeLessThanOrEqual(first - waited);
    expect(outside).toBe(12_345);
  }, 5_000);

  it('makes eventually fail with what it waited for before the test times out', async () => {
    await expect(eventually('a condition that never holds', () => false)).rejects.toThrow('timed out waiting for a condition that never holds');
  }, 3_000);
});
