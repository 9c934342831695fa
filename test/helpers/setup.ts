import { beforeEach } from 'vitest';
import { describeAll } from './diagnostics.ts';

// RxDB's open-core storage prints a notice on first use; it says nothing about the test.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('RxDB Open Core')) return;
  warn(...args);
};

// A failed test prints where its servers and pages stood (test/helpers/diagnostics.ts).
beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    const text = await describeAll();
    if (!text) return;
    // In the error itself: the summary of failures at the end of a long run is what CI shows.
    const error = task.result?.errors?.[0];
    const report = `[where things stood when the test failed]\n${text.slice(0, 8000)}`;
    if (error) error.message = `${error.message}\n${report}`;
    else console.log(report);
  });
});
