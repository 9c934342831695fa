/**
 * Small records this device must not lose, in IndexedDB (`fieldsync-device-records`, one store,
 * keyed by the record's name): the wrapped database key of each local database (keys.ts) and the
 * signed-in session (session.ts).
 *
 * IndexedDB, not localStorage: Chromium writes localStorage to disk lazily (seconds after the
 * change), so a browser killed a few seconds after signing in came back signed out and, worse,
 * without the wrapped key record, leaving the encrypted database and the sealed journal
 * unreadable. A put here resolves only when its transaction has completed, i.e. the data is
 * handed to the operating system, which a killed browser cannot undo.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export const DEVICE_RECORDS_DB = 'fieldsync-device-records';
const STORE = 'records';

interface RecordsSchema extends DBSchema {
  records: { key: string; value: unknown };
}

let connection: Promise<IDBPDatabase<RecordsSchema>> | undefined;

function connect(): Promise<IDBPDatabase<RecordsSchema>> {
  if (!connection) {
    const forget = () => {
      connection = undefined;
    };
    const opening = openDB<RecordsSchema>(DEVICE_RECORDS_DB, 1, {
      upgrade(db) {
        db.createObjectStore(STORE);
      },
      blocking() {
        forget();
        void opening.then((db) => db.close());
      },
      terminated: forget,
    });
    opening.catch(forget);
    connection = opening;
  }
  return connection;
}

/** The record named `name`, if this device has one. */
export async function readDeviceRecord<T>(name: string): Promise<T | undefined> {
  return (await (await connect()).get(STORE, name)) as T | undefined;
}

/** Stores `value` as `name`; resolves once the transaction has completed (durable). */
export async function keepDeviceRecord(name: string, value: unknown): Promise<void> {
  const tx = (await connect()).transaction(STORE, 'readwrite', { durability: 'strict' });
  await Promise.all([tx.store.put(value, name), tx.done]);
}

/** Removes the record named `name` (nothing if there is none); resolves once that is durable. */
export async function dropDeviceRecord(name: string): Promise<void> {
  const tx = (await connect()).transaction(STORE, 'readwrite', { durability: 'strict' });
  await Promise.all([tx.store.delete(name), tx.done]);
}

/**
 * The record `name`, also where earlier versions kept it (localStorage under the same name):
 * a copy found only there is stored here first. The copy here wins when both exist (it is written
 * on every change); the caller decides whether the localStorage copy goes.
 */
export async function migrateFromLocalStorage<T>(name: string): Promise<T | undefined> {
  const here = await readDeviceRecord<T>(name);
  let legacy: T | undefined;
  try {
    const raw = localStorage.getItem(name);
    legacy = raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    legacy = undefined;
  }
  if (here !== undefined) return here;
  if (legacy === undefined) return undefined;
  await keepDeviceRecord(name, legacy);
  return legacy;
}
