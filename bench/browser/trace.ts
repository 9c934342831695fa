/**
 * Chromium's performance trace for bench:browser (issue #21: "where a target is missed, the
 * closing note says what limits it, with a profile"). Records a trace of a persistent context's
 * browser with the V8 sampling profiler on every thread of the renderer (the page's main thread,
 * the database worker, the service worker), and reads the top functions by self time per thread.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';

/**
 * BENCH_TRACE_CATEGORIES (comma-separated) replaces them: the IndexedDB category alone costs a
 * trace event per request, which, on a first sync's 24,000 puts, tripled the put loop's time.
 */
export const TRACE_CATEGORIES = process.env['BENCH_TRACE_CATEGORIES']?.split(',') ?? ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler', 'v8.execute', 'blink.user_timing', 'IndexedDB'];

export async function startTrace(ctx: BrowserContext, page: Page, file: string): Promise<() => Promise<void>> {
  const browser = ctx.browser();
  if (!browser) throw new Error('no browser to trace');
  await browser.startTracing(page, { path: file, categories: TRACE_CATEGORIES });
  return async () => {
    await browser.stopTracing();
  };
}

interface TraceEvent { ph: string; name: string; pid: number; tid: number; id?: string; args?: { name?: string; data?: { cpuProfile?: { nodes?: { id: number; callFrame: { functionName: string; url: string; lineNumber?: number }; parent?: number }[]; samples?: number[] }; timeDeltas?: number[] } } }

export interface ThreadProfile { thread: string; totalMs: number; top: { fn: string; selfMs: number }[] }

/** Self time per function (name and file), per thread that was sampled, the busiest threads first. */
export function topFunctions(file: string, limit = 12): ThreadProfile[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[] | { traceEvents: TraceEvent[] };
  const events = Array.isArray(raw) ? raw : raw.traceEvents;
  const threadNames = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
  // A profile's chunks share its id; the thread is the one that emitted its 'Profile' event.
  const profileThread = new Map<string, string>();
  for (const e of events) if (e.name === 'Profile' && e.id) profileThread.set(`${e.pid}:${e.id}`, `${e.pid}:${e.tid}`);
  const perThread = new Map<string, { nodes: Map<number, string>; self: Map<string, number>; total: number }>();
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || !e.id) continue;
    const thread = profileThread.get(`${e.pid}:${e.id}`) ?? `${e.pid}:${e.tid}`;
    let t = perThread.get(thread);
    if (!t) perThread.set(thread, (t = { nodes: new Map(), self: new Map(), total: 0 }));
    const data = e.args?.data;
    for (const n of data?.cpuProfile?.nodes ?? []) {
      const where = n.callFrame.url ? `${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber ?? 0}` : '';
      t.nodes.set(n.id, `${n.callFrame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`);
    }
    const samples = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const name = t.nodes.get(samples[i]!) ?? '?';
      if (name.startsWith('(idle)') || name.startsWith('(program)')) continue;
      const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
      t.self.set(name, (t.self.get(name) ?? 0) + ms);
      t.total += ms;
    }
  }
  return [...perThread.entries()]
    .map(([thread, t]) => ({
      thread: threadNames.get(thread) ?? thread,
      totalMs: Math.round(t.total),
      top: [...t.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([fn, selfMs]) => ({ fn, selfMs: Math.round(selfMs) })),
    }))
    .filter((t) => t.totalMs > 0)
    .sort((a, b) => b.totalMs - a.totalMs);
}

interface RawEvent { ph: string; name: string; cat?: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; id?: string; args?: { name?: string; data?: Record<string, unknown> & { cpuProfile?: { nodes?: { id: number; callFrame: { functionName: string; url: string; lineNumber?: number; columnNumber?: number }; parent?: number }[]; samples?: number[] }; timeDeltas?: number[]; startTime?: number } } }

export interface LongTask {
  /** Since the trace's first task on the page's main thread. */
  atMs: number;
  ms: number;
  /** Thread CPU time of the task. */
  cpuMs: number;
  /** What started it: the event dispatched, the timer, the message… */
  what: string;
  /** Milliseconds per kind of work inside it (script, style, layout, paint, gc). */
  kinds: Record<string, number>;
  /** Sampled self time per function (source-mapped when `mapSource` can). */
  self: { fn: string; ms: number }[];
  /** Sampled time per function of the app anywhere on the stack (the app's callers of the work). */
  inclusive: { fn: string; ms: number }[];
}

const KIND_OF: Record<string, string> = {
  FunctionCall: 'script', EventDispatch: 'script', TimerFire: 'script', FireAnimationFrame: 'script', RunMicrotasks: 'script', 'v8.callFunction': 'script', EvaluateScript: 'script', 'v8.compile': 'script', V8Execute: 'script',
  UpdateLayoutTree: 'style', RecalculateStyles: 'style', Layout: 'layout', PrePaint: 'paint', Paint: 'paint', Layerize: 'paint', Commit: 'paint', UpdateLayer: 'paint', CompositeLayers: 'paint',
  MajorGC: 'gc', MinorGC: 'gc', 'V8.GC_SCAVENGER': 'gc', BlinkGC: 'gc', ParseHTML: 'parse', ParseAuthorStyleSheet: 'parse',
};

/**
 * Every task over `thresholdMs` on the main thread of the page whose renderer runs the database
 * worker (`workerUrlPart`), with what started it, the kinds of work in it and the functions
 * sampled in it: which message from the worker, which render.
 * `mapSource(url, line, column)` names a minified frame (source maps of the build).
 */
export function longTasks(file: string, options: { thresholdMs?: number; workerUrlPart?: string; mapSource?: (url: string, line: number, column: number) => string | undefined } = {}): LongTask[] {
  const threshold = (options.thresholdMs ?? 50) * 1000;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawEvent[] | { traceEvents: RawEvent[] };
  const events = Array.isArray(raw) ? raw : raw.traceEvents;
  const threadNames = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
  // The page's renderer: the one whose dedicated worker ran the most samples (the database worker).
  const profileThread = new Map<string, string>();
  const profileStart = new Map<string, number>();
  for (const e of events) if (e.name === 'Profile' && e.id) {
    profileThread.set(`${e.pid}:${e.id}`, `${e.pid}:${e.tid}`);
    profileStart.set(`${e.pid}:${e.id}`, Number(e.args?.data?.startTime ?? e.ts));
  }
  const workerSamples = new Map<number, number>();
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || !e.id) continue;
    const thread = profileThread.get(`${e.pid}:${e.id}`) ?? `${e.pid}:${e.tid}`;
    if ((threadNames.get(thread) ?? '').startsWith('DedicatedWorker')) workerSamples.set(e.pid, (workerSamples.get(e.pid) ?? 0) + (e.args?.data?.cpuProfile?.samples?.length ?? 0));
  }
  const pid = [...workerSamples.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (pid === undefined) return [];
  const mainKey = [...threadNames.entries()].find(([k, name]) => name === 'CrRendererMain' && k.startsWith(`${pid}:`))?.[0];
  if (!mainKey) return [];
  const tid = Number(mainKey.split(':')[1]);
  const onMain = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && typeof e.dur === 'number');
  const tasks = onMain.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask').sort((a, b) => a.ts - b.ts);
  // Samples of the main thread with their times and stacks.
  const nodes = new Map<string, { name: string; parent?: number; app: boolean }>();
  const samples: { ts: number; node: number; profile: string }[] = [];
  const clock = new Map<string, number>();
  const name = (frame: { functionName: string; url: string; lineNumber?: number; columnNumber?: number }) => {
    const mapped = frame.url ? options.mapSource?.(frame.url, frame.lineNumber ?? 0, frame.columnNumber ?? 0) : undefined;
    return mapped ?? `${frame.functionName || '(anonymous)'}${frame.url ? ` ${frame.url.split('/').pop()}:${frame.lineNumber ?? 0}` : ''}`;
  };
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || !e.id || e.pid !== pid) continue;
    const key = `${e.pid}:${e.id}`;
    if (profileThread.get(key) !== mainKey) continue;
    const data = e.args?.data;
    for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(`${key}:${n.id}`, { name: name(n.callFrame), ...(n.parent !== undefined ? { parent: n.parent } : {}), app: /\/assets\//.test(n.callFrame.url) });
    let t = clock.get(key) ?? profileStart.get(key) ?? 0;
    const s = data?.cpuProfile?.samples ?? [];
    const d = data?.timeDeltas ?? [];
    for (let i = 0; i < s.length; i++) {
      t += d[i] ?? 0;
      samples.push({ ts: t, node: s[i]!, profile: key });
    }
    clock.set(key, t);
  }
  samples.sort((a, b) => a.ts - b.ts);
  const first = tasks[0]?.ts ?? 0;
  const out: LongTask[] = [];
  for (const task of tasks) {
    if ((task.dur ?? 0) < threshold) continue;
    const end = task.ts + task.dur!;
    const inside = onMain.filter((e) => e !== task && e.ts >= task.ts && e.ts < end);
    const kinds: Record<string, number> = {};
    // Only the outermost event of each kind counts (a FunctionCall inside an EventDispatch is not twice).
    const counted: RawEvent[] = [];
    for (const e of inside.sort((a, b) => a.ts - b.ts)) {
      const kind = KIND_OF[e.name];
      if (!kind) continue;
      if (counted.some((c) => KIND_OF[c.name] === kind && e.ts >= c.ts && e.ts + e.dur! <= c.ts + c.dur!)) continue;
      counted.push(e);
      kinds[kind] = (kinds[kind] ?? 0) + e.dur! / 1000;
    }
    const starter = inside.filter((e) => KIND_OF[e.name] === 'script').sort((a, b) => a.ts - b.ts)[0];
    const data = starter?.args?.data as { type?: string; functionName?: string; url?: string; timerId?: number } | undefined;
    const what = starter ? `${starter.name}${data?.type ? ` ${data.type}` : ''}${data?.functionName ? ` ${data.functionName}` : ''}` : (inside[0]?.name ?? 'no script');
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    let prev = task.ts;
    for (const s of samples) {
      if (s.ts < task.ts) continue;
      if (s.ts >= end) break;
      const ms = (s.ts - prev) / 1000;
      prev = s.ts;
      const leaf = nodes.get(`${s.profile}:${s.node}`);
      if (!leaf || leaf.name.startsWith('(idle)') || leaf.name.startsWith('(program)')) continue;
      self.set(leaf.name, (self.get(leaf.name) ?? 0) + ms);
      const seen = new Set<string>();
      for (let n: typeof leaf | undefined = leaf; n; n = n.parent !== undefined ? nodes.get(`${s.profile}:${n.parent}`) : undefined) {
        if (n.app && !seen.has(n.name)) {
          seen.add(n.name);
          inclusive.set(n.name, (inclusive.get(n.name) ?? 0) + ms);
        }
      }
    }
    const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([fn, ms]) => ({ fn, ms: Math.round(ms) }));
    out.push({
      atMs: Math.round((task.ts - first) / 1000), ms: Math.round(task.dur! / 1000), cpuMs: Math.round((task.tdur ?? task.dur!) / 1000), what,
      kinds: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, Math.round(v)])), self: top(self, 8), inclusive: top(inclusive, 14),
    });
  }
  return out;
}
