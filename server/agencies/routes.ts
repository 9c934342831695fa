import type { FastifyInstance } from 'fastify';
import { ADMIN, ErrorCode, patternOf } from '../../shared/protocol/index.ts';
import { actorOf } from '../auth/actor.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { readAgencySettings, saveAgencySettings } from './directory.ts';
import { getAgencySchema, putAgencySchema } from './route-schemas.ts';
import { InvalidAgencySettings, publicSettings } from './settings.ts';

export interface AgencyRoutesOptions {
  auth: Authenticator;
}

/**
 * `ADMIN.agency` / `ADMIN.putAgency`, under `ADMIN_BASE_PATH`: the admin's own agency's settings.
 * Admins only; every change is audited (`agency_settings_update`) in the transaction that stores it.
 */
export async function agencyRoutes(app: FastifyInstance, options: AgencyRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.addHook('onRequest', async (request) => {
    if (request.identity.role !== 'admin') {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `The agency's settings are an admin's; you are signed in as ${request.identity.role}. Ask your agency's administrator.`);
    }
  });

  app.get(ADMIN.agency.route, { schema: getAgencySchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const saved = await readAgencySettings(app.store, request.identity.tenantId);
    if (!saved) {
      throw new HttpError(404, ErrorCode.AGENCY_NOT_CONFIGURED, `Your agency has no settings yet: set its NEMSIS identity (name, stateId, agencyNumber, state, …) with PUT ${patternOf(ADMIN.putAgency)}.`);
    }
    const { updatedAt, ...settings } = saved;
    return { settings: publicSettings(settings), updatedAt: new Date(updatedAt).toISOString() };
  });

  app.put(ADMIN.putAgency.route, { schema: putAgencySchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const identity = request.identity;
    try {
      const settings = await saveAgencySettings(app.store, identity.tenantId, request.body, actorOf(identity), { requestId: request.id, allowedHosts: app.config.stateEndpointHosts });
      return { settings: publicSettings(settings), updatedAt: new Date().toISOString() };
    } catch (error) {
      if (!(error instanceof InvalidAgencySettings)) throw error;
      throw new HttpError(400, ErrorCode.INVALID_AGENCY_SETTINGS, `${error.message} Nothing was changed.`, error.problems.map((message) => ({ message })));
    }
  });
}
