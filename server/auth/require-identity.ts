import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCode, type Identity, type Role } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import { requestToken, type AuthenticatedSession, type Authenticator } from './identity.ts';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
    /** The session behind a signed token (absent for development tokens). */
    authSession: AuthenticatedSession | undefined;
  }
}

/**
 * Adds `request.identity` to every request of the scope it is registered in; a request without
 * a valid token ends here with 401. With signed tokens this also checks the revocation state of
 * the session, its user and its device, on every request.
 */
export const requireIdentity = fp(async (app: FastifyInstance, options: { auth: Authenticator }) => {
  if (!app.hasRequestDecorator('identity')) app.decorateRequest('identity', null as unknown as Identity);
  if (!app.hasRequestDecorator('authSession')) app.decorateRequest('authSession', undefined);
  app.addHook('onRequest', async (request) => {
    const token = requestToken(request);
    if (options.auth.authenticateSession) {
      const session = options.auth.authenticateSession(token);
      request.identity = session.identity;
      request.authSession = session;
    } else {
      request.identity = options.auth.authenticate(token);
    }
  });
});

/** A hook refusing callers whose role is not one of `roles` (register it after requireIdentity). */
export function requireRole(...roles: Role[]) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!roles.includes(request.identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `This needs the ${roles.join(' or ')} role; you are signed in as ${request.identity.role}. Ask your agency's administrator.`);
    }
  };
}
