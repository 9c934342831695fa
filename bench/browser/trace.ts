/**
 * Chromium's performance trace for bench:browser (issue #21: "where a target is missed, the
 * closing note says what limits it, with a profile"). Records a trace of a persistent context's
 * browser with the V8 sampling profiler on every thread of the renderer (the page's main thread,
 * the database worker, the service worker), and reads the top functions by self time per thread.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';

export const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler', 'v8.execute'];

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
