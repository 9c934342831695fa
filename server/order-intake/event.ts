/**
 * The order system's `order.completed` event (docs/protocol.md §28), read into the fields of an
 * order document. What the event says is checked here and by the orders schema; nothing is
 * guessed: a field of the wrong kind is refused by name. Fields this server does not know are
 * ignored (an order system may send more than we use) and are not part of the digest.
 */
import { createHash } from 'node:crypto';
import type { Order } from '../../shared/schemas/index.ts';

export const ORDER_EVENT_TYPE = 'order.completed';

export class OrderEventError extends Error {
  constructor(readonly problems: string[]) {
    super(`The order event is not valid: ${problems.join('; ')}.`);
    this.name = 'OrderEventError';
  }
}

/** The order fields an event sets (the intake adds id, tenant, status, source and digest). */
export type OrderFromEvent = Pick<Order, 'orderNumber' | 'priority' | 'customer' | 'serviceAddress' | 'location' | 'items' | 'equipment'>;

const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const ADDRESS_KEYS = ['street', 'apartment', 'city', 'state', 'zip', 'county', 'crossStreet'] as const;
const CUSTOMER_KEYS = ['name', 'phone', 'email'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The order fields of a parsed event body; OrderEventError names every problem. */
export function orderFromEvent(body: unknown): OrderFromEvent {
  const problems: string[] = [];
  if (!isObj(body)) throw new OrderEventError(['the body must be a JSON object']);
  if (body['type'] !== ORDER_EVENT_TYPE) problems.push(`type must be "${ORDER_EVENT_TYPE}" (got ${JSON.stringify(body['type'] ?? null)})`);
  const orderId = body['orderId'];
  if (typeof orderId !== 'string' || orderId.trim() === '' || orderId.trim().length > 50) problems.push('orderId is required: the order system\'s order number, 1 to 50 characters');
  const priority = body['priority'] ?? 'normal';
  if (!(PRIORITIES as readonly unknown[]).includes(priority)) problems.push(`priority must be one of ${PRIORITIES.join(', ')}`);
  const text = (where: Obj, keys: readonly string[], path: string): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const key of keys) {
      const value = where[key];
      if (value === undefined || value === null || value === '') continue;
      if (typeof value !== 'string') problems.push(`${path}.${key} must be text`);
      else out[key] = value.trim();
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const customerIn = body['customer'];
  if (!isObj(customerIn) || typeof customerIn['name'] !== 'string' || customerIn['name'].trim() === '') problems.push('customer.name is required');
  const customer = isObj(customerIn) ? text(customerIn, CUSTOMER_KEYS, 'customer') : undefined;
  const addressIn = body['serviceAddress'];
  if (!isObj(addressIn) || typeof addressIn['street'] !== 'string' || addressIn['street'].trim() === '') problems.push('serviceAddress.street is required (where the work is done)');
  const serviceAddress = isObj(addressIn) ? text(addressIn, ADDRESS_KEYS, 'serviceAddress') : undefined;
  let location: OrderFromEvent['location'];
  const locationIn = body['location'];
  if (locationIn !== undefined && locationIn !== null) {
    const lat = isObj(locationIn) ? locationIn['lat'] : undefined;
    const lng = isObj(locationIn) ? locationIn['lng'] : undefined;
    if (typeof lat !== 'number' || typeof lng !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lng)) problems.push('location must be { "lat": number, "lng": number } in decimal degrees');
    else location = { lat, lng };
  }
  let items: OrderFromEvent['items'];
  const itemsIn = body['items'];
  if (itemsIn !== undefined && itemsIn !== null) {
    if (!Array.isArray(itemsIn)) problems.push('items must be a list');
    else {
      items = itemsIn.map((raw: unknown, i) => {
        if (!isObj(raw)) {
          problems.push(`items[${i}] must be an object`);
          return {};
        }
        const item: NonNullable<OrderFromEvent['items']>[number] = { ...text(raw, ['sku', 'description', 'serial'], `items[${i}]`) };
        const quantity = raw['quantity'];
        if (quantity !== undefined && quantity !== null) {
          if (typeof quantity !== 'number' || !Number.isInteger(quantity)) problems.push(`items[${i}].quantity must be a whole number`);
          else item.quantity = quantity;
        }
        return item;
      });
    }
  }
  if (problems.length > 0) throw new OrderEventError(problems);
  const serials = (items ?? []).filter((item) => item.serial).map((item) => ({ serial: item.serial!, ...(item.description ? { model: item.description } : {}) }));
  return {
    orderNumber: (orderId as string).trim(),
    priority: priority as OrderFromEvent['priority'],
    ...(customer ? { customer } : {}),
    ...(serviceAddress ? { serviceAddress } : {}),
    ...(location ? { location } : {}),
    ...(items && items.length > 0 ? { items } : {}),
    ...(serials.length > 0 ? { equipment: serials } : {}),
  };
}

/** JSON with keys sorted at every level: the same event in another key order has the same digest. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObj(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

/** SHA-256 (hex) of what the event says about the order: equal for a replay, different for another body. */
export function orderDigest(order: OrderFromEvent): string {
  return createHash('sha256').update(canonical(order)).digest('hex');
}
