import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import type { BulkResult } from '../bulk.ts';
import type { FleetResult } from '../fleet.ts';
import { loadAverage } from './proc.ts';
import { median } from './stats.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** What was measured: machine, load, and exactly which code (commit plus uncommitted changes). */
export function runMeta(): Record<string, unknown> {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  return {
    at: new Date().toISOString(),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})`,
    node: process.version,
    loadAverageAtStart: loadAverage(),
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedFiles: git('status', '--porcelain').split('\n').filter(Boolean).length,
  };
}

export function fmtNum(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A plain text table; `rows` are arrays of cells, the first row is the header. */
export function printGrid(title: string, rows: string[][], notes: string[] = []): void {
  console.log(`\n${title}   (load average ${loadAverage()})`);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  rows.forEach((r, ri) => {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (ri === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  for (const n of notes) console.log(`  ${n}`);
}

/** Median, min and max of a metric over rounds, printed as "median (min–max)". */
export function spread(values: number[], digits = 0): { median: number; min: number; max: number; text: string } {
  const ok = values.filter((v) => Number.isFinite(v));
  if (ok.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, text: '–' };
  const m = median(ok);
  const min = Math.min(...ok);
  const max = Math.max(...ok);
  return { median: m, min, max, text: ok.length === 1 ? fmtNum(m, digits) : `${fmtNum(m, digits)} (${fmtNum(min, digits)}–${fmtNum(max, digits)})` };
}

export const bulkRates = (r: BulkResult) => ({ push: r.count / r.pushSeconds, pull: r.count / r.pullSeconds });

export function fleetCells(results: FleetResult[]): Record<string, string> {
  const s = (f: (r: FleetResult) => number, d = 0) => spread(results.map(f), d).text;
  return {
    e2e50: s((r) => r.e2e.p50, 1), e2e95: s((r) => r.e2e.p95, 0), e2e99: s((r) => r.e2e.p99, 0),
    ack50: s((r) => r.ack.p50, 1), ack95: s((r) => r.ack.p95, 0), rtt99: s((r) => r.pushRtt.p99, 0),
    cpu: s((r) => r.serverCpuSeconds, 2), cpuPt: s((r) => r.serverCpuMsPerPoint, 2), cpuPtCold: s((r) => r.serverCpuMsPerPointCold, 2), rss: s((r) => r.serverRssPeakMb, 0),
    delivered: s((r) => r.deliveredPct, 2), unacked: s((r) => r.unacked, 0), slip99: s((r) => r.slip.p99, 0),
  };
}
