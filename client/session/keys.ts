/**
 * The database key of a user's data on this device (HIPAA technical safeguards, 45 CFR 164.312:
 * encryption at rest).
 *
 * Each local database (one per device and user) has its own random 256-bit key. RxDB
 * encrypts the ePCR's PHI sections with it (client/sync/database.ts). The key is stored on the
 * device only wrapped: AES-GCM under a wrapping key derived from the user's password with PBKDF2
 * (SHA-256, 600,000 iterations, OWASP's figure for PBKDF2-SHA256; the salt is tenant + user + 16
 * random bytes made on this device). A key wrapped with fewer iterations by an earlier version
 * still opens, and is wrapped again at 600,000 by the unlock or sign-in that opens it.
 * (PBKDF2 rather than a memory-hard KDF: it is the one WebCrypto has, in every page and worker,
 * with no WebAssembly to ship and audit; the figure is OWASP's for exactly this choice.)
 * Unwrapping happens on the device, so unlocking works offline, and a wrong password fails the
 * AES-GCM check before the database is touched. The clear key lives only in memory: in this page
 * (lock.ts) and in its database worker, which is terminated when the app locks. Because the
 * database key is not the password itself, a changed password only re-wraps it (`rewrapKeyRecord`);
 * the encrypted data stays as it is (the pattern RxDB's docs recommend for changing a password).
 * The other keys of the user's data on this device are derived from the database key or wrapped
 * with it (device-keys.ts): the transport key that seals what waits in the outbound queue
 * (transport-key.ts) and the key of the autosave journal (client/ui/autosave.ts).
 *
 * Developer tokens have no password. Their wrapping key is derived from the token's subject and
 * device, which anyone holding the device can recompute: data of a dev-token session is NOT
 * protected at rest. Dev tokens are for development servers only, never for patient data.
 */
import { dropDeviceRecord, keepDeviceRecord, migrateFromLocalStorage } from './device-records.ts';
import { databaseNameFor } from './session.ts';
import type { Session } from './identity.ts';

export const KEY_ITERATIONS = 600_000;
/** A developer secret is not secret: stretching it would only slow every app start. */
const DEV_KEY_ITERATIONS = 1;

const KEY_RECORD_PREFIX = 'fieldsync.dbkey.';
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

/** The form the database takes the key in (a string; client/sync/field-encryption.ts derives its AES key from it). */
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
  let key: string;
  try {
    key = await openKeyRecord(record, password, owner);
  } catch (error) {
    if (error instanceof WrongPasswordError) throw new PasswordChangedError();
    throw error;
  }
  await strengthen(record, password, owner);
  return key;
}

/**
 * A key record wrapped with fewer iterations than `KEY_ITERATIONS` (an earlier version's 210,000)
 * is wrapped again, the same key under the same password, once the password has opened it. On
 * disk before the caller goes on; a failure leaves the old record, which still opens.
 */
async function strengthen(record: KeyRecord, password: string, owner: KeyOwner): Promise<void> {
  if (record.kind !== 'password' || record.iterations >= KEY_ITERATIONS) return;
  try {
    const next = await rewrapKeyRecord(record, password, password, owner, 'password');
    await saveKeyRecord(owner.dbName, next.record);
  } catch {
    // kept as it was: it still opens, and the next unlock tries again
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
  const key = await openKeyRecord(record, password, owner);
  await strengthen(record, password, owner);
  return key;
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
