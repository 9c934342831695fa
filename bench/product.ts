import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { browserBenchmarks } from './browser.ts';
import { hookBenchmarks } from './hooks.ts';
import { printTable, type BenchFigure } from './lib/stats.ts';
import { outboxBenchmarks } from './outbox.ts';

/**
 * The product-level figures of issues #3 (hooks), #5 (apps in Chromium) and #7 (the outbound
 * queue), printed as tables and written to bench/results/product.json.
 */
export async function productBenchmarks(options: { quick: boolean; resultsDir: string }): Promise<void> {
  // Each part reports what it reached when it cannot finish; a failure of one never ends the run (issue #21).
  const part = async (title: string, run: () => Promise<BenchFigure[]>): Promise<BenchFigure[]> => {
    try {
      const figures = await run();
      printTable(title, figures);
      return figures;
    } catch (error) {
      console.log(`\n${title}: NOT FINISHED (${error instanceof Error ? error.message : String(error)}); the run goes on`);
      return [];
    }
  };
  const hooks = await part('#3 hooks: finalize to effects, outbox drain (server in this process, durable SQLite)', () => hookBenchmarks(options));
  const outbox = await part('#7 outbound queue: one offline shift, bytes on the wire', () => outboxBenchmarks(options));
  let browser: Awaited<ReturnType<typeof browserBenchmarks>> = [];
  try {
    browser = await browserBenchmarks();
    printTable('#5 apps in headless Chromium', browser);
  } catch (error) {
    console.log(`\n#5 apps in headless Chromium: skipped (${error instanceof Error ? error.message : String(error)})`);
  }
  writeFileSync(path.join(options.resultsDir, 'product.json'), JSON.stringify({ hooks, outbox, browser }, null, 2) + '\n');
}
