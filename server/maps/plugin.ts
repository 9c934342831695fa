import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MAPS_BASE_PATH } from '../../shared/protocol/index.ts';
import { mapRoutes } from './routes.ts';

/** `MAPS.*`: the agency's map (tile archive by range, offline area), and its geocoder and router through the server. */
export const mapsPlugin = fp(async (app: FastifyInstance) => {
  await app.register(mapRoutes, { prefix: MAPS_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-maps', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth'],
  decorators: { fastify: ['store', 'authenticator'] },
});
