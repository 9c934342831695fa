import type { FastifyInstance } from 'fastify';
import { ErrorCode, NoticeCode, SYNC, type RejectionEntry, type RejectionsResponse } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/types.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { rejectionsSchema } from './route-schemas.ts';
import { readRejection } from './rejection-record.ts';

const MAX_LIMIT = 500;

/**
 * `SYNC.rejections` (`GET …/rejections?since=<id>&limit=<n>`): the writes of the calling device that the
 * server refused (its quarantine entries), oldest first, with the reason to show. Only the
 * entries of the signed-in user on this device, in its own agency, both as the token names
 * them: a device id alone is the device's own claim at sign-in, so another user signing in with
 * it sees none of them. The refused content itself is not sent back (the device still has it).
 */
export function registerRejectionsRoute(app: FastifyInstance, store: Store): void {
  app.get<{ Querystring: { since?: string; limit?: string } }>(SYNC.rejections.route, { schema: rejectionsSchema, ...CHECKED_BY_HANDLER }, async (request): Promise<RejectionsResponse> => {
    const since = wholeNumber(request.query.since, 'since', 0);
    const limit = Math.min(wholeNumber(request.query.limit, 'limit', 100) || 100, MAX_LIMIT);
    const identity = request.identity;
    const entries = await store.findQuarantine({ tenantId: identity.tenantId, deviceId: identity.deviceId, userId: identity.userId, afterId: since, limit });
    const rejections: RejectionEntry[] = entries.map((entry) => {
      let rev: unknown;
      try {
        rev = (JSON.parse(entry.json) as { rev?: unknown }).rev;
      } catch {
        rev = undefined;
      }
      // The structured rejection push kept (rejection-record.ts): its fields as they were made.
      const rejection = readRejection(entry.reason);
      return {
        id: entry.id, collection: entry.collection, documentId: entry.documentId, code: rejection.code, reason: rejection.reason,
        ...(typeof rev === 'string' ? { rev } : {}), ...(rejection.addendumId !== undefined ? { addendumId: rejection.addendumId } : {}),
        at: new Date(entry.createdAt).toISOString(),
      };
    });
    return { rejections, since: rejections.at(-1)?.id ?? since };
  });
}

function wholeNumber(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,15}$/.test(raw)) throw new HttpError(400, ErrorCode.BAD_QUERY, `${name} must be a whole number, got "${raw}".`);
  return Number(raw);
}
