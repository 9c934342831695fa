import { beforeEach } from 'vitest';
import { describeAll } from './diagnostics.ts';

// RxDB's open-core storage prints a notice on first use; it says nothing about the test.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('RxDB Open Core')) return;
  warn(...args);
};

declare module 'vitest' {
  interface TaskMeta {
    /** Attempts of this test that failed (the whole-suite run retries a failed test once: test/run-all.mjs names it). */
    failedAttempts?: number;
  }
}

// A failed test prints where its servers and pages stood (test/helpers/diagnostics.ts).
beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    task.meta.failedAttempts = (task.meta.failedAttempts ?? 0) + 1;
    const text = await describeAll();
    if (!text) return;
    // In the error itself: the summary of failures at the end of a long run is what CI shows.
    const error = task.result?.errors?.[0];
    const report = `[where things stood when the test failed]\n${text.slice(0, 8000)}`;
    if (error) error.message = `${error.message}\n${report}`;
    else console.log(report);
  });
});
