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

const SCALE_OUT = 'test/scenarios/scale-out';
const given = process.argv.slice(2);
mkdirSync('test-artifacts', { recursive: true });

/** One vitest run; its counts, read from its JSON report. */
function run(name, args) {
  const report = `test-artifacts/vitest-${name}.json`;
  rmSync(report, { force: true });
  const result = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...args], { stdio: 'inherit' });
  if (!existsSync(report)) return { code: result.status || 1, passed: 0, failed: 1, skipped: 0, total: 0 };
  const json = JSON.parse(readFileSync(report, 'utf8'));
  return { code: result.status ?? 1, passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + json.numTodoTests, total: json.numTotalTests };
}

// Arguments (a file, a filter) run as given, in one run.
const runs = given.length > 0 ? [run('given', given)] : [run('main', ['--exclude', `${SCALE_OUT}/**`]), run('scale-out', [SCALE_OUT])];
const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
const skipped = sum('skipped');
console.log(`tests: ${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(runs.some((r) => r.code !== 0) || sum('total') === 0 ? 1 : 0);
