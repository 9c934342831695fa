import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { adminRoutes } from './dead-letters.ts';
import { ADMIN_BASE_PATH } from '../../shared/protocol/index.ts';

/** `ADMIN_BASE_PATH` dead letters and quarantine: what an agency's admin needs when server-side work went wrong. */
export const adminPlugin = fp(async (app: FastifyInstance) => {
  await app.register(adminRoutes, { prefix: ADMIN_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-admin', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-hooks'],
  decorators: { fastify: ['store', 'authenticator', 'hookRunner'] },
});
