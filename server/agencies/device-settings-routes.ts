import type { FastifyInstance } from 'fastify';
import { AGENCY, type DeviceSettingsBody } from '../../shared/protocol/index.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { attachmentSettingsInForce } from './attachment-settings.ts';
import { readAgencySettings } from './directory.ts';
import { deviceSettingsSchema } from './route-schemas.ts';

export interface DeviceSettingsRoutesOptions {
  auth: Authenticator;
  /** The server's upload limit (`ATTACHMENT_MAX_BYTES`): the photo size answered never exceeds it. */
  attachmentMaxBytes: number;
}

/**
 * `AGENCY.deviceSettings`, under `AGENCY_BASE_PATH`: what any signed-in user's device needs of its
 * agency's settings (crew tablets: the favourites first in the pick-lists; crew and technicians:
 * the photo size the capture resizes to). Only settings that are not secret are named here, one
 * by one; the rest of the settings stay the admin's. The device credential reads nothing here.
 */
export async function deviceSettingsRoutes(app: FastifyInstance, options: DeviceSettingsRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.get(AGENCY.deviceSettings.route, { schema: deviceSettingsSchema, ...CHECKED_BY_HANDLER }, async (request, reply): Promise<DeviceSettingsBody> => {
    const saved = await readAgencySettings(app.store, request.identity.tenantId);
    void reply.header('cache-control', 'no-store');
    return { favourites: saved?.favourites ?? {}, attachments: attachmentSettingsInForce(saved?.attachments, options.attachmentMaxBytes) };
  });
}
