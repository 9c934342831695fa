import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config.ts';
import fp from 'fastify-plugin';
import { ADMIN_BASE_PATH, AGENCY_BASE_PATH } from '../../shared/protocol/index.ts';
import { deviceSettingsRoutes } from './device-settings-routes.ts';
import { billingSettingsRoutes } from './billing-settings-routes.ts';
import { agencyRoutes } from './routes.ts';

/** `ADMIN.agency`, `ADMIN.putAgency` (and `AGENCY.deviceSettings`, what devices may read): each agency's settings (its NEMSIS identity, DEMDataSet content, state submission). */
export const agenciesPlugin = fp(async (app: FastifyInstance, options: { config: Pick<ServerConfig, 'attachmentMaxBytes'> }) => {
  await app.register(agencyRoutes, { prefix: ADMIN_BASE_PATH, auth: app.authenticator });
  await app.register(deviceSettingsRoutes, { prefix: AGENCY_BASE_PATH, auth: app.authenticator, attachmentMaxBytes: options.config.attachmentMaxBytes });
  await app.register(billingSettingsRoutes, { prefix: AGENCY_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-agencies', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth'],
  decorators: { fastify: ['store', 'authenticator'] },
});
