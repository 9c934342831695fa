/**
 * Development tokens: `dev:<tenant>:<role>:<device>[:<unit or technician>]` (docs/protocol.md §3,
 * `DEV_TOKENS`). They carry the same identity a signed token does. One reading for both sides:
 * the sign-in page checks a pasted token exactly as the server will.
 */
import { ROLES, type Identity, type Role } from './identity.ts';

export const DEV_TOKEN_PREFIX = 'dev:';
const TOKEN_PART = /^[A-Za-z0-9_.@-]{1,64}$/;

export type DevTokenReading =
  | { ok: true; identity: Identity }
  /** Not `dev:` and three or four parts of letters, digits, `_ . @ -` (1–64 each). */
  | { ok: false; problem: 'malformed' }
  | { ok: false; problem: 'unknown-role'; role: string };

export function isDevToken(token: string): boolean {
  return token.startsWith(DEV_TOKEN_PREFIX);
}

export function readDevToken(token: string): DevTokenReading {
  const parts = token.split(':');
  if (`${parts[0]}:` !== DEV_TOKEN_PREFIX || parts.length < 4 || parts.length > 5 || !parts.slice(1).every((p) => TOKEN_PART.test(p))) {
    return { ok: false, problem: 'malformed' };
  }
  const [, tenantId, role, deviceId, subject] = parts as [string, string, string, string, string | undefined];
  if (!(ROLES as readonly string[]).includes(role)) return { ok: false, problem: 'unknown-role', role };
  const identity: Identity = { tenantId, role: role as Role, deviceId, userId: `${role}@${deviceId}` };
  if (subject && role === 'crew') identity.unitId = subject;
  if (subject && role === 'technician') identity.technicianId = subject;
  return { ok: true, identity };
}

export function devToken(identity: { tenantId: string; role: Role; deviceId: string; subject?: string }): string {
  return ['dev', identity.tenantId, identity.role, identity.deviceId, ...(identity.subject ? [identity.subject] : [])].join(':');
}
