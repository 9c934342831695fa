/**
 * Device-side protection of patient data (HIPAA technical safeguards, 45 CFR 164.312: encryption
 * at rest, automatic logoff).
 *
 * The key. Each local database (one per device and user) has its own random 256-bit key. RxDB
 * encrypts the ePCR's PHI sections with it (client/sync/database.ts). The key is stored on the
 * device only wrapped: AES-GCM under a wrapping key derived from the user's password with PBKDF2
 * (SHA-256, 210,000 iterations; the salt is tenant + user + 16 random bytes made on this device).
 * Unwrapping happens on the device, so unlocking works offline, and a wrong password fails the
 * AES-GCM check before the database is touched. The clear key lives only in memory: in this page
 * and in its database worker, which is terminated when the app locks. Because the database key
 * is not the password itself, a changed password only re-wraps it (`rewrapKeyRecord`); the
 * encrypted data stays as it is (the pattern RxDB's docs recommend for changing a password).
 * The other keys of the user's data on this device are derived from the database key or wrapped
 * with it (device-keys.ts): the transport key that seals what waits in the service worker's
 * queue (transport-key.ts) and the key of the autosave journal (autosave.ts).
 *
 * Developer tokens have no password. Their wrapping key is derived from the token's subject and
 * device, which anyone holding the device can recompute: data of a dev-token session is NOT
 * protected at rest. Dev tokens are for development servers only, never for patient data.
 *
 * Automatic logoff. After `idleTimeoutMs()` without input (default 15 minutes) the app locks:
 * the UI is removed (no PHI on screen), the key is dropped from the page and the database worker
 * is terminated. Every change is already durable (IndexedDB, the service worker's outbox), so a
 * lock loses nothing. Tabs of one database share activity and the lock over a BroadcastChannel:
 * the device locks as a whole, and unlocking one tab unlocks the others.
 */
import { databaseNameFor, type Session } from './session.ts';
import { countJournal, eraseJournal } from './journal-store.ts';
import { dropDeviceRecord, keepDeviceRecord, migrateFromLocalStorage } from './device-records.ts';
import { forgetTransportKey } from './transport-key.ts';

export const KEY_ITERATIONS = 210_000;
/** A developer secret is not secret: stretching it would only slow every app start. */
const DEV_KEY_ITERATIONS = 1;
export const DEFAULT_IDLE_MS = 15 * 60_000;
/** Lock-after choices offered in the settings (minutes). A person can shorten the default, never lengthen it. */
export const IDLE_CHOICES_MINUTES = [1, 2, 5, 10, 15] as const;
const MIN_IDLE_MS = 1000;

const KEY_RECORD_PREFIX = 'fieldsync.dbkey.';
const IDLE_SETTING = 'fieldsync.idleMs';
const WRAP_VERSION = 'fieldsync-db-key/v1';

/** Who a key belongs to; bound into the derivation and the AES-GCM additional data. */
export interface KeyOwner {
  dbName: string;
  tenantId: string;
  userId: string;
}

/** The database key as this device stores it: wrapped, never in clear. */
export interface KeyRecord {
  v: 1;
  kind: 'password' | 'dev';
  kdf: 'PBKDF2-SHA256';
  iterations: number;
  /** Base64, 16 random bytes made on this device. */
  salt: string;
  /** Base64, 12 bytes. */
  iv: string;
  /** Base64: AES-GCM ciphertext and tag of the 32-byte database key. */
  wrapped: string;
  createdAt: number;
  updatedAt: number;
}

/** The password does not open this device's key (checked locally, offline). */
export class WrongPasswordError extends Error {
  constructor(message = 'Wrong password.') {
    super(message);
    this.name = 'WrongPasswordError';
  }
}

// ---- bytes ------------------------------------------------------------------------------------

const utf8 = (text: string) => new TextEncoder().encode(text);

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

// ---- wrapping ---------------------------------------------------------------------------------

async function wrappingKey(secret: string, owner: KeyOwner, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8(secret), 'PBKDF2', false, ['deriveKey']);
  const context = utf8(`${WRAP_VERSION}|${owner.tenantId}|${owner.userId}|`);
  const fullSalt = new Uint8Array(context.length + salt.length);
  fullSalt.set(context);
  fullSalt.set(salt, context.length);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: fullSalt, iterations },
    material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  );
}

const additionalData = (owner: KeyOwner) => utf8(`${WRAP_VERSION}|${owner.dbName}`);

async function wrap(key: Uint8Array<ArrayBuffer>, secret: string, owner: KeyOwner, kind: KeyRecord['kind'], iterations: number, createdAt: number): Promise<KeyRecord> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const kek = await wrappingKey(secret, owner, salt, iterations);
  const wrapped = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(owner) }, kek, key));
  return { v: 1, kind, kdf: 'PBKDF2-SHA256', iterations, salt: toBase64(salt), iv: toBase64(iv), wrapped: toBase64(wrapped), createdAt, updatedAt: Date.now() };
}

async function unwrap(record: KeyRecord, secret: string, owner: KeyOwner): Promise<Uint8Array<ArrayBuffer>> {
  if (record.v !== 1 || record.kdf !== 'PBKDF2-SHA256') throw new Error('The key on this device was stored by a newer version of the app.');
  const kek = await wrappingKey(secret, owner, fromBase64(record.salt), record.iterations);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(record.iv), additionalData: additionalData(owner) }, kek, fromBase64(record.wrapped)));
  } catch {
    // AES-GCM's tag does not match: another password (or a record of another user or database).
    throw new WrongPasswordError();
  }
}

/** The form RxDB's encryption plugin takes the key in (a string; crypto-js derives its AES key from it). */
const databasePassword = (key: Uint8Array) => toHex(key);

/** A new random database key, wrapped with `secret`. Returns the record to store and the key for RxDB. */
export async function createKeyRecord(secret: string, owner: KeyOwner, kind: KeyRecord['kind'], iterations = KEY_ITERATIONS): Promise<{ record: KeyRecord; key: string }> {
  const key = randomBytes(32);
  const record = await wrap(key, secret, owner, kind, iterations, Date.now());
  return { record, key: databasePassword(key) };
}

/** The database key, if `secret` opens the record; `WrongPasswordError` otherwise. */
export async function openKeyRecord(record: KeyRecord, secret: string, owner: KeyOwner): Promise<string> {
  return databasePassword(await unwrap(record, secret, owner));
}

/** The same database key, wrapped with a new password (after a password change). */
export async function rewrapKeyRecord(record: KeyRecord, oldSecret: string, newSecret: string, owner: KeyOwner, kind: KeyRecord['kind'] = record.kind): Promise<{ record: KeyRecord; key: string }> {
  const key = await unwrap(record, oldSecret, owner);
  return { record: await wrap(key, newSecret, owner, kind, Math.max(record.iterations, KEY_ITERATIONS), record.createdAt), key: databasePassword(key) };
}

// ---- the records on this device -----------------------------------------------------------------

// The wrapped key record lives in IndexedDB (device-records.ts): without it the encrypted
// database and the sealed journal cannot be read, and localStorage, where earlier versions kept
// it, is written to disk seconds late, so a crash right after signing in lost it.

/** The wrapped key record of `dbName` (one earlier versions left in localStorage is moved over). */
export async function loadKeyRecord(dbName: string): Promise<KeyRecord | undefined> {
  const record = await migrateFromLocalStorage<KeyRecord>(KEY_RECORD_PREFIX + dbName);
  if (record) localStorage.removeItem(KEY_RECORD_PREFIX + dbName);
  return record;
}

/** Stores the wrapped key record; resolves once it is on disk, before the key may encrypt anything. */
export async function saveKeyRecord(dbName: string, record: KeyRecord): Promise<void> {
  await keepDeviceRecord(KEY_RECORD_PREFIX + dbName, record);
  localStorage.removeItem(KEY_RECORD_PREFIX + dbName);
}

export async function removeKeyRecord(dbName: string): Promise<void> {
  localStorage.removeItem(KEY_RECORD_PREFIX + dbName);
  await dropDeviceRecord(KEY_RECORD_PREFIX + dbName);
}

/**
 * The secret a developer-token session wraps its key with: the token's subject and device.
 * Anyone with the device can recompute it, so it protects nothing: development only.
 */
export function devSecret(user: { tenantId: string; userId: string; deviceId: string; unitId?: string; technicianId?: string }): string {
  return `dev-token|${user.tenantId}|${user.userId}|${user.deviceId}|${user.unitId ?? ''}|${user.technicianId ?? ''}`;
}

// ---- a signed-in user's key ---------------------------------------------------------------------

/** This device has no key for the user's data yet: it is made at sign-in, which needs the server once. */
export class NoKeyOnDeviceError extends Error {
  constructor(message = 'This device has no key for your data yet. Sign in again (this needs a connection once).') {
    super(message);
    this.name = 'NoKeyOnDeviceError';
  }
}

/** The password the server just accepted does not open the key here: it was changed since. */
export class PasswordChangedError extends Error {
  constructor(message = 'Your password changed since the data on this device was locked.') {
    super(message);
    this.name = 'PasswordChangedError';
  }
}

export function keyOwnerOf(session: Session): KeyOwner {
  return { dbName: databaseNameFor(session.user), tenantId: session.user.tenantId, userId: session.user.userId };
}

/**
 * Right after the server accepted `password` (sign-in): the key of this user's data on this
 * device, made on the first sign-in. `PasswordChangedError` when the key exists but was wrapped
 * with another password (see `rewrapWithPreviousPassword`).
 */
export async function keyAtSignIn(session: Session, password: string): Promise<string> {
  const owner = keyOwnerOf(session);
  const record = await loadKeyRecord(owner.dbName);
  if (!record) {
    const made = await createKeyRecord(password, owner, 'password');
    await saveKeyRecord(owner.dbName, made.record);
    return made.key;
  }
  try {
    return await openKeyRecord(record, password, owner);
  } catch (error) {
    if (error instanceof WrongPasswordError) throw new PasswordChangedError();
    throw error;
  }
}

/** After a password change: opens the key with the previous password and wraps it with the new one. */
export async function rewrapWithPreviousPassword(session: Session, previous: string, password: string): Promise<string> {
  const owner = keyOwnerOf(session);
  const record = await loadKeyRecord(owner.dbName);
  if (!record) return keyAtSignIn(session, password);
  const next = await rewrapKeyRecord(record, previous, password, owner, 'password');
  await saveKeyRecord(owner.dbName, next.record);
  return next.key;
}

/** Unlocking (offline too): the key, if `password` opens it; `WrongPasswordError` if not. */
export async function keyForUnlock(session: Session, password: string): Promise<string> {
  const owner = keyOwnerOf(session);
  const record = await loadKeyRecord(owner.dbName);
  if (!record) throw new NoKeyOnDeviceError();
  return openKeyRecord(record, password, owner);
}

/** A developer-token session's key (made on first use): no password, so no protection at rest. */
export async function devSessionKey(session: Session): Promise<string> {
  const owner = keyOwnerOf(session);
  const secret = devSecret(session.user);
  const record = await loadKeyRecord(owner.dbName);
  if (record) return openKeyRecord(record, secret, owner);
  const made = await createKeyRecord(secret, owner, 'dev', DEV_KEY_ITERATIONS);
  await saveKeyRecord(owner.dbName, made.record);
  return made.key;
}

// ---- the key in memory --------------------------------------------------------------------------

let held: { dbName: string; key: string } | undefined;

export function holdKey(dbName: string, key: string): void {
  held = { dbName, key };
  announce(dbName, { type: 'key', key });
}

export function heldKey(dbName: string): string | undefined {
  return held?.dbName === dbName ? held.key : undefined;
}

/**
 * Forgets the key in this page. (A JavaScript string cannot be overwritten; with no reference
 * left it is garbage. The database worker's copy goes with the worker, which is terminated.)
 */
export function dropKey(): void {
  held = undefined;
}

// ---- between the tabs of one database ---------------------------------------------------------

type LockMessage =
  | { type: 'activity'; at: number }
  | { type: 'lock'; reason: 'idle' | 'wipe' | 'signout' }
  | { type: 'key-request'; from: string }
  | { type: 'key'; key: string; to?: string };

const PAGE = Math.random().toString(36).slice(2, 10);
const channels = new Map<string, BroadcastChannel>();
const listeners = new Set<(dbName: string, message: LockMessage) => void>();

function channelFor(dbName: string): BroadcastChannel | undefined {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  let channel = channels.get(dbName);
  if (!channel) {
    channel = new BroadcastChannel(`fieldsync-lock:${dbName}`);
    channel.onmessage = (event: MessageEvent<LockMessage>) => {
      const message = event.data;
      // An unlocked tab lends its key to a tab of the same database that opens or unlocks.
      if (message.type === 'key-request' && held?.dbName === dbName) channel!.postMessage({ type: 'key', key: held.key, to: message.from } satisfies LockMessage);
      for (const listener of listeners) listener(dbName, message);
    };
    channels.set(dbName, channel);
  }
  return channel;
}

function announce(dbName: string, message: LockMessage): void {
  channelFor(dbName)?.postMessage(message);
}

/** Listens to the other tabs of `dbName`; returns the unsubscribe. */
export function onLockMessage(dbName: string, listener: (message: LockMessage) => void): () => void {
  channelFor(dbName);
  const wrapped = (name: string, message: LockMessage) => {
    if (name === dbName) listener(message);
  };
  listeners.add(wrapped);
  return () => listeners.delete(wrapped);
}

/** The key from another open, unlocked tab of this database, if one answers quickly. */
export function keyFromOpenTabs(dbName: string, timeoutMs = 300): Promise<string | undefined> {
  const channel = channelFor(dbName);
  if (!channel) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const stop = onLockMessage(dbName, (message) => {
      if (message.type === 'key' && message.to === PAGE) {
        clearTimeout(timer);
        stop();
        resolve(message.key);
      }
    });
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, timeoutMs);
    channel.postMessage({ type: 'key-request', from: PAGE } satisfies LockMessage);
  });
}

/** Tells every other tab of this database to lock now (`wipe`/`signout`: and not to come back). */
export function lockOtherTabs(dbName: string, reason: 'idle' | 'wipe' | 'signout'): void {
  announce(dbName, { type: 'lock', reason });
}

// ---- automatic logoff -------------------------------------------------------------------------

/**
 * Inactivity before the app locks: 15 minutes, or less if this device's setting says so, or less
 * again with `?idle=<ms>` in the address (tests). Neither can make it longer than the default.
 */
export function idleTimeoutMs(): number {
  const parse = (value: string | null | undefined) => {
    const n = Number(value);
    return Number.isFinite(n) && n > 0 ? n : Number.POSITIVE_INFINITY;
  };
  let setting: string | null = null;
  try {
    setting = localStorage.getItem(IDLE_SETTING);
  } catch {
    // no storage: the default applies
  }
  const query = typeof location !== 'undefined' ? new URLSearchParams(location.search).get('idle') : null;
  return Math.max(MIN_IDLE_MS, Math.min(DEFAULT_IDLE_MS, parse(setting), parse(query)));
}

/** This device's own lock-after setting (ms), if one was chosen. */
export function idleSetting(): number | undefined {
  const n = Number(localStorage.getItem(IDLE_SETTING));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function setIdleSetting(ms: number | undefined): void {
  if (ms === undefined) localStorage.removeItem(IDLE_SETTING);
  else localStorage.setItem(IDLE_SETTING, String(Math.min(DEFAULT_IDLE_MS, Math.max(MIN_IDLE_MS, ms))));
}

const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'input', 'wheel', 'touchstart', 'scroll'] as const;

export interface IdleGuard {
  stop(): void;
}

/**
 * Calls `onIdle` once nobody used any tab of `dbName` for `idleMs` (read again on every check, so
 * a changed setting applies at once). Also checks when the page is shown again: timers of hidden
 * pages are throttled, and a tablet that slept past the limit must come back locked.
 */
export function startIdleGuard(dbName: string, onIdle: () => void, idleMs: () => number = idleTimeoutMs): IdleGuard {
  let last = Date.now();
  let lastSent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (stopped) return;
    const limit = idleMs();
    const left = last + limit - Date.now();
    if (left <= 0) {
      stop();
      lockOtherTabs(dbName, 'idle');
      onIdle();
      return;
    }
    timer = setTimeout(check, Math.min(left + 20, 60_000));
  };
  const touched = (at: number, mine: boolean) => {
    if (stopped || at <= last) return;
    last = at;
    // Others hear of it often enough to never lock while this tab is in use.
    if (mine && at - lastSent > Math.min(idleMs() / 4, 15_000)) {
      lastSent = at;
      announce(dbName, { type: 'activity', at });
    }
  };
  const onActivity = () => touched(Date.now(), true);
  const onVisible = () => {
    if (document.visibilityState === 'visible') {
      if (timer) clearTimeout(timer);
      check();
    }
  };
  const unsubscribe = onLockMessage(dbName, (message) => {
    if (message.type === 'activity') touched(Math.min(message.at, Date.now()), false);
  });
  for (const name of ACTIVITY_EVENTS) addEventListener(name, onActivity, { capture: true, passive: true });
  document.addEventListener('visibilitychange', onVisible);
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    unsubscribe();
    for (const name of ACTIVITY_EVENTS) removeEventListener(name, onActivity, { capture: true });
    document.removeEventListener('visibilitychange', onVisible);
  };
  check();
  return { stop };
}

// ---- erasing a user's data from this device -----------------------------------------------------

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
  await forgetSyncFacts(dbName).catch(() => undefined);
  return names;
}

/** The database worker's notes about `dbName` (client/worker/meta-store.ts, e.g. `initial:<db>:<collection>`). */
async function forgetSyncFacts(dbName: string): Promise<void> {
  const known = await indexedDB.databases();
  if (!known.some((d) => d.name === 'fieldsync-device-meta')) return;
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('fieldsync-device-meta');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    if (!db.objectStoreNames.contains('kv')) return;
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite');
      tx.objectStore('kv').delete(IDBKeyRange.bound(`initial:${dbName}:`, `initial:${dbName}:\uffff`));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
