import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { browserBenchmarks } from './browser.ts';
import { hookBenchmarks } from './hooks.ts';
import { printTable } from './lib/stats.ts';
import { outboxBenchmarks } from './outbox.ts';

/**
 * The product-level figures of issues #3 (hooks), #5 (apps in Chromium) and #7 (the outbound
 * queue), printed as tables and written to bench/results/product.json.
 */
export async function productBenchmarks(options: { quick: boolean; resultsDir: string }): Promise<void> {
  const hooks = await hookBenchmarks(options);
  printTable('#3 hooks: finalize to effects, outbox drain (server in this process, durable SQLite)', hooks);
  const outbox = await outboxBenchmarks(options);
  printTable('#7 outbound queue: one offline shift, bytes on the wire', outbox);
  let browser: Awaited<ReturnType<typeof browserBenchmarks>> = [];
  try {
    browser = await browserBenchmarks();
    printTable('#5 apps in headless Chromium', browser);
  } catch (error) {
    console.log(`\n#5 apps in headless Chromium: skipped (${error instanceof Error ? error.message : String(error)})`);
  }
  writeFileSync(path.join(options.resultsDir, 'product.json'), JSON.stringify({ hooks, outbox, browser }, null, 2) + '\n');
}
