/**
 * Erasing a user's data from this device (signing out for good, a key that no longer opens the
 * data): every store that holds something of it, each through its owner.
 */
import { forgetInitialSync } from '../worker/meta-store.ts';
import { countJournal, eraseJournal } from './journal-store.ts';
import { removeKeyRecord } from './keys.ts';
import { forgetTransportKey } from './transport-key.ts';

/** `fieldsync.journal.<db>`: where earlier versions kept the autosave journal (now IndexedDB, journal-store.ts). */
export const journalStorageKey = (dbName: string) => `fieldsync.journal.${dbName}`;

/** Entries of the autosave journal not written to the database yet (valid or not). */
export async function journalEntries(dbName: string): Promise<number> {
  let legacy = 0;
  try {
    legacy = Object.keys(JSON.parse(localStorage.getItem(journalStorageKey(dbName)) ?? '{}') as object).length;
  } catch {
    // unreadable: nothing to count
  }
  return legacy + await countJournal(dbName);
}

/** The IndexedDB databases RxDB's Dexie storage made for `dbName` (collections, internal store, replication meta). */
export function isLocalDatabaseOf(dbName: string, idbName: string): boolean {
  const escaped = dbName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^rxdb-dexie-${escaped}--[0-9]+--`).test(idbName);
}

function deleteIdb(name: string, blockedMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    let timer: ReturnType<typeof setTimeout> | undefined;
    request.onsuccess = () => {
      clearTimeout(timer);
      resolve();
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error);
    };
    // Another tab still has it open (its Dexie closes on `versionchange`; a frozen tab may not).
    request.onblocked = () => {
      timer ??= setTimeout(() => reject(new Error('Another open tab of this app still uses the data; close it and try again.')), blockedMs);
    };
  });
}

/**
 * Removes everything this device keeps of `dbName`: every IndexedDB database of it, its wrapped
 * keys (database and transport key), its unsaved-keystroke journal (journal-store.ts) and its sync facts. The caller makes sure nothing is pending
 * and that the database is closed (in every tab). Returns the IndexedDB databases deleted.
 */
export async function eraseLocalDatabase(dbName: string, blockedMs = 10_000): Promise<string[]> {
  if (typeof indexedDB.databases !== 'function') throw new Error('This browser cannot list its local databases, so they cannot be erased from here; clear the site data in the browser settings.');
  const names = (await indexedDB.databases()).map((d) => d.name ?? '').filter((name) => isLocalDatabaseOf(dbName, name));
  for (const name of names) await deleteIdb(name, blockedMs);
  await removeKeyRecord(dbName);
  await forgetTransportKey(dbName);
  localStorage.removeItem(journalStorageKey(dbName));
  await eraseJournal(dbName);
  await forgetInitialSync(dbName).catch(() => undefined);
  return names;
}
