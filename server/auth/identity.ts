import type { FastifyRequest } from 'fastify';
import { bearerToken, ErrorCode, readDevToken, type Identity } from '../../shared/protocol/index.ts';
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

/**
 * Development tokens: `dev:<tenant>:<role>:<device>[:<unit or technician>]`. They carry the same
 * identity a signed token will, so pull, push and the stream are already scoped by it.
 */
export function devTokenAuthenticator(): Authenticator {
  return {
    authenticate(token) {
      if (!token) throw new HttpError(401, ErrorCode.UNAUTHENTICATED, 'Send Authorization: Bearer <token>.');
      const reading = readDevToken(token);
      if (reading.ok) return reading.identity;
      throw new HttpError(401, ErrorCode.BAD_TOKEN, reading.problem === 'unknown-role'
        ? `The token names an unknown role "${reading.role}".`
        : 'The token is not valid; log in again to get a new one.');
    },
  };
}

/** The bearer token of a request (shared/protocol/headers.ts reads the header for both sides). */
export function requestToken(request: FastifyRequest): string | undefined {
  return bearerToken(request.headers.authorization);
}

/** Made in shared/protocol/dev-token.ts; here too because the server's tests and benchmarks mint them from the server's side. */
export { devToken } from '../../shared/protocol/index.ts';
