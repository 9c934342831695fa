import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DISPATCH, DISPATCH_BASE_PATH, ErrorCode } from '../../shared/protocol/index.ts';
import { readAgencySettings } from '../agencies/directory.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { dispatchSettingsSchema } from './route-schemas.ts';

/** The roles whose console alerts on unacknowledged calls. */
const DISPATCH_ROLES: ReadonlySet<string> = new Set(['dispatcher', 'admin']);

/**
 * `GET DISPATCH.settings`: what a dispatch console needs from the server besides documents. The
 * server's clock (epoch ms, taken as the answer is made): the console measures its own clock's
 * offset from it (the midpoint of the request's round trip), so its call timers count from the
 * server's recorded times (the incidents' `history`) and never from its own clock's idea of now.
 * And the unacknowledged-call alert threshold: the agency's setting, else the server's default
 * (DISPATCH_ACK_ALERT_SECONDS). Consoles ask again every minute, so a change reaches them.
 */
async function dispatchRoutes(app: FastifyInstance, options: { auth: Authenticator }): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.get(DISPATCH.settings.route, { schema: dispatchSettingsSchema }, async (request) => {
    const identity = request.identity;
    if (!DISPATCH_ROLES.has(identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `The dispatch settings are for dispatchers and admins; you are signed in as ${identity.role}.`);
    }
    const agency = await readAgencySettings(app.store, identity.tenantId);
    const own = agency?.dispatch?.unacknowledgedAlertSeconds;
    return {
      unacknowledgedAlertSeconds: own ?? app.config.dispatchAckAlertSeconds,
      source: own !== undefined ? 'agency' : 'server-default',
      serverTime: Date.now(),
    };
  });
}

/** `DISPATCH`: the dispatch console's server time and settings. */
export const dispatchPlugin = fp(async (app: FastifyInstance) => {
  await app.register(dispatchRoutes, { prefix: DISPATCH_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-dispatch', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth'],
  decorators: { fastify: ['store', 'authenticator', 'config'] },
});
