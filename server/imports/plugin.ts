import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { EPCRS_BASE_PATH } from '../../shared/protocol/index.ts';
import { nemsisImportRoutes } from './nemsis-import.ts';
import { outcomeRoutes } from './outcome.ts';

/** What reaches a report from outside the crew: NEMSIS EMSDataSet files (`EPCRS.nemsisImport`), the hospital's outcome (`EPCRS.outcome`). */
export const importsPlugin = fp(async (app: FastifyInstance) => {
  await app.register(nemsisImportRoutes, { prefix: EPCRS_BASE_PATH, auth: app.authenticator });
  await app.register(outcomeRoutes, { prefix: EPCRS_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-imports', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-sync', 'fieldsync-attachments'],
  decorators: { fastify: ['store', 'authenticator', 'attachments'] },
});
