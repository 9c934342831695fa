import type { FastifyInstance } from 'fastify';
import { AUTH } from '../../shared/protocol/index.ts';
import { BEARER, CHECKED_BY_HANDLER, errorResponses, objectOf } from '../http/route-schema.ts';
import type { DeviceCredentials } from './device-credential.ts';
import type { Authenticator } from './identity.ts';
import { requireIdentity } from './require-identity.ts';

const issuedSchema = objectOf('A push-only device credential bound to the key that signed the DPoP proof', {
  credential: { type: 'string', description: 'dc_<id>.<secret>; send as Authorization: DPoP <credential> with a DPoP proof, on push only.' },
  tokenType: { type: 'string', enum: ['DPoP'] },
  expiresIn: { type: 'integer', description: 'Seconds.' },
  expiresAt: { type: 'string', format: 'date-time' },
  jkt: { type: 'string', description: 'RFC 7638 thumbprint (SHA-256) of the bound public key.' },
}, ['credential', 'tokenType', 'expiresIn', 'expiresAt', 'jkt']);

/**
 * `AUTH.deviceCredential` (`POST /api/auth/device-credential`, mounted under `AUTH_BASE_PATH`):
 * the signed-in (unlocked) page asks for the credential its service worker delivers the queue
 * with, proving with a DPoP proof (header `DPoP`) that it holds the key the credential is bound
 * to (device-credential.ts). Needs the user's access token: a device credential cannot renew itself.
 */
export async function deviceCredentialRoutes(app: FastifyInstance, options: { auth: Authenticator; credentials: DeviceCredentials }): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(requireIdentity, { auth: options.auth });
    scope.post(AUTH.deviceCredential.route, {
      schema: {
        summary: 'A push-only device credential bound to a key (DPoP, RFC 9449)', tags: ['auth'], security: BEARER,
        headers: { type: 'object', required: ['dpop'], properties: { dpop: { type: 'string', description: 'A DPoP proof (RFC 9449) signed by the key to bind; htm POST, htu this URL, no ath.' } } },
        response: {
          200: issuedSchema,
          ...errorResponses({
            401: 'No valid access token, or the DPoP proof is missing, malformed, replayed, for another call or too far from the server\'s time (UNAUTHENTICATED, BAD_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED, BAD_DPOP_PROOF)',
            403: 'A development token, or a device credential used to ask (FORBIDDEN, PUSH_ONLY_CREDENTIAL)',
          }),
        },
      },
      // The proof's problems have their own code (BAD_DPOP_PROOF), not the schema's generic 400.
      ...CHECKED_BY_HANDLER,
    }, async (request, reply) => {
      const issued = await options.credentials.issue(request);
      reply.header('cache-control', 'no-store');
      return issued;
    });
  });
}
