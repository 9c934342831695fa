/**
 * Sealed attachment bytes. A signature or photo waits on the device in the service worker's
 * outbound queue until it is uploaded, and the service worker uploads it with the app closed and
 * locked, so it holds no key: like a queued document (envelope.ts), the bytes are sealed with the
 * device's transport key, which the server also holds, and uploaded sealed (tus, docs/protocol.md
 * "Attachments"); the server opens them before it checks the hash, type and size.
 *
 *   sealed = iv (12 bytes) ‖ AES-256-GCM(ciphertext ‖ tag (16 bytes))
 *
 * The additional data binds the format version, key id, collection, document id and the SHA-256
 * of the clear bytes, so sealed bytes cannot be replayed as another attachment, another
 * document's, or under another key id. Sealed is exactly 28 bytes longer than clear.
 *
 * WebCrypto only: the same code runs in pages, workers, service workers and Node 20.
 */
export const SEALED_BYTES_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What sealing adds to the length of the bytes. */
export const SEALED_BYTES_OVERHEAD = IV_BYTES + TAG_BYTES;

/** Which attachment the bytes are: bound into the seal. */
export interface SealedBytesContext {
  kid: string;
  collection: string;
  docId: string;
  /** 64 lowercase hex: the SHA-256 of the clear bytes. */
  sha256: string;
}

/** Sealed bytes that do not open: cut, altered, or sealed for another attachment or key. */
export class SealedBytesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedBytesError';
  }
}

function additionalData(context: SealedBytesContext): Uint8Array<ArrayBuffer> {
  // JSON, so no separator inside an id can make two different contexts look alike.
  return new TextEncoder().encode(JSON.stringify(['fieldsync-attachment', SEALED_BYTES_VERSION, context.kid, context.collection, context.docId, context.sha256]));
}

export async function sealBytes(key: CryptoKey, context: SealedBytesContext, clear: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(context) }, key, clear));
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return out;
}

/** The clear bytes; `SealedBytesError` when they do not open for this context. */
export async function openSealedBytes(key: CryptoKey, context: SealedBytesContext, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (sealed.length < SEALED_BYTES_OVERHEAD) throw new SealedBytesError(`The sealed attachment ${context.sha256} is ${sealed.length} bytes: shorter than its seal (${SEALED_BYTES_OVERHEAD}).`);
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.slice(0, IV_BYTES), additionalData: additionalData(context) }, key, sealed.slice(IV_BYTES));
    return new Uint8Array(plain);
  } catch {
    throw new SealedBytesError(`The sealed attachment ${context.sha256} of ${context.collection} ${context.docId} does not open: it was cut or altered, or sealed for another attachment, document or key.`);
  }
}

/** The SHA-256 of `bytes`, 64 lowercase hex (the attachment's name everywhere). */
export async function sha256HexOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
