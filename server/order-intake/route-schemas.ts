import { errorResponses, objectOf, pathParams } from '../http/route-schema.ts';

/** `INTEGRATIONS.orderEvent` (docs/protocol.md, section 28). */
export const orderEventSchema = {
  summary: 'The order system\'s signed order.completed event: makes the completed order (then ticket → job); idempotent by order id',
  tags: ['integrations'],
  params: pathParams({ agency: { type: 'string', description: 'The agency (tenant id) the order is for' } }),
  headers: {
    type: 'object',
    required: ['x-fieldsync-timestamp', 'x-fieldsync-signature'],
    properties: {
      'x-fieldsync-timestamp': { type: 'string', description: 'Unix seconds when the event was signed' },
      'x-fieldsync-signature': { type: 'string', description: 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the agency\'s signing secret>' },
    },
  },
  body: objectOf('`{ type: "order.completed", orderId, customer, serviceAddress, location?, priority?, items? }` (docs/protocol.md §28)'),
  response: {
    201: objectOf('The order was created: `{ orderId, orderNumber, status: "created" }`'),
    200: objectOf('The same event again: nothing changed, `{ orderId, orderNumber, status: "duplicate" }`'),
    ...errorResponses({
      400: 'Not JSON, or not a valid order event; `details` names each problem (MALFORMED_JSON, BAD_ORDER_EVENT)',
      401: 'Missing or wrong signature, or a timestamp outside the replay window (BAD_SIGNATURE, STALE_SIGNATURE)',
      403: 'The agency has no order signing secret set (INTAKE_NOT_CONFIGURED)',
      409: 'An order with this number exists with other content (ORDER_CONFLICT)',
    }),
  },
};
