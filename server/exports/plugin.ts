import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { exportRoutes } from './nemsis.ts';
import { EPCRS_BASE_PATH } from '../../shared/protocol/index.ts';

/** `EPCRS.nemsisXml`: the NEMSIS export made when a report was finalized. */
export const exportsPlugin = fp(async (app: FastifyInstance) => {
  await app.register(exportRoutes, {
    prefix: EPCRS_BASE_PATH, auth: app.authenticator, nemsisDir: app.config.nemsisXsdDir, schematronCacheDir: app.config.schematronCacheDir,
  });
}, {
  name: 'fieldsync-exports', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-sync'],
  decorators: { fastify: ['store', 'authenticator', 'accessControl', 'config'] },
});
