import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerHealthRoutes } from './health.ts';
import { metricsPlugin } from './metrics.ts';
import { OpsAccess } from './ops-token.ts';

/**
 * Operations: `/health` for anyone; `/metrics`, and `/ready`'s details, for monitoring with
 * METRICS_TOKEN (server/ops/ops-token.ts).
 * Registered before the sync capability so the metrics' request hooks apply to its routes;
 * what other capabilities own (breakers, the push worker) is read when asked for.
 */
export const opsPlugin = fp(async (app: FastifyInstance) => {
  const breakerStates = () => (app.hasDecorator('integrations') && app.integrations ? app.integrations.breakerStates() : {});
  const access = new OpsAccess(app.config.metricsToken);
  await app.register(metricsPlugin, { access, breakerStates, pushDecoder: () => (app.hasDecorator('pushDecoder') ? app.pushDecoder : undefined) });
  registerHealthRoutes(app, app.store, { access, breakerStates });
}, {
  name: 'fieldsync-ops', fastify: '5.x',
  dependencies: ['fieldsync-http', 'fieldsync-store', 'fieldsync-hooks'],
  decorators: { fastify: ['io', 'store', 'workflows', 'hookRunner'] },
});
