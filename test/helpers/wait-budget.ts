/**
 * How long a wait for an eventual outcome may last when its caller names no limit: until just
 * before the running test's own time limit. A fixed 15 or 30 s inside a test of 60 s or more made
 * correct tests fail on a loaded 2-core machine (a hook drain, a push, a sign-in that simply took
 * longer there), while the test's limit is the one ceiling that says "this hangs". The wait ends a
 * second early so it fails with what it waited for, not with vitest's bare "Test timed out".
 * Outside a test (a set-up or tear-down, or a benchmark using the helpers), `fallbackMs`.
 */
import { TestRunner } from 'vitest';

const MARGIN_MS = 1_000;

export function waitBudgetMs(fallbackMs = 30_000): number {
  const test = TestRunner.getCurrentTest();
  const started = test?.result?.startTime;
  if (!test || started === undefined || !(test.timeout > 0)) return fallbackMs;
  return Math.max(MARGIN_MS, started + test.timeout - MARGIN_MS - Date.now());
}
