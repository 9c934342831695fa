import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ATTACHMENTS, dpopCredential, ErrorCode, patternOf, SYNC, type Endpoint, type Identity, type Role } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { DeviceCredentials } from './device-credential.ts';
import { requestToken, type AuthenticatedSession, type Authenticator } from './identity.ts';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
    /** The session behind a signed token (absent for development tokens). */
    authSession: AuthenticatedSession | undefined;
    /** The caller used a device push credential (device-credential.ts): it may push, never read. */
    pushOnly: boolean;
  }
}

/**
 * The routes a device push credential is good for: delivering what the device's queue holds
 * (changes, and the bytes of attachments by tus). None of them answers with stored data.
 */
const DELIVERY_ROUTES: readonly Endpoint[] = [SYNC.push, ATTACHMENTS.createUpload, ATTACHMENTS.uploadOffset, ATTACHMENTS.appendUpload];
const DELIVERY = new Set(DELIVERY_ROUTES.map((e) => `${e.method} ${patternOf(e)}`));
const PUSH_ROUTE = patternOf(SYNC.push);

/**
 * Adds `request.identity` to every request of the scope it is registered in; a request without
 * a valid token ends here with 401. With signed tokens this also checks the revocation state of
 * the session, its user and its device, on every request.
 */
export const requireIdentity = fp(async (app: FastifyInstance, options: { auth: Authenticator; deviceCredentials?: DeviceCredentials | undefined }) => {
  if (!app.hasRequestDecorator('identity')) app.decorateRequest('identity', null as unknown as Identity);
  if (!app.hasRequestDecorator('authSession')) app.decorateRequest('authSession', undefined);
  if (!app.hasRequestDecorator('pushOnly')) app.decorateRequest('pushOnly', false);
  // A callback hook: a bearer token (nearly every request) is checked without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      if (dpopCredential(request.headers.authorization) !== undefined) {
        // A device push credential: good for pushing changes, nothing else (it must never read).
        if (!options.deviceCredentials || !DELIVERY.has(`${request.method} ${request.routeOptions.url ?? ''}`)) {
          throw new HttpError(403, ErrorCode.PUSH_ONLY_CREDENTIAL, `A device credential (Authorization: DPoP) can only push changes (POST ${PUSH_ROUTE}) and upload attachments (${patternOf(ATTACHMENTS.createUpload)}); reading needs the signed-in user's access token (Authorization: Bearer), which the app has only while unlocked.`);
        }
        options.deviceCredentials.authenticate(request).then((identity) => {
          request.identity = identity;
          request.pushOnly = true;
          done();
        }, (error: unknown) => done(error as Error));
        return;
      }
      const token = requestToken(request);
      if (options.auth.authenticateSession) {
        const session = options.auth.authenticateSession(token);
        request.identity = session.identity;
        request.authSession = session;
      } else {
        request.identity = options.auth.authenticate(token);
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
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
