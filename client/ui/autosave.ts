/**
 * Every keystroke is kept: first in a journal in localStorage (survives a crash or a reload
 * mid-word), then, debounced, written to the database through the worker. A journal entry is
 * dropped once the worker has stored that exact value. Text that does not fit the schema yet
 * (e.g. "12a" in a number field) stays in the journal as a draft with a hint, and is written
 * once it is valid.
 *
 * The journal holds what people type into patient care reports, so it is sealed: each entry's
 * text and value are AES-GCM encrypted under a key derived from the database key
 * (device-keys.ts), which exists only in memory while the app is unlocked. Readable in
 * localStorage are only where an entry belongs (collection, document id, field path), whether
 * it is valid, when and from which tab. WebCrypto cannot encrypt synchronously: the page keeps
 * the newest entries in memory (where the screen has them anyway) and stores each one as soon
 * as it is sealed, a fraction of a millisecond later. A crash inside that window loses that one
 * keystroke, never an earlier one; an entry is never stored in clear.
 */
import type { CollectionName } from '../../shared/schemas/index.ts';
import { fromBase64url, toBase64url } from '../../shared/crypto/base64url.ts';
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

/** An entry as localStorage holds it: `raw` and `value` sealed. */
interface StoredEntry extends Omit<JournalEntry, 'raw' | 'value'> {
  sealed: { iv: string; ct: string };
}

/** This page load. */
const TAB = Math.random().toString(36).slice(2, 10);

const DEBOUNCE_MS = 350;
const timers = new Map<string, ReturnType<typeof setTimeout>>();
const listeners = new Set<() => void>();
/** The journal of the open database, readable: this tab's entries, and other tabs' once opened. */
const entries = new Map<string, JournalEntry>();
/** localStorage changes, one after another, so a slower seal never lands after a newer one. */
let stores: Promise<void> = Promise.resolve();
/** Locked since the last load: this tab's own stored drafts must be read back too. */
let forgotten = false;

const journalKey = () => `fieldsync.journal.${database().dbName}`;
export const fieldKey = (collection: string, id: string, path: Path) => `${collection}|${id}|${JSON.stringify(path)}`;

function readStored(): Record<string, StoredEntry | JournalEntry> {
  try {
    return JSON.parse(localStorage.getItem(journalKey()) ?? '{}') as Record<string, StoredEntry | JournalEntry>;
  } catch {
    return {};
  }
}

function changeStored(change: (journal: Record<string, StoredEntry | JournalEntry>) => boolean): void {
  const journal = readStored();
  if (change(journal)) localStorage.setItem(journalKey(), JSON.stringify(journal));
}

function notify(): void {
  for (const listener of listeners) listener();
}

const additionalData = (dbName: string, key: string, at: number) => new TextEncoder().encode(`fieldsync-journal/v1|${dbName}|${key}|${at}`);

async function seal(key: string, entry: JournalEntry): Promise<StoredEntry> {
  const { raw, value, ...about } = entry;
  const { dbName, journalKey: cryptoKey } = database();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(value === undefined ? { raw } : { raw, value }));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(dbName, key, entry.at) }, cryptoKey, plain));
  return { ...about, sealed: { iv: toBase64url(iv), ct: toBase64url(ct) } };
}

async function open(key: string, stored: StoredEntry | JournalEntry): Promise<JournalEntry | undefined> {
  // Written in clear by an earlier version of the app: read it (it is sealed again, or flushed, right after).
  if (!('sealed' in stored)) return stored;
  const { sealed, ...about } = stored;
  const { dbName, journalKey: cryptoKey } = database();
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(sealed.iv), additionalData: additionalData(dbName, key, stored.at) }, cryptoKey, fromBase64url(sealed.ct),
    );
    const { raw, value } = JSON.parse(new TextDecoder().decode(plain)) as { raw: string; value?: unknown };
    return { ...about, raw, ...(value === undefined ? {} : { value }) };
  } catch {
    return undefined; // sealed under another key (the data was erased since): nothing to replay
  }
}

/** Stores `entry` sealed, unless a newer keystroke or a completed write replaced it meanwhile. */
function store(key: string, entry: JournalEntry): void {
  stores = stores.then(async () => {
    const sealed = await seal(key, entry);
    if (entries.get(key) !== entry) return;
    changeStored((journal) => {
      journal[key] = sealed;
      return true;
    });
  }).catch((error: unknown) => console.warn('fieldsync: could not keep an edit in the journal; it is still in this page', error));
}

function unstore(key: string, at: number): void {
  stores = stores.then(() => changeStored((journal) => {
    if (journal[key]?.at !== at) return false;
    delete journal[key];
    return true;
  }));
}

export function journalEntry(collection: string, id: string, path: Path, onlyMine = false): JournalEntry | undefined {
  const entry = entries.get(fieldKey(collection, id, path));
  return entry && (!onlyMine || entry.tab === TAB) ? entry : undefined;
}

/** Number of edits not yet in the database (normally 0 within half a second). */
export function unsavedEdits(): number {
  return [...entries.values()].filter((e) => e.valid).length;
}

export function onJournalChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function saveField(entry: Omit<JournalEntry, 'at' | 'tab'>): void {
  const key = fieldKey(entry.collection, entry.id, entry.path);
  const full: JournalEntry = { ...entry, at: Date.now(), tab: TAB };
  entries.set(key, full);
  store(key, full);
  notify();
  clearTimeout(timers.get(key));
  if (entry.valid) timers.set(key, setTimeout(() => void flush(key), DEBOUNCE_MS));
}

async function flush(key: string): Promise<void> {
  timers.delete(key);
  const entry = entries.get(key);
  if (!entry || !entry.valid) return;
  try {
    await write.mutate(entry.collection, entry.id, [
      entry.value === undefined ? { op: 'unset', path: entry.path } : { op: 'set', path: entry.path, value: entry.value },
    ]);
  } catch (error) {
    console.warn('fieldsync: could not save a field yet; it stays in the journal', error);
    return;
  }
  if (entries.get(key)?.at === entry.at) {
    entries.delete(key);
    unstore(key, entry.at);
    notify();
  }
}

/** Writes everything typed so far now (page hidden or closing, a button that leaves the form, locking). */
export async function flushAll(): Promise<void> {
  const keys = [...entries.keys()];
  for (const key of keys) clearTimeout(timers.get(key));
  await Promise.all(keys.map((key) => flush(key)));
  await stores;
}

/** Reads the stored journal into this page (what other tabs typed, or an earlier page load left). */
async function loadJournal(): Promise<void> {
  const stored = readStored();
  const ownToo = forgotten;
  forgotten = false;
  let changed = false;
  for (const [key, value] of Object.entries(stored)) {
    const known = entries.get(key);
    // This tab's entries are current in memory (a stored one may be about to be removed).
    if (known?.tab === TAB || known?.at === value.at || (value.tab === TAB && !ownToo)) continue;
    const entry = await open(key, value);
    if (!entry) continue;
    entries.set(key, entry);
    changed = true;
    // An entry an earlier version left in clear is sealed now.
    if (!('sealed' in value)) store(key, entry);
  }
  for (const [key, entry] of entries) {
    if (entry.tab !== TAB && !(key in stored)) {
      entries.delete(key);
      changed = true;
    }
  }
  if (changed) notify();
}

/** After a crash, a reload or unlocking: the edits the database did not get yet. */
export async function replayJournal(): Promise<number> {
  await loadJournal();
  const waiting = [...entries.values()].filter((e) => e.valid).length;
  await flushAll();
  return waiting;
}

/** Locking: what was typed leaves this page's memory (it stays sealed in the journal). */
export function forgetJournal(): void {
  for (const timer of timers.values()) clearTimeout(timer);
  timers.clear();
  entries.clear();
  forgotten = true;
  notify();
}

addEventListener('pagehide', () => void flushAll());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void flushAll();
});
// Another tab of the same data typed something (its field shows it too, as before).
addEventListener('storage', (event: StorageEvent) => {
  let key: string;
  try {
    key = journalKey();
  } catch {
    return; // locked: nothing to read it with
  }
  if (event.key === key) void loadJournal().catch(() => undefined);
});
