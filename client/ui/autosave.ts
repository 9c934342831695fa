/**
 * Every keystroke is kept: first in a journal on the device, as it happens (survives a crash of
 * the tab or the browser, or a reload mid-word), then, debounced, written to the database through
 * the worker. A journal entry is dropped once the worker has stored that exact value.
 *
 * A draft that cannot be saved stays in the journal, is shown at its field with the reason and is
 * counted as not saved until the person fixes or discards it: text the form refuses (e.g. "14O"
 * in a number field), a value the database refuses (its schema), or a write that failed (tried
 * again). `invalidDrafts` lists them, so the status line never says "synced" while one exists and
 * finalizing is refused on the device (client/apps/crew/epcr-form.tsx).
 *
 * Where the journal lives: IndexedDB (journal-store.ts), one record per field, written at once
 * (not on a debounce): a killed tab or browser loses nothing the screen showed. While a write is
 * in flight the next keystrokes wait for it and go in the following transaction, newest value per
 * field. On the next open (`replayJournal`) entries are read back and written to the database.
 *
 * The journal holds what people type into patient care reports, so it is sealed: each entry's
 * text, value, label and problem are AES-GCM encrypted under a key derived from the database key
 * (device-keys.ts), which exists only in memory while the app is unlocked. Readable on the device
 * are only where an entry belongs (collection, document id, field path), whether the form
 * accepted it, when and from which tab. WebCrypto cannot encrypt synchronously: the page keeps
 * the newest entries in memory (where the screen has them anyway) and stores each one as soon as
 * it is sealed, a fraction of a millisecond later; an entry is never stored in clear.
 */
import type { CollectionName } from '../../shared/schemas/index.ts';
import { fromBase64url, toBase64url } from '../../shared/crypto/base64url.ts';
import type { Path } from '../worker/api.ts';
import { writeRefusalKind } from '../worker/write-errors.ts';
import { database, write } from './db.ts';
import { readJournal, readJournalKeys, writeJournal } from '../session/journal-store.ts';

export interface JournalEntry {
  collection: CollectionName;
  id: string;
  path: Path;
  /** What the person typed. */
  raw: string;
  /** The value to store (`undefined`: clear the field). */
  value?: unknown;
  /** The form accepted `raw` (false: `problem` says why). */
  valid: boolean;
  /** Why this draft is not saved, in words for the person (the form's message, the database's refusal, a failed write). */
  problem?: string;
  /** The database refused the value: it is not tried again until the person changes it. */
  refused?: boolean;
  /** The field's label, to name it in the status line and where finalizing is refused. */
  label?: string;
  at: number;
  /** The page that typed it: another tab's unsaved edit must not freeze this tab's field. */
  tab: string;
}

/** What the sealed part holds. */
interface Secret { raw: string; value?: unknown; problem?: string; label?: string }

/** An entry as the device stores it: its text, value, label and problem sealed. */
interface StoredEntry extends Omit<JournalEntry, keyof Secret> {
  sealed: { iv: string; ct: string };
}

/** This page load. */
const TAB = Math.random().toString(36).slice(2, 10);

const DEBOUNCE_MS = 350;
/** A write that failed for another reason than the value (e.g. the report is not on this device yet) is tried again. */
const RETRY_MS = 5000;
const timers = new Map<string, ReturnType<typeof setTimeout>>();
/**
 * Who hears of journal changes: every change (the status line counts all drafts), a document's
 * (its form, its finalize button) or one field's. A keystroke is heard only by its field, its
 * document and the status line: calling every field's listener of an open ePCR (hundreds) on each
 * key was a fifth of the key's handler on a tablet during a first sync.
 */
const everyChange = new Set<() => void>();
const byDocument = new Map<string, Set<() => void>>();
const byField = new Map<string, Set<() => void>>();
/** The journal of the open database, readable: this tab's entries, and other tabs' once opened. */
const entries = new Map<string, JournalEntry>();
/** Locked since the last load: this tab's own stored drafts must be read back too. */
let forgotten = false;
let lastAt = 0;
/** The last replay (after a crash, a reload, unlocking): finalizing waits for it. */
let replaying: Promise<unknown> = Promise.resolve();

const legacyKey = (dbName: string) => `fieldsync.journal.${dbName}`;
export const fieldKey = (collection: string, id: string, path: Path) => `${collection}|${id}|${JSON.stringify(path)}`;

const documentKey = (collection: string, id: string) => `${collection}|${id}`;

/** What changed: fields (their entries, or where they were), or everything (`'all'`: the journal was forgotten). */
type Changed = 'all' | readonly Pick<JournalEntry, 'collection' | 'id' | 'path'>[];

function notify(changed: Changed): void {
  // Collected first: a listener may subscribe or unsubscribe others (a form re-rendering).
  const called = new Set<() => void>(everyChange);
  if (changed === 'all') {
    for (const set of [...byDocument.values(), ...byField.values()]) for (const listener of set) called.add(listener);
  } else {
    for (const { collection, id, path } of changed) {
      for (const listener of byDocument.get(documentKey(collection, id)) ?? []) called.add(listener);
      for (const listener of byField.get(fieldKey(collection, id, path)) ?? []) called.add(listener);
    }
  }
  for (const listener of called) listener();
}

function subscribe(map: Map<string, Set<() => void>>, key: string, listener: () => void): () => void {
  const set = map.get(key) ?? new Set();
  set.add(listener);
  map.set(key, set);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}

const additionalData = (dbName: string, key: string, at: number) => new TextEncoder().encode(`fieldsync-journal/v1|${dbName}|${key}|${at}`);

async function seal(dbName: string, cryptoKey: CryptoKey, key: string, entry: JournalEntry): Promise<StoredEntry> {
  const { raw, value, problem, label, ...about } = entry;
  const secret: Secret = { raw, ...(value === undefined ? {} : { value }), ...(problem === undefined ? {} : { problem }), ...(label === undefined ? {} : { label }) };
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(secret));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(dbName, key, entry.at) }, cryptoKey, plain));
  return { ...about, sealed: { iv: toBase64url(iv), ct: toBase64url(ct) } };
}

async function open(key: string, stored: StoredEntry | JournalEntry): Promise<JournalEntry | undefined> {
  // Written in clear by an earlier version of the app: read it (loadJournal stores it sealed again).
  if (!('sealed' in stored)) return stored;
  const { sealed, ...about } = stored;
  const { dbName, journalKey: cryptoKey } = database();
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(sealed.iv), additionalData: additionalData(dbName, key, stored.at) }, cryptoKey, fromBase64url(sealed.ct),
    );
    const secret = JSON.parse(new TextDecoder().decode(plain)) as Secret;
    return { ...about, ...secret };
  } catch {
    return undefined; // sealed under another key (the data was erased since): nothing to replay
  }
}

// ---- storing, in order ---------------------------------------------------------------------------

/** Entries to store and entries to remove (typed at or before), waiting for the transaction in flight. */
const toStore = new Map<string, JournalEntry>();
const toRemove = new Map<string, number>();
let writing = false;
let written: Promise<void> = Promise.resolve();
/** The newest time stored per field by this tab (to tell "removed elsewhere" from "not stored yet"). */
const storedAt = new Map<string, number>();
let channel: { dbName: string; port: BroadcastChannel } | undefined;

/** What a tab tells the others after each journal write: the fields it stored or removed, with the time typed. */
interface JournalChanged { changed: (readonly [string, number])[] }

/** The fields a message names; `undefined`: not a message of this version (read the whole journal). */
function changedKeys(data: unknown): string[] | undefined {
  const changed = (data as Partial<JournalChanged> | null)?.changed;
  if (!Array.isArray(changed) || !changed.every((pair) => Array.isArray(pair) && typeof pair[0] === 'string')) return undefined;
  return [...new Set(changed.map(([key]) => key))];
}

/** Listens to the other tabs of this database: when their journal changes, this tab reads the fields they name. */
function listen(dbName: string): void {
  if (channel?.dbName === dbName) return;
  channel?.port.close();
  const port = new BroadcastChannel(`fieldsync-journal:${dbName}`);
  port.onmessage = (event: MessageEvent) => void loadJournal(changedKeys(event.data)).catch(() => undefined);
  channel = { dbName, port };
}

function kick(): void {
  if (writing) return;
  writing = true;
  written = writeLoop();
}

/** A journal write that failed is tried again after this long (the edit is kept in this page meanwhile). */
const JOURNAL_RETRY_MS = 1000;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * A failed write's records go back in line, unless something newer took their place meanwhile
 * (a later keystroke of the field, or its removal once saved or discarded).
 */
function requeue(puts: readonly (readonly [string, JournalEntry])[], removals: readonly (readonly [string, number])[]): void {
  for (const [key, entry] of puts) {
    if ((toStore.get(key)?.at ?? -Infinity) >= entry.at || (toRemove.get(key) ?? -Infinity) >= entry.at) continue;
    toStore.set(key, entry);
  }
  for (const [key, at] of removals) {
    if ((toStore.get(key)?.at ?? -Infinity) > at) continue;
    toRemove.set(key, Math.max(toRemove.get(key) ?? 0, at));
  }
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    kick();
  }, JOURNAL_RETRY_MS);
}

async function writeLoop(): Promise<void> {
  try {
    while (toStore.size > 0 || toRemove.size > 0) {
      const { dbName, journalKey } = database();
      listen(dbName);
      const puts = [...toStore];
      // A newer record stored in this same write replaces the older one anyway: removing the field
      // too could run after the put inside the transaction and delete the newer draft.
      const removals = [...toRemove].filter(([key, at]) => (toStore.get(key)?.at ?? -Infinity) <= at);
      toStore.clear();
      toRemove.clear();
      try {
        const sealed = await Promise.all(puts.map(async ([key, entry]) => [key, await seal(dbName, journalKey, key, entry)] as const));
        await writeJournal(dbName, sealed, removals);
        for (const [key, entry] of puts) storedAt.set(key, Math.max(storedAt.get(key) ?? 0, entry.at));
        const message: JournalChanged = { changed: [...puts.map(([key, entry]) => [key, entry.at] as const), ...removals] };
        channel?.port.postMessage(message);
      } catch (error) {
        // Kept in line and tried again: an edit only in this page's memory is lost if the tab or browser dies.
        console.warn('fieldsync: could not keep an edit in the journal; it is still in this page and is tried again', error);
        requeue(puts, removals);
        break;
      }
    }
  } catch {
    // locked meanwhile (no database): what was typed stays in this page until it is unlocked
  } finally {
    writing = false;
  }
}

function store(key: string, entry: JournalEntry): void {
  toStore.set(key, entry);
  kick();
}

function unstore(key: string, at: number): void {
  if ((toStore.get(key)?.at ?? Infinity) <= at) toStore.delete(key);
  toRemove.set(key, Math.max(toRemove.get(key) ?? 0, at));
  kick();
}

/**
 * Resolves once the journal writes under way have ended: true when everything typed so far is in
 * the journal on the device, false when a write failed and waits to be tried again.
 */
async function inJournal(): Promise<boolean> {
  while (writing) await written;
  return toStore.size === 0 && toRemove.size === 0;
}

/** How many times locking tries again a journal write that failed before it forgets the page's edits. */
const LOCK_WRITE_TRIES = 5;

// ---- what the fields and the status line read ----------------------------------------------------

/** The entry of a field (of any tab, or only of this one). */
export function journalEntry(collection: string, id: string, path: Path, onlyMine = false): JournalEntry | undefined {
  const entry = entries.get(fieldKey(collection, id, path));
  return entry && (!onlyMine || entry.tab === TAB) ? entry : undefined;
}

/** A draft that is not in the database and will not get there by waiting: the person must act. */
export const notSaved = (entry: JournalEntry): boolean => !entry.valid || entry.problem !== undefined;

/** Number of edits on their way to the database (normally 0 within half a second). */
export function unsavedEdits(): number {
  return [...entries.values()].filter((e) => !notSaved(e)).length;
}

/** Drafts that could not be saved (refused by the form or the database, or a write that failed), of a document or of all. */
export function invalidDrafts(collection?: CollectionName, id?: string): JournalEntry[] {
  return [...entries.values()]
    .filter((e) => notSaved(e) && (collection === undefined || e.collection === collection) && (id === undefined || e.id === id))
    .sort((a, b) => a.at - b.at);
}

/** Every entry of a document (on its way to the database or not saved). */
export function journalOf(collection: CollectionName, id: string): JournalEntry[] {
  return [...entries.values()].filter((e) => e.collection === collection && e.id === id);
}

/**
 * What a view of a document shows of its journal: the drafts that are not saved (which field, its
 * label, why) and, with `anyDraft`, whether any draft is on its way. Keystrokes do not change it
 * (a keystroke into a field that is not refused, after the first), so a form that re-renders
 * only when this changes stays still while someone types: the field re-renders itself.
 */
export function draftsShown(collection: CollectionName, id: string, anyDraft = false): string {
  const drafts = journalOf(collection, id);
  const refused = drafts.filter(notSaved).map((e) => `${fieldKey(e.collection, e.id, e.path)}\u0000${e.label ?? ''}\u0000${e.problem ?? ''}`).sort();
  return `${anyDraft ? String(drafts.length > 0) : ''}\n${refused.join('\n')}`;
}

/** The status line's words for drafts that are not saved, e.g. "1 field not saved: Systolic BP — Numbers only." */
export function notSavedSummary(): string | undefined {
  const drafts = invalidDrafts();
  if (drafts.length === 0) return undefined;
  const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);
  const named = drafts.slice(0, 3).map((e) => sentence(`${e.label ?? 'A field'} — ${e.problem ?? 'not saved'}`)).join(' ');
  const more = drafts.length > 3 ? ` And ${drafts.length - 3} more.` : '';
  return `${drafts.length} field${drafts.length === 1 ? '' : 's'} not saved: ${named}${more}`;
}

/**
 * Calls `listener` when the journal changes: any of it, or (`of`) only a document's entries, or
 * only one field's (`path`). Returns the function that stops it.
 */
export function onJournalChange(listener: () => void, of?: { collection: string; id: string; path?: Path }): () => void {
  if (of?.path) return subscribe(byField, fieldKey(of.collection, of.id, of.path), listener);
  if (of) return subscribe(byDocument, documentKey(of.collection, of.id), listener);
  everyChange.add(listener);
  return () => void everyChange.delete(listener);
}

// ---- typing, saving, discarding -----------------------------------------------------------------------

/** What the person typed into a field: kept in the journal at once, written to the database shortly after when valid. */
export function saveField(entry: Omit<JournalEntry, 'at' | 'tab'>): void {
  const key = fieldKey(entry.collection, entry.id, entry.path);
  lastAt = Math.max(Date.now(), lastAt + 1);
  const full: JournalEntry = { ...entry, at: lastAt, tab: TAB };
  if (full.valid) delete full.problem;
  entries.set(key, full);
  store(key, full);
  notify([full]);
  clearTimeout(timers.get(key));
  timers.delete(key);
  if (full.valid) timers.set(key, setTimeout(() => void flush(key), DEBOUNCE_MS));
}

/** A field names its draft (one an earlier version of the app stored without its label). */
export function nameDraft(collection: string, id: string, path: Path, label: string): void {
  const entry = entries.get(fieldKey(collection, id, path));
  if (!entry || entry.label !== undefined) return;
  entry.label = label;
  notify([entry]);
}

/** The person gave up a draft: the field shows the stored value again. */
export function discardDraft(collection: string, id: string, path: Path): void {
  const key = fieldKey(collection, id, path);
  const entry = entries.get(key);
  if (!entry) return;
  discarded.set(key, entry.at);
  clearTimeout(timers.get(key));
  timers.delete(key);
  entries.delete(key);
  unstore(key, entry.at);
  notify([entry]);
}

/** The database's refusal of a value, in words; `undefined`: not about the value (tried again). */
function refusalOf(error: unknown): string | undefined {
  const text = String((error as { message?: unknown } | undefined)?.message ?? error);
  // The worker names a schema refusal (client/worker/write-errors.ts): its message lists what the schema said.
  // Every worker write names its refusal (refusedWrite, client/worker/engine.ts): anything else is not about the value.
  if (writeRefusalKind(error) !== 'invalid') return undefined;
  return `The device's database refused this value (${text.slice(0, 200)}). Change it, or discard this draft.`;
}

async function flush(key: string): Promise<void> {
  clearTimeout(timers.get(key));
  timers.delete(key);
  const entry = entries.get(key);
  // A value the database refused is not tried again until it changes (or the journal is replayed).
  if (!entry || !entry.valid || entry.refused) return;
  try {
    await write.mutate(entry.collection, entry.id, [
      entry.value === undefined ? { op: 'unset', path: entry.path } : { op: 'set', path: entry.path, value: entry.value },
    ]);
  } catch (error) {
    const refusal = refusalOf(error);
    console.warn(`fieldsync: could not save ${entry.label ?? 'a field'}; it stays in the journal`, refusal ?? error);
    if (entries.get(key) !== entry) return;
    const kept: JournalEntry = refusal
      ? { ...entry, problem: refusal, refused: true }
      : { ...entry, problem: 'Not saved yet: this device could not write it; trying again.' };
    entries.set(key, kept);
    store(key, kept);
    notify([kept]);
    if (!refusal) timers.set(key, setTimeout(() => void flush(key), RETRY_MS));
    return;
  }
  // Saved: this entry (and any older one stored) is done; a newer keystroke stays.
  unstore(key, entry.at);
  if (entries.get(key) === entry) {
    entries.delete(key);
    notify([entry]);
  }
}

/** Writes everything typed so far now (page hidden or closing, a button that leaves the form, locking, finalizing). */
export async function flushAll(): Promise<void> {
  const keys = [...entries.keys()];
  await Promise.all(keys.map((key) => flush(key)));
  await inJournal();
}

// ---- reading the journal back ------------------------------------------------------------------------

/** Entries an earlier version of the app kept in localStorage: moved into the journal. */
function legacyEntries(dbName: string): Record<string, StoredEntry | JournalEntry> {
  try {
    return JSON.parse(localStorage.getItem(legacyKey(dbName)) ?? '{}') as Record<string, StoredEntry | JournalEntry>;
  } catch {
    return {};
  }
}

/**
 * Reads the stored journal into this page (what other tabs typed, or an earlier page load left):
 * all of it at open and unlock; only the fields another tab just wrote (`only`) on its message.
 */
/** Drafts the person discarded, by the time of the discarded edit: a journal read that began before the discard must not bring them back. */
const discarded = new Map<string, number>();

async function loadJournal(only?: readonly string[]): Promise<void> {
  const { dbName } = database();
  listen(dbName);
  const legacy = only ? {} : legacyEntries(dbName);
  const stored = new Map<string, StoredEntry | JournalEntry>(Object.entries(legacy));
  for (const [key, value] of await (only ? readJournalKeys<StoredEntry>(dbName, only) : readJournal<StoredEntry>(dbName))) {
    if ((stored.get(key)?.at ?? -Infinity) <= value.at) stored.set(key, value);
  }
  // This tab's own stored drafts are read back after locking: by the full load at unlock.
  const ownToo = !only && forgotten;
  if (!only) forgotten = false;
  const changed: JournalEntry[] = [];
  for (const [key, value] of stored) {
    const known = entries.get(key);
    // This tab's entries are current in memory (a stored one may be about to be removed).
    if (known?.tab === TAB || known?.at === value.at || (value.tab === TAB && !ownToo)) continue;
    const entry = await open(key, value);
    // Discarded while this read was under way (it is being removed from the store): stays discarded.
    if (!entry || (discarded.get(key) ?? -Infinity) >= value.at) continue;
    entries.set(key, entry);
    changed.push(entry);
    // An old localStorage entry moves into the journal; one stored in clear is replaced by a sealed copy.
    if (key in legacy || !('sealed' in value)) store(key, entry);
  }
  for (const key of only ?? [...entries.keys()]) {
    const entry = entries.get(key);
    if (!entry || stored.has(key) || toStore.has(key)) continue;
    // Another tab's entry it saved or discarded; or one of this tab's that was stored, and was
    // removed since by another tab (it saved a newer value of the field, or discarded the draft).
    if (entry.tab !== TAB || (storedAt.get(key) ?? -Infinity) >= entry.at) {
      entries.delete(key);
      clearTimeout(timers.get(key));
      timers.delete(key);
      changed.push(entry);
    }
  }
  if (Object.keys(legacy).length > 0) {
    // Removed only once its entries are in the journal: a write that failed keeps the old copy.
    if (await inJournal()) localStorage.removeItem(legacyKey(dbName));
  }
  if (changed.length > 0) notify(changed);
}

/** After a crash, a reload or unlocking: the edits the database did not get yet. */
export function replayJournal(): Promise<number> {
  const run = (async () => {
    await loadJournal();
    const waiting = [...entries.values()].filter((e) => e.valid).length;
    // A value the database refused before is tried once more (the app may have been updated since).
    for (const [key, entry] of entries) {
      if (!entry.refused) continue;
      const { problem: _problem, refused: _refused, ...retry } = entry;
      entries.set(key, retry);
    }
    await flushAll();
    return waiting;
  })();
  replaying = run.catch(() => undefined);
  return run;
}

/** Resolves when the journal read back at the last open has been written (or has failed to be). */
export async function journalReplayed(): Promise<void> {
  await replaying;
}

/**
 * Locking: what was typed leaves this page's memory (it stays sealed in the journal). Waits for
 * the journal writes in flight, so each entry is sealed and stored before the page forgets it,
 * even when writing to the database timed out; call it before the database and its key close.
 */
export async function forgetJournal(): Promise<void> {
  for (const timer of timers.values()) clearTimeout(timer);
  timers.clear();
  // A write that failed is tried again (a few times, a second apart) before the page forgets what
  // it holds: an edit only in this page's memory would be gone once it is locked.
  for (let tried = 0; !(await inJournal().catch(() => false)) && tried < LOCK_WRITE_TRIES; tried++) {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    await new Promise((resolve) => setTimeout(resolve, JOURNAL_RETRY_MS));
    kick();
  }
  clearTimeout(retryTimer);
  retryTimer = undefined;
  if (toStore.size > 0) console.warn(`fieldsync: locking forgets ${toStore.size} edit(s) the journal could not keep; they were not saved`);
  // Stored sealed now (or its write failed: never kept in clear while locked).
  toStore.clear();
  toRemove.clear();
  entries.clear();
  forgotten = true;
  notify('all');
}

addEventListener('pagehide', () => void flushAll());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void flushAll();
});
