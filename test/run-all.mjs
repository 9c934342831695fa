// Runs the whole suite and ends with one plain summary line ("tests: N passed, N failed"),
// which CI reads; the exit code is vitest's.
//
// Two runs: everything else, then the scale-out scenarios alone. Those run several server
// processes on PostgreSQL whose write transactions stay open while a loaded machine's event loop
// is busy, and on PostgreSQL every reader answers only below the oldest write transaction open on
// the whole database (docs/protocol.md §23): run beside the other PostgreSQL tests, they held those
// tests' freshly written documents back from their pulls.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const SCALE_OUT = 'test/scenarios/scale-out';
const given = process.argv.slice(2);
mkdirSync('test-artifacts', { recursive: true });

/** One vitest run; its counts, read from its JSON report. */
function run(name, args) {
  const report = `test-artifacts/vitest-${name}.json`;
  rmSync(report, { force: true });
  const result = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...args], { stdio: 'inherit' });
  if (!existsSync(report)) return { code: result.status || 1, passed: 0, failed: 1, skipped: 0, total: 0, flaky: [] };
  const json = JSON.parse(readFileSync(report, 'utf8'));
  // Passed, but only on the retry: named, never hidden (each is a defect to find).
  const flaky = json.testResults.flatMap((file) => file.assertionResults
    .filter((t) => t.status === 'passed' && (t.meta?.failedAttempts ?? 0) > 0)
    .map((t) => `${path.relative(process.cwd(), file.name)} > ${t.fullName}`));
  return { code: result.status ?? 1, passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + json.numTodoTests, total: json.numTotalTests, flaky };
}

// Arguments (a file, a filter) run as given, in one run.
// The whole suite retries a failed test once: on a loaded 2-core machine a browser test can fail
// once for reasons no run here reproduced. A test that passes only on its retry is named below
// and counted as flaky in the summary line; one that fails twice fails the run.
const whole = ['--retry=1'];
const runs = given.length > 0 ? [run('given', given)] : [run('main', [...whole, '--exclude', `${SCALE_OUT}/**`]), run('scale-out', [...whole, SCALE_OUT])];
const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
const skipped = sum('skipped');
const flaky = runs.flatMap((r) => r.flaky);
for (const name of flaky) console.log(`flaky (failed once, passed on its retry): ${name}`);
console.log(`tests: ${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}${flaky.length ? `, ${flaky.length} flaky` : ''}`);
process.exit(runs.some((r) => r.code !== 0) || sum('total') === 0 ? 1 : 0);
