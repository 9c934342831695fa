import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { actorOf } from '../auth/actor.ts';
import { ADMIN, ErrorCode, patternOf } from '../../shared/protocol/index.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { deadLettersSchema, quarantineSchema, retryDeadLetterSchema } from './route-schemas.ts';
import { readRejection, rejectionText } from '../replication/rejection-record.ts';

export interface AdminRoutesOptions {
  auth: Authenticator;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/**
 * Mounted under `ADMIN_BASE_PATH`: what an agency's admin needs when server-side work went wrong.
 * Every route is scoped to the admin's own tenant; another agency's entries do not exist here
 * (a retry of one is a 404, not a 403, so ids of other agencies cannot be probed).
 */
export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.addHook('onRequest', async (request) => {
    if (request.identity.role !== 'admin') {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `This needs the admin role; you are signed in as ${request.identity.role}. Ask your agency's administrator.`);
    }
  });

  app.get<{ Querystring: { limit?: string } }>(ADMIN.deadLetters.route, { schema: deadLettersSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const entries = await app.store.listDeadLetters(request.identity.tenantId, parseLimit(request.query.limit));
    return {
      deadLetters: entries.map((e) => ({
        id: e.id,
        kind: e.kind,
        ...(e.queue ? { queue: e.queue } : {}),
        causationId: e.causationId,
        attempts: e.attempts,
        lastError: e.lastError ?? null,
        createdAt: new Date(e.createdAt).toISOString(),
      })),
    };
  });

  app.post<{ Params: { id: string } }>(ADMIN.retryDeadLetter.route, { schema: retryDeadLetterSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const { id: raw } = request.params;
    if (!/^[1-9][0-9]{0,14}$/.test(raw)) {
      throw new HttpError(400, ErrorCode.BAD_ID, `A dead letter id is a positive whole number, got "${raw}".`);
    }
    const id = Number(raw);
    const identity = request.identity;
    const retried = await app.store.retryDeadLetter(id, identity.tenantId);
    if (!retried) {
      throw new HttpError(404, ErrorCode.DEAD_LETTER_NOT_FOUND, `There is no dead letter ${id} in your agency; it may have been retried already. List them with GET ${patternOf(ADMIN.deadLetters)}.`);
    }
    // A retry sends things to hospitals, CAD or the clearinghouse again: who asked is kept.
    await app.store.appendAudit([{ tenantId: identity.tenantId, action: 'dead_letter_retry', actor: actorOf(request.identity), details: { outboxId: id, requestId: request.id } }]);
    app.hookRunner.wake();
    return reply.status(202).send({ id, status: 'pending', message: `Dead letter ${id} is queued again and runs shortly; if it fails again it returns to the dead letters.` });
  });

  app.get<{ Querystring: { limit?: string } }>(ADMIN.quarantine.route, { schema: quarantineSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const identity = request.identity;
    const entries = await app.store.listQuarantine(identity.tenantId, parseLimit(request.query.limit));
    if (entries.length > 0) {
      // Quarantined content is patient data as a device sent it: reading it is audited like any read.
      await app.store.appendAudit([{
        tenantId: identity.tenantId, action: 'read', actor: actorOf(request.identity),
        details: { view: 'quarantine', quarantineIds: entries.map((e) => e.id), requestId: request.id },
      }]);
    }
    return {
      quarantine: entries.map((e) => ({
        id: e.id,
        collection: e.collection,
        documentId: e.documentId,
        // "<CODE>: <words>" as admins have always read it; the structured fields beside it.
        ...quarantineReason(e.reason),
        sentBy: { kind: e.actor.kind, userId: e.actor.userId ?? null, deviceId: e.actor.deviceId ?? null, role: e.actor.role ?? null },
        createdAt: new Date(e.createdAt).toISOString(),
        document: parseStored(e.json),
      })),
    };
  });
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < 1) {
    throw new HttpError(400, ErrorCode.BAD_LIMIT, `limit must be a whole number from 1 to ${MAX_LIMIT}, got "${raw}".`);
  }
  return Math.min(Number(raw), MAX_LIMIT);
}

/** Quarantine keeps what was sent; if that is not JSON it is shown as the text it is. */
function parseStored(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

function quarantineReason(kept: string): { reason: string; code: string; addendumId?: string } {
  const rejection = readRejection(kept);
  return { reason: rejectionText(rejection), code: rejection.code, ...(rejection.addendumId !== undefined ? { addendumId: rejection.addendumId } : {}) };
}
