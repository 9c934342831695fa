/**
 * `npm run bench:browser -- --only=idb-layout`: what IndexedDB alone costs a new tablet's first
 * sync, by table layout, in headless Chromium on disk (a fresh persistent profile per run), no
 * sync library and no app: the slice's 20,000 GPS points (4 transactions of 5,000) and 2,000
 * ePCRs (one transaction, their PHI one sealed string as the device stores it) written into
 * their own databases at once, and the replication's 2,000 server-state copies of the ePCRs after
 * them, each document in the shape RxDB stores (`_deleted` '0', `_rev`, `_meta`).
 *
 * Layouts, measured in turn (every other round in the opposite order), the median of the rounds:
 * - `rxdb`: RxDB's Dexie storage's tables (`[_deleted+id]`, `[_meta.lwt+id]`, `_meta.lwt`): the baseline;
 * - `fieldsync`: ours (client/sync/dexie-storage.ts: without `_meta.lwt`);
 * - `no-copies`: ours without the server-state copies (what keeping them costs);
 * - `no-index`: one object store, no index (the plain-fetch ceiling's layout).
 * The figure bounds the first sync from below: the app's own work runs beside it.
 */
import { loadavg } from 'node:os';
import http from 'node:http';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir } from '../../test/e2e/support/browser.ts';
import { measure } from '../lib/budget.ts';
import { median } from '../lib/stats.ts';

export const IDB_LAYOUTS = ['rxdb', 'fieldsync', 'no-copies', 'no-index'] as const;
export type IdbLayout = typeof IDB_LAYOUTS[number];

/** `failedRounds`: rounds that did not finish in their budget (reported, not counted). */
export interface IdbLayoutRun { layout: IdbLayout; medianMs: number; samplesMs: number[]; failedRounds: number }

/** One round of one layout; a slow machine's round is reported as unfinished, and the rest go on. */
const ROUND_BUDGET_MS = 120_000;

/** Runs in the page: writes the slice in `layout`, returns the milliseconds until every transaction committed. */
async function writeSlice(layout: IdbLayout): Promise<number> {
  const hash = Array.from({ length: 64 }, (_, i) => 'abcdef0123456789'[(i * 7) % 16]).join('');
  const indexes: [string, string | string[]][] = layout === 'no-index' ? []
    : layout === 'rxdb' ? [['[_deleted+id]', ['_deleted', 'id']], ['[_meta.lwt+id]', ['_meta.lwt', 'id']], ['_meta.lwt', '_meta.lwt']]
      : [['[_deleted+id]', ['_deleted', 'id']], ['[_meta.lwt+id]', ['_meta.lwt', 'id']]];
  const open = (name: string) => new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, 10);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore('docs', { keyPath: 'id' });
      for (const [index, keyPath] of indexes) store.createIndex(index, keyPath);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const put = (db: IDBDatabase, docs: object[]) => new Promise<void>((resolve, reject) => {
    const tx = db.transaction('docs', 'readwrite');
    const store = tx.objectStore('docs');
    for (const doc of docs) store.put(doc);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  const base64 = (n: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
  const sealed = `fs1:${base64(1900)}`;
  const stored = { _deleted: '0', _attachments: {}, _rev: `1-${hash}` };
  const gps = () => ({
    id: crypto.randomUUID(), tenantId: 'demo', rev: '1-bench1', sourceType: 'unit', sourceId: 'B1', lat: 40.01, lng: -75.02,
    accuracyM: 5, speedMps: 12.5, heading: 90, recordedAt: '2026-11-22T10:00:00-05:00', ...stored, _meta: { lwt: 0.01, o: { _rev: 1, hash } },
  });
  const epcr = () => ({
    id: crypto.randomUUID(), tenantId: 'demo', rev: '1-bench1', status: 'locked', unitId: 'B1',
    response: { incidentNumber: 'INC-1', vehicleNumber: '12', callSign: 'Medic 12', responseMode: '2223001' },
    times: { unitNotified: 't', unitEnRoute: 't', unitOnScene: 't', atPatient: 't' },
    patient: sealed, ...stored, _meta: { lwt: 0.01, o: { _rev: 1, hash }, fsSealed: 1 },
  });
  const t0 = performance.now();
  const [points, reports, copies] = await Promise.all(['gps', 'epcrs', 'copies'].map(open));
  const epcrs = Array.from({ length: 2000 }, epcr);
  await Promise.all([
    (async () => {
      for (let page = 0; page < 4; page++) await put(points!, Array.from({ length: 5000 }, gps));
    })(),
    (async () => {
      await put(reports!, epcrs);
      if (layout !== 'no-copies') {
        await put(copies!, epcrs.map((d) => ({ id: `${d.id}|0`, isCheckpoint: '0', itemId: d.id, docData: `${sealed}${base64(300)}`, ...stored, _meta: { lwt: Date.now() } })));
      }
    })(),
  ]);
  return performance.now() - t0;
}

export async function idbLayoutBenchmark(options: { rounds: number; log: (m: string) => void }): Promise<IdbLayoutRun[]> {
  // A page of our own origin on 127.0.0.1 (IndexedDB needs one; nothing else is served).
  const server = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>idb</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const samples = new Map<IdbLayout, number[]>();
  const failed = new Map<IdbLayout, number>();
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const layout of round % 2 === 0 ? IDB_LAYOUTS : [...IDB_LAYOUTS].reverse()) {
        const what = `IndexedDB layout ${layout} (round ${round + 1} of ${options.rounds})`;
        // A round over its budget is left running by `measure`: what it finds later is not a sample.
        let counted = true;
        const outcome = await measure(what, ROUND_BUDGET_MS, async (budget) => {
          const profile = await newProfileDir();
          const ctx = await launchDevice(profile);
          try {
            budget.reached = 'browser started';
            const page = ctx.pages()[0] ?? await ctx.newPage();
            // tsx names the functions inside writeSlice with a helper of its own (`__name`), which
            // the page does not have: an identity stands in for it.
            await page.addInitScript('globalThis.__name = (fn) => fn;');
            await page.goto(origin);
            budget.reached = 'writing';
            const ms = await page.evaluate(writeSlice, layout);
            if (!counted) return;
            samples.set(layout, [...samples.get(layout) ?? [], Math.round(ms)]);
            options.log(`  ${what}: ${Math.round(ms)} ms, load ${loadavg()[0]!.toFixed(2)}`);
          } finally {
            await closeDevice(ctx).catch(() => {});
            await removeProfileDir(profile);
          }
        }, options.log);
        counted = false;
        if (!outcome.ok) failed.set(layout, (failed.get(layout) ?? 0) + 1);
      }
    }
  } finally {
    server.close();
  }
  return IDB_LAYOUTS.map((layout) => {
    const ms = samples.get(layout) ?? [];
    return { layout, medianMs: ms.length > 0 ? median(ms) : NaN, samplesMs: ms, failedRounds: failed.get(layout) ?? 0 };
  });
}
