/**
 * Where the autosave journal (autosave.ts) keeps its entries on the device: one IndexedDB
 * database per local database, `fieldsync-journal--<db>`, one record per field, keyed by the
 * field (`collection|id|path`).
 *
 * IndexedDB, not localStorage: Chromium writes localStorage to disk lazily (a second or more
 * after the change), so a tab or browser killed right after a keystroke lost it. An IndexedDB
 * transaction has handed its data to the operating system when it completes, which a killed tab
 * or browser cannot undo. The records arrive here sealed (autosave.ts encrypts each one); this
 * module only stores, reads and removes them.
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';

export const journalDatabaseName = (dbName: string) => `fieldsync-journal--${dbName}`;

/** What the journal needs of a stored record to order writes: when it was typed. */
export interface Timed { at: number }

interface JournalSchema extends DBSchema {
  entries: { key: string; value: Timed };
}

const STORE = 'entries';
const connections = new Map<string, Promise<IDBPDatabase<JournalSchema>>>();

function connect(dbName: string): Promise<IDBPDatabase<JournalSchema>> {
  let connection = connections.get(dbName);
  if (!connection) {
    const forget = () => {
      if (connections.get(dbName) === connection) connections.delete(dbName);
    };
    connection = openDB<JournalSchema>(journalDatabaseName(dbName), 1, {
      upgrade(db) {
        db.createObjectStore(STORE);
      },
      // Another page erases this user's data (eraseJournal): let it.
      blocking() {
        forget();
        void connection?.then((db) => db.close());
      },
      terminated: forget,
    });
    connection.catch(forget);
    connections.set(dbName, connection);
  }
  return connection;
}

/** Every stored record of `dbName`'s journal, by field key. */
export async function readJournal<T extends Timed>(dbName: string): Promise<Map<string, T>> {
  const db = await connect(dbName);
  const tx = db.transaction(STORE, 'readonly');
  const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
  await tx.done;
  return new Map(keys.map((key, i) => [key, values[i] as T]));
}

/** The stored records of the given fields of `dbName`'s journal (a field without one is left out). */
export async function readJournalKeys<T extends Timed>(dbName: string, keys: readonly string[]): Promise<Map<string, T>> {
  const db = await connect(dbName);
  const tx = db.transaction(STORE, 'readonly');
  const values = await Promise.all(keys.map((key) => tx.store.get(key)));
  await tx.done;
  const found = new Map<string, T>();
  keys.forEach((key, i) => {
    if (values[i] !== undefined) found.set(key, values[i] as T);
  });
  return found;
}

/**
 * One transaction: stores `puts` (unless the stored record is newer, e.g. typed later in
 * another tab) and removes each `removals` record typed at or before the given time (a write of
 * a newer value to the database supersedes it; one typed after it stays).
 */
export async function writeJournal(dbName: string, puts: readonly (readonly [string, Timed])[], removals: readonly (readonly [string, number])[]): Promise<void> {
  const db = await connect(dbName);
  // 'relaxed': the record is with the operating system when the transaction completes, so a
  // killed tab or browser keeps it; waiting for the disk on every keystroke ('strict') would
  // only add an operating-system crash inside its write-back window, which the database's own
  // writes (RxDB's, a moment later) do not guard against either.
  const tx = db.transaction(STORE, 'readwrite', { durability: 'relaxed' });
  const changes = Promise.all([
    ...puts.map(async ([key, record]) => {
      const stored = await tx.store.get(key);
      if (!stored || stored.at <= record.at) await tx.store.put(record, key);
    }),
    ...removals.map(async ([key, at]) => {
      const stored = await tx.store.get(key);
      if (stored && stored.at <= at) await tx.store.delete(key);
    }),
  ]);
  await Promise.all([changes, tx.done]);
}

/** Records in `dbName`'s journal (unsaved edits), without creating the journal. */
export async function countJournal(dbName: string): Promise<number> {
  if (!connections.has(dbName)) {
    const known = typeof indexedDB.databases === 'function' ? await indexedDB.databases() : undefined;
    if (known && !known.some((d) => d.name === journalDatabaseName(dbName))) return 0;
  }
  const db = await connect(dbName);
  return db.count(STORE);
}

/** Removes `dbName`'s journal from this device (erasing the user's data). */
export async function eraseJournal(dbName: string): Promise<void> {
  const connection = connections.get(dbName);
  connections.delete(dbName);
  if (connection) await connection.then((db) => db.close(), () => undefined);
  await deleteDB(journalDatabaseName(dbName));
}
