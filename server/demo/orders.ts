/**
 * A completed sales order: order-completed turns it into an installation ticket and
 * ticket-created into a job for the nearest technician, T1 (known by its GPS fix, seeded first).
 */
import { deterministicId } from '../hooks/ids.ts';
import { addressOf, locationOf, PLACES } from './places.ts';
import { createIfMissing, type DemoSeedContext } from './write.ts';

export const DEMO_ORDER = 'SO-2001';
export const demoOrderId = (tenantId: string) => deterministicId('demo-order', tenantId, DEMO_ORDER);

export async function seedOrders(ctx: DemoSeedContext): Promise<void> {
  await createIfMissing(ctx, 'orders', {
    id: demoOrderId(ctx.tenantId), orderNumber: DEMO_ORDER, status: 'completed', priority: 'high',
    customer: { name: 'Lake Avenue Dental', phone: '(203) 555-0188', email: 'office@lakeavenuedental.example' },
    serviceAddress: addressOf(PLACES.customer), location: locationOf(PLACES.customer),
    equipment: [{ serial: 'GW-7731-0042', model: 'LTE gateway GW-7731' }, { serial: 'AP-220-1187', model: 'Wi-Fi access point AP-220' }],
    deployment: { 'Mounting': 'Server closet behind reception', 'Wi-Fi SSID': 'LAD-Office', 'Contact on site': 'Dr. Reyes' },
  });
}
