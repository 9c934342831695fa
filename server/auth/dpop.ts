/**
 * Checking DPoP proofs (RFC 9449 §4.3) with jose: the proof is a JWT signed by the key in its own
 * header (`EmbeddedJWK`), `typ: dpop+jwt`, ES256 only; it names the call (`htm`, `htu`), was made
 * recently (`iat`), is never seen twice (`jti`), and, with a credential, carries the credential's
 * hash (`ath`). Which key must have signed it is the caller's to check (the thumbprint returned
 * here against the one recorded with the credential).
 *
 * Device clocks are not trusted for ordering anywhere in fieldsync; here the proof's `iat` only
 * bounds how long its `jti` must be remembered, with a generous window (`DPOP_MAX_SKEW_S`) for
 * tablets whose clocks drift. A refused proof's answer carries the server's time (`Date`), which
 * the service worker uses to correct its `iat` (sw/queue/delivery.ts).
 */
import { calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { DPOP_ALGORITHM, DPOP_TYP, dpopTarget } from '../../shared/crypto/dpop-proof.ts';
import { ErrorCode } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';

/** How far a proof's `iat` may be from the server's clock, either way (seconds). */
export const DPOP_MAX_SKEW_S = 300;
const MAX_PROOF_LENGTH = 4096;

export interface DpopCheck {
  method: string;
  /** The absolute URL the server was called at; compared without query and fragment. */
  url: string;
  /** The credential sent with the proof; its hash must be the proof's `ath`. */
  credential?: string;
  nowMs: number;
  /** Records `jti` for the key; false when it was seen before (a replay). */
  remember(jkt: string, jti: string, expiresAtMs: number): boolean | Promise<boolean>;
}

export interface VerifiedProof {
  /** RFC 7638 thumbprint (SHA-256, base64url) of the key that signed the proof. */
  jkt: string;
  jti: string;
}

const refuse = (why: string) => new HttpError(401, ErrorCode.BAD_DPOP_PROOF, `The DPoP proof was refused: ${why}. Make a new proof for this call (RFC 9449) with the device's key.`);

export async function verifyDpopProof(proof: string | undefined, check: DpopCheck): Promise<VerifiedProof> {
  if (!proof) throw refuse('the DPoP header is missing');
  if (proof.length > MAX_PROOF_LENGTH || proof.includes(',')) throw refuse('send exactly one proof');
  let payload: Record<string, unknown>;
  let jwk: Record<string, unknown> | undefined;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: DPOP_TYP, algorithms: [DPOP_ALGORITHM] });
    payload = verified.payload as Record<string, unknown>;
    jwk = verified.protectedHeader.jwk as Record<string, unknown> | undefined;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw refuse(`it is not a valid ${DPOP_ALGORITHM} ${DPOP_TYP} signed by the key in its header (${error.code})`);
    throw error;
  }
  if (!jwk || jwk['kty'] !== 'EC' || jwk['crv'] !== 'P-256' || 'd' in jwk) throw refuse('its header must carry the public P-256 key (jwk)');
  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== 'string' || jti.length < 16 || jti.length > 128) throw refuse('jti must be a unique id of 16 to 128 characters');
  if (htm !== check.method.toUpperCase()) throw refuse(`htm is ${String(htm)}, this call is ${check.method.toUpperCase()}`);
  let target: string;
  try {
    target = typeof htu === 'string' ? dpopTarget(htu) : '';
  } catch {
    target = '';
  }
  if (target !== dpopTarget(check.url)) throw refuse(`htu is ${String(htu)}, this call is ${dpopTarget(check.url)}`);
  const now = Math.floor(check.nowMs / 1000);
  if (typeof iat !== 'number' || Math.abs(iat - now) > DPOP_MAX_SKEW_S) {
    throw refuse(`iat must be within ${DPOP_MAX_SKEW_S} s of the server's time (${new Date(check.nowMs).toISOString()}); correct the device's clock offset from this answer's Date header`);
  }
  if (check.credential !== undefined) {
    const expected = createHash('sha256').update(check.credential).digest('base64url');
    if (ath !== expected) throw refuse('ath is not the hash of the credential sent with it');
  }
  const jkt = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: String(jwk['x']), y: String(jwk['y']) }, 'sha256');
  if (!await check.remember(jkt, jti, (iat + DPOP_MAX_SKEW_S + 1) * 1000)) throw refuse('this proof was already used (jti seen before); make a new one for every call');
  return { jkt, jti };
}
