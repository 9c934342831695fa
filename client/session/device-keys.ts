/**
 * Keys this device derives from a database key (keys.ts) instead of storing: whoever
 * can open the database can open them, nobody else can, and none of them is ever written down.
 * HKDF-SHA-256 with the purpose and the database name as context, so no two uses share a key
 * (the database key itself only ever goes to RxDB's encryption).
 */
export type KeyPurpose =
  /** Wraps the transport key the server gave at sign-in (transport-key.ts). */
  | 'transport-key-wrap'
  /** Seals the autosave journal's entries in localStorage (autosave.ts). */
  | 'journal'
  /** Seals the session's access and refresh tokens wherever they are stored (sealed-session.ts). */
  | 'session-tokens';

const utf8 = (text: string) => new TextEncoder().encode(text);

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) throw new Error('A database key is hex text.');
  return new Uint8Array(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
}

/** A non-extractable AES-256-GCM key for `purpose`, from the database key of `dbName` (hex, as keys.ts hands it out). */
export async function derivedKey(databaseKey: string, dbName: string, purpose: KeyPurpose): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', fromHex(databaseKey), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8('fieldsync-device-keys/v1'), info: utf8(`${purpose}|${dbName}`) },
    material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  );
}
