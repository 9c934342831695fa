/**
 * `INTEGRATIONS.orderEvent`: the order system's signed `order.completed` event becomes a
 * completed order, written through the store like any change (so the hooks make its ticket and
 * job, the audit and the replication see it). Exactly one order per order number: a replay of the
 * same event changes nothing (200 `duplicate`), another body for the same number is a 409, and
 * nothing is ever partly written.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode, HEADERS, INTEGRATIONS, patternOf, ADMIN } from '../../shared/protocol/index.ts';
import { nextRevision } from '../../shared/revision.ts';
import { readAgencySettings } from '../agencies/directory.ts';
import { orderIdFor } from '../hooks/ids.ts';
import { compact, schemaProblems } from '../hooks/workflows/support.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import type { Actor, WireDocument } from '../store/types.ts';
import { orderDigest, OrderEventError, orderFromEvent } from './event.ts';
import { orderEventSchema } from './route-schemas.ts';
import { verifySignature } from './signature.ts';

/** An order event is small; a larger body is refused before it is read. */
export const ORDER_EVENT_BODY_LIMIT = 256 * 1024;

export interface OrderIntakeRoutesOptions {
  toleranceSeconds: number;
  /** The clock the replay window is measured with (tests move it). */
  now?: () => number;
}

type Outcome = { kind: 'created' } | { kind: 'duplicate' } | { kind: 'conflict'; why: string };

export async function orderIntakeRoutes(app: FastifyInstance, options: OrderIntakeRoutesOptions): Promise<void> {
  // The signature covers the bytes as sent: the body is kept as text and parsed only once it is verified.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: ORDER_EVENT_BODY_LIMIT }, (_request, body, done) => done(null, body));
  const now = options.now ?? Date.now;

  app.post(INTEGRATIONS.orderEvent.route, { schema: orderEventSchema, bodyLimit: ORDER_EVENT_BODY_LIMIT, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const { agency } = request.params as { agency: string };
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const settings = /^[A-Za-z0-9._-]{1,64}$/.test(agency) ? await readAgencySettings(app.store, agency) : undefined;
    const secret = settings?.orderIntake?.signingSecret;
    if (!secret) {
      throw new HttpError(403, ErrorCode.INTAKE_NOT_CONFIGURED, `Agency "${agency.slice(0, 64)}" takes no order events: its administrator has not set an order signing secret (orderIntake.signingSecret, PUT ${patternOf(ADMIN.putAgency)}). Nothing was written.`);
    }
    const verdict = verifySignature({
      secret, rawBody, nowMs: now(), toleranceSeconds: options.toleranceSeconds,
      timestamp: header(request, HEADERS.signatureTimestamp), signature: header(request, HEADERS.signature),
    });
    if (!verdict.ok) {
      request.log.warn({ agency, stale: verdict.stale }, 'order event refused: signature');
      throw new HttpError(401, verdict.stale ? ErrorCode.STALE_SIGNATURE : ErrorCode.BAD_SIGNATURE, `The order event was refused: ${verdict.reason}. Nothing was written.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch (error) {
      throw new HttpError(400, ErrorCode.MALFORMED_JSON, `The order event is not valid JSON (${(error as Error).message}). Nothing was written.`);
    }
    let fields;
    try {
      fields = orderFromEvent(parsed);
    } catch (error) {
      if (!(error instanceof OrderEventError)) throw error;
      throw new HttpError(400, ErrorCode.BAD_ORDER_EVENT, `${error.message} Nothing was written.`, error.problems.map((message) => ({ message })));
    }
    const digest = orderDigest(fields);
    const id = orderIdFor(agency, fields.orderNumber);
    const doc = compact({ ...fields, id, tenantId: agency, status: 'completed', source: 'order-system', intakeDigest: digest, _deleted: false }) as Record<string, unknown>;
    const problems = schemaProblems('orders', doc);
    if (problems) throw new HttpError(400, ErrorCode.BAD_ORDER_EVENT, `The order event is not valid: ${problems}. Nothing was written.`, [{ message: problems }]);

    const actor: Actor = { kind: 'system', tenantId: agency, userId: 'order-intake' };
    let outcome: Outcome = { kind: 'created' };
    await app.store.writeBatch({
      collection: 'orders', tenantId: agency, actor,
      requests: [{
        id, incoming: { id, _deleted: false },
        // Decided inside the store's transaction: two deliveries of one event at once write it once.
        decide: (master) => {
          if (master) {
            const current = JSON.parse(master.json) as Record<string, unknown>;
            outcome = current['intakeDigest'] === digest ? { kind: 'duplicate' }
              : { kind: 'conflict', why: current['intakeDigest'] === undefined ? 'an order with this number was entered by hand in the office' : 'an earlier event for this order said something else' };
            return { action: 'noop' };
          }
          outcome = { kind: 'created' };
          return { action: 'write', doc: { ...doc, rev: nextRevision(undefined, 'intake') } as unknown as WireDocument };
        },
      }],
    });
    const result = outcome as Outcome;
    if (result.kind === 'conflict') {
      throw new HttpError(409, ErrorCode.ORDER_CONFLICT, `Order ${fields.orderNumber} exists already and ${result.why}; an order is taken once, and a changed order is not applied over it. Nothing was written: change the order in the office, or send it under a new order number.`);
    }
    request.log.info({ agency, orderNumber: fields.orderNumber, outcome: result.kind }, 'order event');
    return reply.status(result.kind === 'created' ? 201 : 200).send({ orderId: id, orderNumber: fields.orderNumber, status: result.kind });
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
