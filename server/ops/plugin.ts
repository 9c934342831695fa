import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerHealthRoutes } from './health.ts';
import { metricsPlugin } from './metrics.ts';

/**
 * Operations: `/health`, `/ready` and `/metrics`, unauthenticated (counts and names, no content).
 * Registered before the sync capability so the metrics' request hooks apply to its routes;
 * what other capabilities own (breakers, the push worker) is read when asked for.
 */
export const opsPlugin = fp(async (app: FastifyInstance) => {
  const breakerStates = () => (app.hasDecorator('integrations') && app.integrations ? app.integrations.breakerStates() : {});
  await app.register(metricsPlugin, { breakerStates, pushDecoder: () => (app.hasDecorator('pushDecoder') ? app.pushDecoder : undefined) });
  registerHealthRoutes(app, app.store, { breakerStates });
}, {
  name: 'fieldsync-ops', fastify: '5.x',
  dependencies: ['fieldsync-http', 'fieldsync-store', 'fieldsync-hooks'],
  decorators: { fastify: ['io', 'store', 'workflows', 'hookRunner'] },
});
