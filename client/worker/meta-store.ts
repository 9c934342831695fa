/**
 * A tiny key-value store in its own IndexedDB database, for facts about the device's sync that
 * RxDB does not keep (e.g. "the first full sync of this collection finished once").
 */
const DB_NAME = 'fieldsync-device-meta';
const STORE = 'kv';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let dbPromise: Promise<IDBDatabase> | undefined;
const db = () => (dbPromise ??= open());

export async function metaGet<T>(key: string): Promise<T | undefined> {
  const handle = await db();
  return new Promise((resolve, reject) => {
    const request = handle.transaction(STORE, 'readonly').objectStore(STORE).get(key);
    request.onsuccess = () => resolve(request.result as T | undefined);
    request.onerror = () => reject(request.error);
  });
}

export async function metaSet(key: string, value: unknown): Promise<void> {
  const handle = await db();
  return new Promise((resolve, reject) => {
    const tx = handle.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(value, key);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

/**
 * Forgets the facts kept about the local database `dbName` (`initial:<db>:<collection>`), when a
 * user's data is erased from the device (client/session/erase.ts). Opens nothing that does not
 * exist yet.
 */
export async function forgetInitialSync(dbName: string): Promise<void> {
  const known = await indexedDB.databases();
  if (!known.some((d) => d.name === DB_NAME)) return;
  const handle = await db();
  await new Promise<void>((resolve, reject) => {
    const tx = handle.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(IDBKeyRange.bound(`initial:${dbName}:`, `initial:${dbName}:\uffff`));
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}
