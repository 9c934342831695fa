import type { FastifyInstance } from 'fastify';
import { mayEditSettings, SETTINGS_EDITORS } from '../../shared/access/rules.ts';
import { ADMIN, AGENCY, ErrorCode, patternOf } from '../../shared/protocol/index.ts';
import { actorOf } from '../auth/actor.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { readAgencySettings, saveAgencySettings } from './directory.ts';
import { billingSettingsSchema, putBillingSettingsSchema } from './route-schemas.ts';
import { InvalidAgencySettings } from './settings.ts';

export interface BillingSettingsRoutesOptions {
  auth: Authenticator;
}

/**
 * `AGENCY.billingSettings` / `AGENCY.putBillingSettings`, under `AGENCY_BASE_PATH`: the agency's
 * billing settings (billing-settings.ts) for the roles shared/access/rules.ts lets edit them
 * (admin, biller), so a biller keeps the NPI, payers and fee schedule without the admin API.
 * A PUT replaces `billing` only, checked and audited exactly like the admin's PUT of all settings.
 */
export async function billingSettingsRoutes(app: FastifyInstance, options: BillingSettingsRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.addHook('onRequest', async (request) => {
    if (!mayEditSettings(request.identity.role, 'billing')) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `The billing settings are kept by ${SETTINGS_EDITORS.billing.join(' and ')}; you are signed in as ${request.identity.role}.`);
    }
  });
  const notConfigured = () => new HttpError(404, ErrorCode.AGENCY_NOT_CONFIGURED, `Your agency has no settings yet: its administrator sets its identity first (PUT ${patternOf(ADMIN.putAgency)}), then billing can be set here.`);

  app.get(AGENCY.billingSettings.route, { schema: billingSettingsSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const saved = await readAgencySettings(app.store, request.identity.tenantId);
    if (!saved) throw notConfigured();
    void reply.header('cache-control', 'no-store');
    return { billing: saved.billing ?? null, updatedAt: new Date(saved.updatedAt).toISOString() };
  });

  app.put(AGENCY.putBillingSettings.route, { schema: putBillingSettingsSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const identity = request.identity;
    const saved = await readAgencySettings(app.store, identity.tenantId);
    if (!saved) throw notConfigured();
    try {
      // Only `billing` is replaced, in the settings as stored when the write happens (an admin's save meanwhile is kept).
      const next = await saveAgencySettings(app.store, identity.tenantId, (previous: Awaited<ReturnType<typeof readAgencySettings>>) => {
        const { updatedAt: _updatedAt, ...settings } = previous ?? saved;
        return { ...settings, billing: request.body };
      }, actorOf(identity), { requestId: request.id, allowedHosts: app.config.stateEndpointHosts });
      return { billing: next.billing ?? null, updatedAt: new Date().toISOString() };
    } catch (error) {
      if (!(error instanceof InvalidAgencySettings)) throw error;
      // Only billing's problems are this caller's to fix; each detail names its path (billing.npi, billing.payers[0].payerId, …).
      const problems = error.problems.filter((message) => message.startsWith('billing'));
      const shown = problems.length > 0 ? problems : error.problems;
      throw new HttpError(400, ErrorCode.INVALID_AGENCY_SETTINGS, `The billing settings were not saved: ${shown.join('; ')}. Nothing was changed.`, shown.map((message) => ({ message, ...(/^billing\.[A-Za-z0-9_.[\]]+/.exec(message) ? { path: /^billing\.([A-Za-z0-9_.[\]]+)/.exec(message)![1]! } : {}) })));
    }
  });
}
