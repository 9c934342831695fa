/**
 * The signature of an integration event (docs/protocol.md §28): HMAC-SHA256 under the agency's
 * key over `<timestamp>.<raw body>`, hex, sent as `sha256=<hex>` with the timestamp (Unix
 * seconds) in its own header. The timestamp is inside the signed bytes, so a captured request
 * cannot be given a fresh one; the replay window refuses an old one; the comparison takes the
 * same time whatever the bytes (no timing oracle for forging a signature byte by byte).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_SCHEME = 'sha256=';

/** What a sender puts in `x-fieldsync-signature` (also what the tests and the docs' recipe use). */
export function signEvent(secret: string, timestamp: number | string, rawBody: string | Buffer): string {
  return SIGNATURE_SCHEME + createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; stale: boolean; reason: string };

/**
 * Whether the headers sign this body under `secret` within `toleranceSeconds` of `nowMs`.
 * The timestamp is checked first and named in the answer; the signature check never says which
 * byte differed.
 */
export function verifySignature(options: {
  secret: string; rawBody: string | Buffer; timestamp: string | undefined; signature: string | undefined; nowMs: number; toleranceSeconds: number;
}): SignatureVerdict {
  const { timestamp, signature } = options;
  if (!timestamp || !/^[0-9]{1,12}$/.test(timestamp)) {
    return { ok: false, stale: false, reason: 'x-fieldsync-timestamp is missing or not Unix seconds (digits only)' };
  }
  if (!signature || !signature.startsWith(SIGNATURE_SCHEME)) {
    return { ok: false, stale: false, reason: `x-fieldsync-signature is missing or does not start with "${SIGNATURE_SCHEME}"` };
  }
  const skew = Math.abs(options.nowMs / 1000 - Number(timestamp));
  if (skew > options.toleranceSeconds) {
    return {
      ok: false, stale: true,
      reason: `the timestamp ${timestamp} is ${Math.round(skew)} s from this server's clock; at most ${options.toleranceSeconds} s are accepted (sign each request when it is sent, and keep the sender's clock in time)`,
    };
  }
  const expected = Buffer.from(signEvent(options.secret, timestamp, options.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; a length difference says nothing about the key.
  const same = given.length === expected.length && timingSafeEqual(given, expected);
  return same ? { ok: true } : { ok: false, stale: false, reason: 'the signature does not match this body and timestamp under the agency\'s signing secret' };
}
