/**
 * Every keystroke is kept: first synchronously in a journal in localStorage (survives a crash or
 * a reload mid-word), then, debounced, written to the database through the worker. A journal
 * entry is dropped once the worker has stored that exact value. Text that does not fit the
 * schema yet (e.g. "12a" in a number field) stays in the journal as a draft with a hint, and is
 * written once it is valid.
 */
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { Path } from '../worker/api.ts';
import { database, write } from './db.ts';

export interface JournalEntry {
  collection: CollectionName;
  id: string;
  path: Path;
  /** What the person typed. */
  raw: string;
  /** The value to store (`undefined`: clear the field). */
  value?: unknown;
  valid: boolean;
  at: number;
  /** The page that typed it: another tab's unsaved edit must not freeze this tab's field. */
  tab: string;
}

/** This page load. */
const TAB = Math.random().toString(36).slice(2, 10);

const DEBOUNCE_MS = 350;
const timers = new Map<string, ReturnType<typeof setTimeout>>();
const listeners = new Set<() => void>();

const journalKey = () => `fieldsync.journal.${database().dbName}`;
export const fieldKey = (collection: string, id: string, path: Path) => `${collection}|${id}|${JSON.stringify(path)}`;

function readJournal(): Record<string, JournalEntry> {
  try {
    return JSON.parse(localStorage.getItem(journalKey()) ?? '{}') as Record<string, JournalEntry>;
  } catch {
    return {};
  }
}

function writeJournal(journal: Record<string, JournalEntry>): void {
  localStorage.setItem(journalKey(), JSON.stringify(journal));
  for (const listener of listeners) listener();
}

export function journalEntry(collection: string, id: string, path: Path, onlyMine = false): JournalEntry | undefined {
  const entry = readJournal()[fieldKey(collection, id, path)];
  return entry && (!onlyMine || entry.tab === TAB) ? entry : undefined;
}

/** Number of edits not yet in the database (normally 0 within half a second). */
export function unsavedEdits(): number {
  return Object.values(readJournal()).filter((e) => e.valid).length;
}

export function onJournalChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function saveField(entry: Omit<JournalEntry, 'at' | 'tab'>): void {
  const key = fieldKey(entry.collection, entry.id, entry.path);
  const journal = readJournal();
  journal[key] = { ...entry, at: Date.now(), tab: TAB };
  writeJournal(journal);
  clearTimeout(timers.get(key));
  if (entry.valid) timers.set(key, setTimeout(() => void flush(key), DEBOUNCE_MS));
}

async function flush(key: string): Promise<void> {
  timers.delete(key);
  const entry = readJournal()[key];
  if (!entry || !entry.valid) return;
  try {
    await write.mutate(entry.collection, entry.id, [
      entry.value === undefined ? { op: 'unset', path: entry.path } : { op: 'set', path: entry.path, value: entry.value },
    ]);
  } catch (error) {
    console.warn('fieldsync: could not save a field yet; it stays in the journal', error);
    return;
  }
  const journal = readJournal();
  if (journal[key]?.at === entry.at) {
    delete journal[key];
    writeJournal(journal);
  }
}

/** Writes everything typed so far now (page hidden or closing, a button that leaves the form). */
export async function flushAll(): Promise<void> {
  const keys = Object.keys(readJournal());
  for (const key of keys) clearTimeout(timers.get(key));
  await Promise.all(keys.map((key) => flush(key)));
}

/** After a crash or reload: the edits the database did not get yet. */
export async function replayJournal(): Promise<number> {
  const entries = Object.values(readJournal()).filter((e) => e.valid);
  await flushAll();
  return entries.length;
}

addEventListener('pagehide', () => void flushAll());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void flushAll();
});
