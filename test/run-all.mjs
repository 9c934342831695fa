// Runs the whole suite and ends with one plain summary line ("tests: N passed, N failed"),
// which CI reads; the exit code is vitest's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync('test-artifacts', { recursive: true });
const report = 'test-artifacts/vitest.json';
const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let code = run.status ?? 1;
if (existsSync(report)) {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = result.numPendingTests + result.numTodoTests;
  console.log(`tests: ${result.numPassedTests} passed, ${result.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (result.numTotalTests === 0) code = 1;
} else {
  console.log('tests: 0 passed, 1 failed');
  code = code || 1;
}
process.exit(code);
