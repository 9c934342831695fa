/**
 * The demo agency's sales orders, so the technician app has work and the office has orders from
 * the quick start: two completed orders (order-completed turns each into an installation ticket
 * and ticket-created into a job for the nearest available technician, T1, known by its GPS fix,
 * seeded first), and one open order the office completes by hand.
 */
import { deterministicId, orderIdFor } from '../hooks/ids.ts';
import { addressOf, locationOf, PLACES } from './places.ts';
import { createIfMissing, type DemoSeedContext } from './write.ts';

export const DEMO_ORDER = 'SO-2001';
/** The first demo order keeps the id it had before order ids were derived from the number (a demo data directory made earlier has it). */
export const demoOrderId = (tenantId: string) => deterministicId('demo-order', tenantId, DEMO_ORDER);
export const DEMO_ORDERS_MORE = ['SO-2002', 'SO-2003'] as const;

export async function seedOrders(ctx: DemoSeedContext): Promise<void> {
  await createIfMissing(ctx, 'orders', {
    id: demoOrderId(ctx.tenantId), orderNumber: DEMO_ORDER, status: 'completed', priority: 'high', source: 'office',
    customer: { name: 'Lake Avenue Dental', phone: '(203) 555-0188', email: 'office@lakeavenuedental.example' },
    serviceAddress: addressOf(PLACES.customer), location: locationOf(PLACES.customer),
    equipment: [{ serial: 'GW-7731-0042', model: 'LTE gateway GW-7731' }, { serial: 'AP-220-1187', model: 'Wi-Fi access point AP-220' }],
    deployment: { 'Mounting': 'Server closet behind reception', 'Wi-Fi SSID': 'LAD-Office', 'Contact on site': 'Dr. Reyes' },
  });
  await createIfMissing(ctx, 'orders', {
    id: orderIdFor(ctx.tenantId, 'SO-2002'), orderNumber: 'SO-2002', status: 'completed', priority: 'normal', source: 'order-system',
    customer: { name: 'Mill Plain Veterinary', phone: '(203) 555-0114' },
    serviceAddress: addressOf(PLACES.customer2), location: locationOf(PLACES.customer2),
    items: [{ sku: 'AP-220', description: 'Wi-Fi access point AP-220', quantity: 1, serial: 'AP-220-2210' }, { sku: 'CAT6-30', description: 'Cat 6 cable, 30 m', quantity: 2 }],
    equipment: [{ serial: 'AP-220-2210', model: 'Wi-Fi access point AP-220' }],
  });
  await createIfMissing(ctx, 'orders', {
    id: orderIdFor(ctx.tenantId, 'SO-2003'), orderNumber: 'SO-2003', status: 'open', priority: 'low', source: 'office',
    customer: { name: 'Newtown Road Pharmacy', phone: '(203) 555-0170' },
    serviceAddress: addressOf(PLACES.customer3), location: locationOf(PLACES.customer3),
    items: [{ sku: 'GW-7731', description: 'LTE gateway GW-7731', quantity: 1 }],
  });
}
