import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATE_REPORTING_BASE_PATH } from '../../shared/protocol/index.ts';
import { stateReportingRoutes } from './routes.ts';

/** `STATE_REPORTING`: the DEMDataSet, batches of EMSDataSet exports, and their submission to the state. */
export const stateReportingPlugin = fp(async (app: FastifyInstance) => {
  await app.register(stateReportingRoutes, { prefix: STATE_REPORTING_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-state-reporting', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-hooks'],
  decorators: { fastify: ['store', 'authenticator', 'identities', 'hookRunner'] },
});
