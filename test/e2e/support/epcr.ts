import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { offsetNow } from './server.ts';

/**
 * A draft report of unit `unitId` that the server locks as soon as it is finalized: patient
 * contact made, not transported (so no destination or billing needed), one set of vitals
 * (`v1`), no history, a short narrative. Tests seed it, then type the fields they check.
 */
export function lockableDraft(unitId: string, extra: Record<string, unknown> = {}): Record<string, unknown> & { id: string } {
  const minutesAgo = (n: number) => offsetNow(new Date(Date.now() - n * 60_000));
  return {
    id: randomUUID(),
    status: 'draft',
    unitId,
    response: { incidentNumber: `2026-${Math.floor(Math.random() * 900_000 + 100_000)}`, serviceType: '2205001', unitCapability: '2207015', vehicleNumber: unitId, callSign: unitId, responseMode: '2223001' },
    dispatch: { reason: '2301019', complaint: 'chest pain' },
    times: { psapCall: minutesAgo(60), unitNotified: minutesAgo(59), unitOnScene: minutesAgo(50), backInService: minutesAgo(5) },
    patient: { lastName: 'Reyes', firstName: 'Dana', age: 67, ageUnits: '2516009', sex: '9919001' },
    situation: { chiefComplaint: 'substernal chest pain' },
    vitals: [{ id: 'v1', takenAt: minutesAgo(45), systolic: 98, heartRate: 104 }],
    narrative: { text: 'Seeded narrative.' },
    // No Transport (4230013): a refusal (4230009) would also need its statement and signatures (issue 18).
    disposition: { unitDisposition: '4227001', transportDisposition: '4230013' },
    ...extra,
  };
}

/**
 * The autosave journal's records as the device stores them (IndexedDB `fieldsync-journal--<db>`),
 * by field key, read in the page. Reading never creates the journal (the app would then find it
 * without its store): a journal not there yet, or without its store, holds nothing.
 */
export const journalRecordsOf = (page: Page, dbName: string) => page.evaluate(async (name) => {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(`fieldsync-journal--${name}`);
    request.onupgradeneeded = () => request.transaction?.abort();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  }).catch(() => undefined);
  if (!db) return [];
  try {
    if (!db.objectStoreNames.contains('entries')) return [];
    const store = db.transaction('entries', 'readonly').objectStore('entries');
    const read = <T>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const [keys, values] = await Promise.all([read(store.getAllKeys()), read(store.getAll())]);
    return keys.map((key, i) => [String(key), values[i] as Record<string, unknown>] as const);
  } finally {
    db.close();
  }
}, dbName);

/** The open report's database name (the journal and the local database are per database). */
export const dbNameOf = (page: Page) => page.evaluate(() => (window as unknown as { fieldsync: { db: { dbName: string } } }).fieldsync.db.dbName);

/**
 * The processes of the Chromium running `profileDir`: the browser (the one started with that
 * profile) and every process below it (zygotes, renderers, utilities), browser first.
 */
export async function chromiumPids(profileDir: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const parents = new Map<number, number>();
  const browsers: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const pid = Number(entry);
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline.includes(`--user-data-dir=${profileDir}`) && !cmdline.some((arg) => arg.startsWith('--type='))) browsers.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  const out = [...browsers];
  for (let i = 0; i < out.length; i++) for (const [pid, parent] of parents) if (parent === out[i] && !out.includes(pid)) out.push(pid);
  return out;
}
