import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { TECHNICIAN_LIST_READERS } from '../../shared/access/rules.ts';
import { ErrorCode, FIELD_SERVICE, FIELD_SERVICE_BASE_PATH } from '../../shared/protocol/index.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { TechnicianDirectory } from '../hooks/workflows/technicians.ts';
import { techniciansSchema } from './route-schemas.ts';

const READERS: ReadonlySet<string> = new Set(TECHNICIAN_LIST_READERS);

/**
 * `GET FIELD_SERVICE.technicians`: the technicians the office may name in a job's `assigneeId`
 * (shared/access/rules.ts: a technician the server knows by their position fixes), as the
 * workflows that assign jobs know them, with how many open jobs each has. Ids and times only:
 * where a technician is stays with dispatch and the admin (gps_points' read rules).
 */
async function fieldServiceRoutes(app: FastifyInstance, options: { auth: Authenticator }): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  const directory = new TechnicianDirectory();
  app.get(FIELD_SERVICE.technicians.route, { schema: techniciansSchema }, async (request) => {
    const identity = request.identity;
    if (!READERS.has(identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `The list of technicians is for ${TECHNICIAN_LIST_READERS.join(' and ')}; you are signed in as ${identity.role}.`);
    }
    const candidates = await directory.candidates(app.store, identity.tenantId);
    return {
      technicians: candidates.map((c) => ({ id: c.id, lastFixAt: c.recordedAt, openJobs: c.openJobs })).sort((a, b) => a.id.localeCompare(b.id)),
    };
  });
}

/** `FIELD_SERVICE`: the field-service office's reads. */
export const fieldServicePlugin = fp(async (app: FastifyInstance) => {
  await app.register(fieldServiceRoutes, { prefix: FIELD_SERVICE_BASE_PATH, auth: app.authenticator });
}, {
  name: 'fieldsync-field-service', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-auth'],
  decorators: { fastify: ['store', 'authenticator'] },
});
