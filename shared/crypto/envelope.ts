/**
 * Sealed documents. A document that waits on a device outside its encrypted database (the
 * service worker's outbound queue, sw/queue/) is kept as an envelope: AES-256-GCM under the
 * device's transport key, which the server also holds (issued at sign-in, server/auth/
 * transport-keys.ts). The service worker stores and sends envelopes without ever opening them,
 * so it needs no key and no password; the server opens them (server/replication/envelopes.ts)
 * before anything else looks at a push.
 *
 *   { "id": "<document id>", "$enc": { "v": 1, "kid": "<key id>", "iv": "<12 bytes>", "ct": "<ciphertext+tag>" } }
 *
 * The additional data binds the version, key id, collection and document id, so a ciphertext
 * cannot be replayed as another document or another collection, nor under another key id.
 * The document id stays in clear: the queue is keyed by it and refusals name it; ids are random
 * and say nothing about the patient.
 *
 * WebCrypto only (`globalThis.crypto.subtle`): the same code runs in pages, workers, service
 * workers and Node 20.
 */
import { fromBase64url, toBase64url } from './base64url.ts';

export const ENVELOPE_VERSION = 1;
export const TRANSPORT_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID = /^[A-Za-z0-9_-]{8,64}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

export interface Envelope {
  id: string;
  $enc: { v: typeof ENVELOPE_VERSION; kid: string; iv: string; ct: string };
}

/** A transport key ready to use: its id (sent in every envelope) and the imported AES-GCM key. */
export interface SealingKey {
  kid: string;
  key: CryptoKey;
}

/** An envelope that cannot be opened: malformed, sealed for another document, or tampered with. */
export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** Anything claiming to be sealed (a `$enc` member), well-formed or not: never to be read as a document. */
export function looksSealed(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '$enc' in value;
}

/** A well-formed envelope (its content is not checked until it is opened). */
export function isEnvelope(value: unknown): value is Envelope {
  if (!looksSealed(value)) return false;
  const { id, $enc, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof id !== 'string' || id.length === 0 || id.length > 128) return false;
  if (typeof $enc !== 'object' || $enc === null) return false;
  const { v, kid, iv, ct, ...extra } = $enc as Record<string, unknown>;
  return Object.keys(extra).length === 0 && v === ENVELOPE_VERSION && typeof kid === 'string' && KID.test(kid)
    && typeof iv === 'string' && iv.length === 16 && B64URL.test(iv)
    && typeof ct === 'string' && ct.length >= 22 && B64URL.test(ct);
}

/** The key id an envelope names, if it is well-formed enough to name one. */
export function kidOf(value: unknown): string | undefined {
  if (!looksSealed(value)) return undefined;
  const kid = ((value as { $enc?: { kid?: unknown } }).$enc ?? {}).kid;
  return typeof kid === 'string' && KID.test(kid) ? kid : undefined;
}

export function isKeyId(kid: string): boolean {
  return KID.test(kid);
}

/** Imports a raw 256-bit transport key (base64url or bytes) as a non-extractable AES-GCM key. */
export async function importTransportKey(raw: string | Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const bytes = typeof raw === 'string' ? fromBase64url(raw) : raw;
  if (bytes.length !== TRANSPORT_KEY_BYTES) throw new EnvelopeError(`A transport key has ${TRANSPORT_KEY_BYTES} bytes, not ${bytes.length}.`);
  return crypto.subtle.importKey('raw', bytes, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

function additionalData(kid: string, collection: string, id: string): Uint8Array<ArrayBuffer> {
  // JSON, so no separator inside an id can make two different triples look alike.
  return new TextEncoder().encode(JSON.stringify(['fieldsync-envelope', ENVELOPE_VERSION, kid, collection, id]));
}

/** Seals `doc` (which must have a string `id`) for `collection`. */
export async function sealDocument(key: SealingKey, collection: string, doc: Record<string, unknown>): Promise<Envelope> {
  const id = doc['id'];
  if (typeof id !== 'string' || id === '') throw new EnvelopeError(`Only a document with an id can be sealed (${collection}).`);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const plain = new TextEncoder().encode(JSON.stringify(doc));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(key.kid, collection, id) }, key.key, plain));
  return { id, $enc: { v: ENVELOPE_VERSION, kid: key.kid, iv: toBase64url(iv), ct: toBase64url(ct) } };
}

/**
 * Opens an envelope of `collection` with `key` (the key its `kid` names). Throws `EnvelopeError`
 * when it is malformed, was sealed for another collection or document, or was altered.
 */
export async function openEnvelope(key: CryptoKey, collection: string, envelope: unknown): Promise<Record<string, unknown>> {
  if (!isEnvelope(envelope)) throw new EnvelopeError('The sealed document is malformed (expected {"id", "$enc": {"v": 1, "kid", "iv", "ct"}}).');
  const { id, $enc } = envelope;
  const iv = fromBase64url($enc.iv);
  const ct = fromBase64url($enc.ct);
  if (iv.length !== IV_BYTES || ct.length < TAG_BYTES) throw new EnvelopeError('The sealed document is malformed (iv or ciphertext too short).');
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: additionalData($enc.kid, collection, id) }, key, ct);
  } catch {
    throw new EnvelopeError(`The sealed ${collection} document ${id} does not open: it was altered, or sealed for another document or collection.`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw new EnvelopeError(`The sealed ${collection} document ${id} holds no JSON document.`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc as Record<string, unknown>)['id'] !== id) {
    throw new EnvelopeError(`The sealed ${collection} document ${id} holds something else than that document.`);
  }
  return doc as Record<string, unknown>;
}
