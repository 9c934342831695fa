import { loadavg } from 'node:os';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** The same measure for the physical limit (raw SQLite), measured in the same run. */
  baseline: number | null;
  /** ours / baseline. */
  ratio: number | null;
  note?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function figure(name: string, value: number, unit: string, baseline: number | null, note?: string): BenchFigure {
  return { name, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio: baseline ? round(value / baseline, 3) : null, ...(note ? { note } : {}) };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function printTable(title: string, figures: BenchFigure[]): void {
  console.log(`\n${title}   (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  const rows = figures.map((f) => [f.name, `${f.value} ${f.unit}`, f.baseline === null ? '' : `${f.baseline} ${f.unit}`, f.ratio === null ? '' : f.ratio.toFixed(3), f.note ?? '']);
  const head = ['measure', 'ours', 'baseline', 'ratio', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50/p95/p99/max of a sample (NaN when it is empty). */
export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { n: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1]! };
}
