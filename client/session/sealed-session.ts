/**
 * The session's tokens at rest (issue #17): the access token and the refresh token read patient
 * data (the refresh token for 30 days, from any machine), so the device keeps them only sealed,
 * AES-256-GCM under a key derived from the database key (device-keys.ts), itself stored only
 * wrapped by the user's password (keys.ts). Without the unlock they cannot be used; a copied
 * browser profile holds ciphertext. The clear tokens live in the memory of unlocked pages only
 * (session.ts); the service worker delivers with a push-only credential instead
 * (device-credential.ts).
 */
import { fromBase64url, toBase64url } from '../../shared/crypto/base64url.ts';
import { derivedKey } from './device-keys.ts';

export interface SessionTokens {
  accessToken: string;
  refreshToken?: string;
}

/** The tokens as stored: ciphertext only. */
export interface SealedTokens {
  v: 1;
  /** Base64url, 12 bytes. */
  iv: string;
  /** Base64url: AES-GCM ciphertext and tag of the tokens' JSON. */
  ct: string;
}

const additionalData = (dbName: string) => new TextEncoder().encode(`fieldsync-session-tokens/v1|${dbName}`);

export async function sealTokens(databaseKey: string, dbName: string, tokens: SessionTokens): Promise<SealedTokens> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await derivedKey(databaseKey, dbName, 'session-tokens');
  const clear = new TextEncoder().encode(JSON.stringify({ accessToken: tokens.accessToken, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) }));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(dbName) }, key, clear));
  return { v: 1, iv: toBase64url(iv), ct: toBase64url(ct) };
}

/** The tokens, if `databaseKey` opens them; undefined otherwise (sealed under another key: the data was erased and made anew). */
export async function openTokens(databaseKey: string, dbName: string, sealed: SealedTokens): Promise<SessionTokens | undefined> {
  if (sealed.v !== 1) return undefined;
  try {
    const key = await derivedKey(databaseKey, dbName, 'session-tokens');
    const clear = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64url(sealed.iv), additionalData: additionalData(dbName) }, key, fromBase64url(sealed.ct));
    const tokens = JSON.parse(new TextDecoder().decode(clear)) as SessionTokens;
    return typeof tokens.accessToken === 'string' ? tokens : undefined;
  } catch {
    return undefined;
  }
}
