import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { ROLES, type Role } from '../../shared/protocol/index.ts';

/**
 * Access tokens: HS256 JWTs. jose signs them; verification is synchronous (node:crypto HMAC)
 * because the `Authenticator` interface is synchronous and other modules (the live feed's
 * socket.io handshake) call it that way. The verifier accepts exactly one algorithm, HS256, and
 * exactly our issuer and audience, so `alg: none`, algorithm confusion and tokens minted for
 * something else are refused.
 */
export const TOKEN_ISSUER = 'fieldsync';
export const TOKEN_AUDIENCE = 'fieldsync-api';
/** Same pattern as development tokens: safe in logs, rooms and SQL parameters. */
export const CLAIM_TEXT = /^[A-Za-z0-9_.@:-]{1,64}$/;
const MAX_TOKEN_LENGTH = 4096;

export interface AccessClaims {
  /** The user id (`cli:<role>@<device>` for tokens minted by `npm run token`). */
  sub: string;
  tenant: string;
  role: Role;
  unit?: string;
  technician?: string;
  device: string;
  /** The session: logout and revocation end it, and with it every token that names it. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

export type TokenProblem = 'malformed' | 'signature' | 'expired' | 'claims';

export class TokenError extends Error {
  constructor(readonly problem: TokenProblem, message: string) {
    super(message);
  }
}

export async function signAccessToken(secret: Uint8Array, claims: Omit<AccessClaims, 'jti' | 'iat' | 'exp'>, ttlSeconds: number, nowMs = Date.now()): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const { sub, ...custom } = claims;
  return new SignJWT({ ...custom })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(sub)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(secret);
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed', 'token part is not base64url JSON');
  }
}

const B64URL = /^[A-Za-z0-9_-]+$/;

export function verifyAccessToken(token: string, secret: Uint8Array, nowMs = Date.now()): AccessClaims {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('malformed', 'token too long');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw new TokenError('malformed', 'not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new TokenError('malformed', 'header is not an object');
  const { alg, typ, crit, ...rest } = header as Record<string, unknown>;
  if (alg !== 'HS256' || (typ !== undefined && typ !== 'JWT') || crit !== undefined || Object.keys(rest).length > 0) {
    throw new TokenError('signature', 'only HS256 tokens of this server are accepted');
  }
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('signature', 'bad signature');

  const payload = decodeJson(p);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new TokenError('claims', 'payload is not an object');
  const c = payload as Record<string, unknown>;
  const now = Math.floor(nowMs / 1000);
  if (typeof c['exp'] !== 'number' || typeof c['iat'] !== 'number') throw new TokenError('claims', 'exp and iat are required');
  if (c['exp'] <= now) throw new TokenError('expired', 'token expired');
  if (typeof c['nbf'] === 'number' && c['nbf'] > now) throw new TokenError('claims', 'token not valid yet');
  if (c['iss'] !== TOKEN_ISSUER) throw new TokenError('claims', 'wrong issuer');
  const aud = c['aud'];
  if (!(aud === TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(TOKEN_AUDIENCE)))) throw new TokenError('claims', 'wrong audience');
  const text = (name: string, required: boolean): string | undefined => {
    const value = c[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || !CLAIM_TEXT.test(value)) throw new TokenError('claims', `claim ${name} is missing or malformed`);
    return value;
  };
  const role = text('role', true)!;
  if (!(ROLES as readonly string[]).includes(role)) throw new TokenError('claims', 'unknown role');
  const unit = text('unit', false);
  const technician = text('technician', false);
  return {
    sub: text('sub', true)!, tenant: text('tenant', true)!, role: role as Role, device: text('device', true)!, sid: text('sid', true)!,
    jti: typeof c['jti'] === 'string' ? c['jti'] : '', iat: c['iat'], exp: c['exp'],
    ...(unit ? { unit } : {}), ...(technician ? { technician } : {}),
  };
}
