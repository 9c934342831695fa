/**
 * The transport key on this device: the server's key for sealing what waits in the service
 * worker's outbound queue (client/sync/queue-seal.ts, shared/crypto/envelope.ts). The server
 * hands it out at sign-in; the device keeps it only wrapped, AES-GCM under a key derived from
 * the database key (device-keys.ts), itself stored only wrapped by the password (keys.ts). So it
 * is unwrapped exactly when the data is unlocked, offline too, and a password change leaves it
 * alone. The clear key goes to the database worker's memory and nowhere else.
 *
 * The record is kept in IndexedDB (device-records.ts), which a crash right after signing in
 * cannot lose; earlier versions kept it in localStorage, from where it is moved when first read.
 */
import { fromBase64url, toBase64url } from '../../shared/crypto/base64url.ts';
import type { RawTransportKey } from '../sync/queue-seal.ts';
import { derivedKey } from './device-keys.ts';
import { dropDeviceRecord, keepDeviceRecord, migrateFromLocalStorage } from './device-records.ts';

const RECORD_PREFIX = 'fieldsync.tkey.';

/** The transport key as this device stores it. */
interface TransportKeyRecord {
  v: 1;
  kid: string;
  /** Base64url, 12 bytes. */
  iv: string;
  /** Base64url: AES-GCM ciphertext and tag of the 32-byte key. */
  wrapped: string;
  savedAt: number;
}

const additionalData = (dbName: string, kid: string) => new TextEncoder().encode(`fieldsync-transport-key/v1|${dbName}|${kid}`);

/** Keeps the key the server just gave (sign-in), wrapped with the database key of `dbName`. */
export async function keepTransportKey(dbName: string, databaseKey: string, key: RawTransportKey): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapping = await derivedKey(databaseKey, dbName, 'transport-key-wrap');
  const wrapped = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(dbName, key.kid) }, wrapping, fromBase64url(key.key)));
  const record: TransportKeyRecord = { v: 1, kid: key.kid, iv: toBase64url(iv), wrapped: toBase64url(wrapped), savedAt: Date.now() };
  await keepDeviceRecord(RECORD_PREFIX + dbName, record);
  localStorage.removeItem(RECORD_PREFIX + dbName);
}

/** The transport key of `dbName`, unwrapped with its database key; undefined when this device has none (or it does not open). */
export async function transportKeyFor(dbName: string, databaseKey: string): Promise<RawTransportKey | undefined> {
  const record = await migrateFromLocalStorage<TransportKeyRecord>(RECORD_PREFIX + dbName).catch(() => undefined);
  if (!record) return undefined;
  localStorage.removeItem(RECORD_PREFIX + dbName);
  if (record.v !== 1) return undefined;
  try {
    const wrapping = await derivedKey(databaseKey, dbName, 'transport-key-wrap');
    const key = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(record.iv), additionalData: additionalData(dbName, record.kid) }, wrapping, fromBase64url(record.wrapped),
    ));
    return { kid: record.kid, key: toBase64url(key) };
  } catch {
    // Wrapped under another database key (the data was erased and made anew): the next sign-in brings it again.
    return undefined;
  }
}

export async function forgetTransportKey(dbName: string): Promise<void> {
  localStorage.removeItem(RECORD_PREFIX + dbName);
  await dropDeviceRecord(RECORD_PREFIX + dbName);
}
