/**
 * DPoP proofs (RFC 9449, "OAuth 2.0 Demonstrating Proof of Possession"): the shape in which a
 * device proves, on every call made with its push-only device credential, that it holds the
 * private key the credential is bound to. The key is an ECDSA P-256 key made on the device by
 * WebCrypto as non-extractable (client/session/device-credential.ts), so the private half cannot
 * be read out by script, copied into a token, or sent anywhere; the server checks each proof
 * (server/auth/dpop.ts) against the key's thumbprint it recorded when the credential was issued.
 *
 * jose builds and signs the JWT (header `typ: dpop+jwt`, `alg: ES256`, the public `jwk`; claims
 * `jti`, `htm`, `htu`, `iat`, and `ath` when a credential goes with it). Runs in pages, workers,
 * service workers and Node 20 alike (WebCrypto only).
 */
import { exportJWK, SignJWT } from 'jose';
import { toBase64url } from './base64url.ts';

export const DPOP_ALGORITHM = 'ES256';
export const DPOP_TYP = 'dpop+jwt';

/** The key pair's parameters for `crypto.subtle.generateKey` (private half non-extractable). */
export const DPOP_KEY_PARAMS: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

/** A new key pair whose private half can sign but never be exported. */
export function generateDpopKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(DPOP_KEY_PARAMS, false, ['sign', 'verify']);
}

/** `htu`: the call's URL without query and fragment (RFC 9449 §4.2). */
export function dpopTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** `ath`: base64url SHA-256 of the credential the proof goes with (RFC 9449 §4.2). */
export async function credentialHash(credential: string): Promise<string> {
  return toBase64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(credential))));
}

export interface DpopProofInput {
  keys: CryptoKeyPair;
  /** HTTP method of the call. */
  method: string;
  /** The absolute URL of the call (query and fragment are dropped). */
  url: string;
  /** The device credential the proof goes with (absent when asking for one). */
  credential?: string;
  /** Seconds since the epoch; the device's clock by default (the server allows some skew). */
  iat?: number;
}

/** One proof for one call: a fresh `jti` every time (the server refuses a proof seen before). */
export async function dpopProof(input: DpopProofInput): Promise<string> {
  const jwk = await exportJWK(input.keys.publicKey);
  const claims: Record<string, unknown> = { htm: input.method.toUpperCase(), htu: dpopTarget(input.url) };
  if (input.credential !== undefined) claims['ath'] = await credentialHash(input.credential);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: DPOP_ALGORITHM, typ: DPOP_TYP, jwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! } })
    .setJti(crypto.randomUUID())
    .setIssuedAt(input.iat ?? Math.floor(Date.now() / 1000))
    .sign(input.keys.privateKey);
}
