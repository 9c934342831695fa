import type { FastifyInstance } from 'fastify';
import { ADMIN, ErrorCode, patternOf, ROLES, type Role } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { AuditEntry } from '../store/types.ts';
import { CLAIM_TEXT } from './jwt.ts';
import { requireIdentity, requireRole } from './require-identity.ts';
import { publicUser, type AuthService, type NewUser } from './service.ts';
import { BEARER, CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import {
  auditSchema, createUserResponses, enableDeviceSchema, enableUserSchema, listDevicesSchema, listUsersSchema, revokeDeviceSchema, revokeUserSchema,
} from './route-schemas.ts';

export interface AuthAdminRoutesOptions {
  service: AuthService;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_AUDIT = 1000;

const newUserSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password', 'role'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 200 },
    role: { type: 'string', enum: ROLES },
    unitId: { type: 'string', maxLength: 64 },
    technicianId: { type: 'string', maxLength: 64 },
    displayName: { type: 'string', maxLength: 100 },
  },
} as const;

/**
 * Mounted under `ADMIN_BASE_PATH`, admins only, always within the admin's own agency (another
 * agency's users and devices answer 404, as if they did not exist):
 * - `GET /users`, `POST /users` {username, password, role, unitId?, technicianId?, displayName?};
 * - `POST /users/:id/revoke` (disables the account and ends its sessions), `POST /users/:id/enable`;
 * - `GET /devices`, `POST /devices/:id/revoke` (ends its sessions, refuses its sign-ins), `POST /devices/:id/enable`;
 * - `GET /audit?documentId=&userId=&from=&to=&limit=`: the audit log (reads of PHI, writes, sign-ins, revocations).
 */
export async function authAdminRoutes(app: FastifyInstance, options: AuthAdminRoutesOptions): Promise<void> {
  const { service } = options;
  await app.register(requireIdentity, { auth: service });
  app.addHook('onRequest', requireRole('admin'));

  app.get(ADMIN.users.route, { schema: listUsersSchema }, async (request) => ({ users: (await service.identities.listUsers(request.identity.tenantId)).map(publicUser) }));

  app.post<{ Body: NewUser }>(ADMIN.createUser.route, { schema: { summary: 'Create a user', tags: ['admin'], security: BEARER, body: newUserSchema, response: createUserResponses } }, async (request, reply) => {
    const user = await service.createUser(request.identity.tenantId, { ...request.body, role: request.body.role as Role }, request.identity);
    return reply.status(201).send({ user: publicUser(user) });
  });

  app.post<{ Params: { id: string } }>(ADMIN.revokeUser.route, { schema: revokeUserSchema, ...CHECKED_BY_HANDLER }, async (request) => setUser(request.identity, request.params.id, true));
  app.post<{ Params: { id: string } }>(ADMIN.enableUser.route, { schema: enableUserSchema, ...CHECKED_BY_HANDLER }, async (request) => setUser(request.identity, request.params.id, false));

  async function setUser(identity: Parameters<AuthService['setUserRevoked']>[3], id: string, revoked: boolean) {
    if (!UUID.test(id)) throw new HttpError(400, ErrorCode.BAD_ID, `A user id is a UUID, got "${id}".`);
    if (revoked && id === identity.userId) throw new HttpError(400, ErrorCode.SELF_REVOKE, 'You cannot revoke your own account; ask another administrator.');
    const result = await service.setUserRevoked(identity.tenantId, id, revoked, identity);
    if (!result) throw new HttpError(404, ErrorCode.USER_NOT_FOUND, `There is no user ${id} in your agency. List them with GET ${patternOf(ADMIN.users)}.`);
    return { user: publicUser(result.user), sessionsRevoked: result.sessionsRevoked };
  }

  app.get(ADMIN.devices.route, { schema: listDevicesSchema }, async (request) => ({
    devices: (await service.identities.listDevices(request.identity.tenantId)).map((d) => ({
      id: d.id, lastUserId: d.lastUserId ?? null, firstSeenAt: new Date(d.firstSeenAt).toISOString(), lastSeenAt: new Date(d.lastSeenAt).toISOString(),
      ...(d.revokedAt !== undefined ? { revokedAt: new Date(d.revokedAt).toISOString() } : {}),
    })),
  }));

  app.post<{ Params: { id: string } }>(ADMIN.revokeDevice.route, { schema: revokeDeviceSchema, ...CHECKED_BY_HANDLER }, async (request) => setDevice(request.identity, request.params.id, true));
  app.post<{ Params: { id: string } }>(ADMIN.enableDevice.route, { schema: enableDeviceSchema, ...CHECKED_BY_HANDLER }, async (request) => setDevice(request.identity, request.params.id, false));

  async function setDevice(identity: Parameters<AuthService['setDeviceRevoked']>[3], id: string, revoked: boolean) {
    if (!CLAIM_TEXT.test(id)) throw new HttpError(400, ErrorCode.BAD_ID, `A device id is 1-64 letters, digits or _ . @ : -, got "${id}".`);
    const result = await service.setDeviceRevoked(identity.tenantId, id, revoked, identity);
    return {
      device: { id, ...(result.device.revokedAt !== undefined ? { revokedAt: new Date(result.device.revokedAt).toISOString() } : { revokedAt: null }) },
      sessionsRevoked: result.sessionsRevoked,
    };
  }

  app.get<{ Querystring: { documentId?: string; userId?: string; from?: string; to?: string; limit?: string } }>(ADMIN.audit.route, { schema: auditSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const q = request.query;
    if (q.documentId !== undefined && !/^[A-Za-z0-9_.@:-]{1,64}$/.test(q.documentId)) throw new HttpError(400, ErrorCode.BAD_QUERY, 'documentId is a document id (up to 64 characters).');
    if (q.userId !== undefined && !/^[A-Za-z0-9_.@:-]{1,128}$/.test(q.userId)) throw new HttpError(400, ErrorCode.BAD_QUERY, 'userId is a user id (up to 128 characters).');
    const from = instant(q.from, 'from');
    const to = instant(q.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw new HttpError(400, ErrorCode.BAD_QUERY, '`from` is after `to`.');
    const limit = q.limit === undefined ? 100 : /^[0-9]{1,5}$/.test(q.limit) && Number(q.limit) > 0 ? Math.min(Number(q.limit), MAX_AUDIT) : NaN;
    if (Number.isNaN(limit)) throw new HttpError(400, ErrorCode.BAD_QUERY, `limit is a whole number from 1 to ${MAX_AUDIT}.`);
    const entries = await app.store.queryAudit({
      tenantId: request.identity.tenantId, limit,
      ...(q.documentId ? { documentId: q.documentId } : {}), ...(q.userId ? { userId: q.userId } : {}),
      ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}),
    });
    return { entries: entries.map(auditView) };
  });
}

/** An ISO 8601 date-time or milliseconds since the epoch. */
function instant(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw new HttpError(400, ErrorCode.BAD_QUERY, `${name} must be an ISO 8601 date-time (e.g. 2026-11-22T14:00:00-05:00) or epoch milliseconds, got "${raw}".`);
  return ms;
}

function auditView(entry: AuditEntry) {
  return {
    id: entry.id, at: new Date(entry.at).toISOString(), action: entry.action, actor: entry.actor,
    ...(entry.collection ? { collection: entry.collection } : {}), ...(entry.documents ? { documents: entry.documents } : {}),
    ...(entry.causationId ? { causationId: entry.causationId } : {}), ...(entry.details ? { details: entry.details } : {}),
    hash: entry.hash,
  };
}
