import type { FastifyRequest } from 'fastify';
import { ROLES, type Identity, type Role } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';

export interface Authenticator {
  /** Returns the caller's identity or throws a 401 HttpError saying why. */
  authenticate(token: string | undefined): Identity;
  /** The identity plus what long-lived connections need to re-check it (signed tokens only). */
  authenticateSession?(token: string | undefined): AuthenticatedSession;
  /** Called with the tenant whenever sessions were revoked, so open connections can be re-checked at once. */
  onRevoked?(listener: (tenantId: string) => void): () => void;
  /** Whether the session of a connection is still valid (not logged out, revoked or expired). */
  isSessionValid?(session: AuthenticatedSession): boolean;
}

export interface AuthenticatedSession {
  identity: Identity;
  /** Signed tokens: the login session (logout and revocation end it). */
  sessionId?: string;
  /** Signed tokens: when the token expires, in ms since the epoch. */
  expiresAt?: number;
}

const TOKEN_PART = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * Development tokens: `dev:<tenant>:<role>:<device>[:<unit or technician>]`. They carry the same
 * identity a signed token will, so pull, push and the stream are already scoped by it.
 */
export function devTokenAuthenticator(): Authenticator {
  return {
    authenticate(token) {
      if (!token) throw new HttpError(401, 'UNAUTHENTICATED', 'Send Authorization: Bearer <token>.');
      const parts = token.split(':');
      if (parts[0] !== 'dev' || parts.length < 4 || parts.length > 5 || !parts.slice(1).every((p) => TOKEN_PART.test(p))) {
        throw new HttpError(401, 'BAD_TOKEN', 'The token is not valid; log in again to get a new one.');
      }
      const [, tenantId, role, deviceId, subject] = parts as [string, string, string, string, string | undefined];
      if (!(ROLES as readonly string[]).includes(role)) {
        throw new HttpError(401, 'BAD_TOKEN', `The token names an unknown role "${role}".`);
      }
      const identity: Identity = { tenantId, role: role as Role, deviceId, userId: `${role}@${deviceId}` };
      if (subject && role === 'crew') identity.unitId = subject;
      if (subject && role === 'technician') identity.technicianId = subject;
      return identity;
    },
  };
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function devToken(identity: { tenantId: string; role: Role; deviceId: string; subject?: string }): string {
  return ['dev', identity.tenantId, identity.role, identity.deviceId, ...(identity.subject ? [identity.subject] : [])].join(':');
}
