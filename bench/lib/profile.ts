import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileFrame { frame: string; ms: number; pct: number }

/** Microseconds on CLOCK_MONOTONIC, the clock V8 stamps profile samples with (any process). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileWindow { fromUs: number; toUs: number }

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/').replace(/^.*\/work\/main\//, '')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/**
 * Top frames of a V8 CPU profile (`node --cpu-prof`), restricted to a time window (the measured
 * part of a run, not start-up). Self time groups by function and location; `(idle)` stays in so
 * the shares add up. Inclusive time (self + callees) is given for our own code (server/, shared/).
 * Note: V8 samples wall-clock time of the main thread, so time blocked in a synchronous call
 * (an fsync inside a better-sqlite3 COMMIT) counts against the calling frame.
 */
export function analyseProfile(file: string, window?: ProfileWindow): { totalMs: number; windowMs: number; self: ProfileFrame[]; inclusive: ProfileFrame[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const selfGrouped = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const name = frameName(node);
    selfGrouped.set(name, (selfGrouped.get(name) ?? 0) + micros);
    // Charge every distinct own-code frame on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (!/\/(server|shared)\//.test(n.callFrame.url)) continue;
      const key = frameName(n);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
    }
  }
  const list = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([frame, micros]) => ({ frame, ms: micros / 1000, pct: (100 * micros) / total }));
  return { totalMs: (profile.endTime - profile.startTime) / 1000, windowMs: total / 1000, self: list(selfGrouped), inclusive: list(inclusive) };
}

/**
 * The main thread's profile in a directory: Node writes one per thread (the tsx loader runs in a
 * thread of its own), named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is main.
 */
export function mainThreadProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f)).sort();
  return files.length ? path.join(dir, files[files.length - 1]!) : undefined;
}

export function printProfile(title: string, file: string, options: { limit?: number; window?: ProfileWindow; per?: { count: number; unit: string } } = {}): { self: ProfileFrame[]; inclusive: ProfileFrame[] } {
  const limit = options.limit ?? 20;
  const result = analyseProfile(file, options.window);
  const per = options.per;
  const perText = (ms: number) => (per ? `  ${((1000 * ms) / per.count).toFixed(0).padStart(6)} µs/${per.unit}` : '');
  console.log(`\n${title}: the server's main thread, ${(result.windowMs / 1000).toFixed(1)} s sampled${options.window ? ' in the measured window' : ''} (${file})`);
  console.log('  self time (top frames):');
  for (const f of result.self.slice(0, limit)) console.log(`  ${f.pct.toFixed(1).padStart(5)} %  ${f.ms.toFixed(0).padStart(7)} ms${perText(f.ms)}  ${f.frame}`);
  console.log('  inclusive time of our own code (server/, shared/):');
  for (const f of result.inclusive.slice(0, limit)) console.log(`  ${f.pct.toFixed(1).padStart(5)} %  ${f.ms.toFixed(0).padStart(7)} ms${perText(f.ms)}  ${f.frame}`);
  return { self: result.self.slice(0, limit), inclusive: result.inclusive.slice(0, limit) };
}
