/**
 * Order → installation ticket → job, end to end with real RxDB clients: the sales system delivers
 * a completed order, the ticket appears in the office app, and the job lands, assigned, on the
 * phone of the technician nearest to the site (least loaded among those about as near).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { jobIdFor, ticketIdFor } from '../../../server/hooks/workflows/index.ts';
import type { GpsPoint, Job, Order, Ticket } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import { offsetTime } from '../../helpers/factories.ts';
import type { TestServer } from '../../helpers/server.ts';
import { fakeIntegrations, settled, startHookServer, stored, systemWrite } from './support.ts';

const TENANT = 'telco-east';
const SITE = { lat: 41.39, lng: -73.45 };
const FAR_SITE = { lat: 41.6, lng: -73.1 };

let server: TestServer;
let office: TestDevice;
const techs: Record<'ana' | 'ben' | 'cy', TestDevice> = {} as never;

async function local<T>(device: TestDevice, collection: string, id: string): Promise<T | undefined> {
  const doc = await device.db.collections[collection]!.findOne(id).exec();
  return doc ? (doc.toJSON() as T) : undefined;
}

function fix(technicianId: string, position: { lat: number; lng: number }, minutesAgo: number): Omit<GpsPoint, 'rev'> {
  return {
    id: randomUUID(), tenantId: TENANT, sourceType: 'technician', sourceId: technicianId, ...position,
    recordedAt: offsetTime(new Date(Date.now() - minutesAgo * 60_000)),
  };
}

function order(orderNumber: string, location: { lat: number; lng: number }, priority: Order['priority']): Omit<Order, 'rev'> {
  return {
    id: randomUUID(), tenantId: TENANT, orderNumber, status: 'open', priority,
    customer: { name: 'Danbury Dental LLC', phone: '203-555-0142' },
    serviceAddress: { street: '12 Main Street', city: 'Danbury', state: 'CT', zip: '06810' },
    location, equipment: [{ serial: `ONT-${orderNumber}`, model: 'XGS-PON ONT' }, { serial: `RTR-${orderNumber}` }],
    deployment: { vlan: '210', ssid: 'DanburyDental' },
  };
}

/** Orders come from the sales system (no device role may write them): open first, then completed. */
async function complete(o: Omit<Order, 'rev'>, tenantId = TENANT): Promise<void> {
  await systemWrite(server, 'orders', tenantId, { ...o, tenantId, _deleted: false });
  await systemWrite(server, 'orders', tenantId, { ...o, tenantId, status: 'completed', _deleted: false });
}

async function jobOn(device: TestDevice, orderId: string): Promise<Job> {
  const id = jobIdFor(TENANT, ticketIdFor(TENANT, orderId));
  return eventually(`job ${id} on ${device.deviceId}`, () => local<Job>(device, 'jobs', id));
}

beforeAll(async () => {
  server = await startHookServer({ integrations: fakeIntegrations() });
  office = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'admin', deviceId: 'office' }), collections: ['orders', 'tickets'] });
  for (const name of ['ana', 'ben', 'cy'] as const) {
    techs[name] = await createDevice({
      serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'technician', deviceId: `phone-${name}`, subject: name }),
      collections: ['gps_points', 'jobs'], deviceId: `phone-${name}`,
    });
  }
  // Last known positions: ana ~55 m from the site, ben ~130 m, cy 38 km away. Earlier fixes
  // say otherwise (cy was at the site this morning, ana far away): only the latest one counts.
  await techs.ana.writer.bulkInsert('gps_points', [fix('ana', { lat: 42.0, lng: -72.0 }, 90)]);
  await techs.ana.writer.bulkInsert('gps_points', [fix('ana', { lat: 41.3905, lng: -73.45 }, 1)]);
  await techs.ben.writer.bulkInsert('gps_points', [fix('ben', { lat: 41.3912, lng: -73.45 }, 2)]);
  await techs.cy.writer.bulkInsert('gps_points', [fix('cy', SITE, 240)]);
  await techs.cy.writer.bulkInsert('gps_points', [fix('cy', { lat: 41.6004, lng: -73.1 }, 3)]);
  await Promise.all(Object.values(techs).map((t) => t.sync.awaitInSync()));
  await eventually('all fixes on the server', async () => (await server.app.store.countDocuments('gps_points', TENANT)) === 5);
});

afterAll(async () => {
  await Promise.all([office?.close(), ...Object.values(techs).map((t) => t?.close())]);
  await server?.close();
});

describe('completed order → installation ticket → job for the nearest technician', () => {
  it('the ticket carries the order, and the job reaches the nearest technician\'s phone, assigned', async () => {
    const first = order('SO-1001', SITE, 'high');
    await complete(first);

    const ticket = await eventually('the ticket on the office app', () => local<Ticket>(office, 'tickets', ticketIdFor(TENANT, first.id)));
    expect(ticket).toMatchObject({
      type: 'installation_request', status: 'open', priority: 'p2', orderId: first.id, orderNumber: 'SO-1001',
      customer: first.customer, serviceAddress: first.serviceAddress, location: SITE, equipment: first.equipment, deployment: first.deployment,
    });

    const job = await jobOn(techs.ana, first.id);
    expect(job).toMatchObject({
      kind: 'installation', status: 'assigned', assigneeId: 'ana', ticketId: ticket.id, orderId: first.id, orderNumber: 'SO-1001',
      customer: first.customer, serviceAddress: first.serviceAddress, location: SITE, equipmentSerials: ['ONT-SO-1001', 'RTR-SO-1001'],
    });
    expect(job.ticketNotes).toContain('vlan: 210');
    expect(job.statusAt).toMatch(/[+-]\d{2}:\d{2}$/);
  });

  it('the next job at the same site goes to the technician about as near with fewer open jobs', async () => {
    const second = order('SO-1002', SITE, 'urgent');
    await complete(second);
    const job = await jobOn(techs.ben, second.id);
    expect(job.assigneeId).toBe('ben');
    expect((await local<Ticket>(office, 'tickets', ticketIdFor(TENANT, second.id)))?.priority).toBe('p1');
  });

  it('a site far away goes to the technician whose latest fix is there', async () => {
    const third = order('SO-1003', FAR_SITE, 'low');
    await complete(third);
    expect((await jobOn(techs.cy, third.id)).assigneeId).toBe('cy');
  });

  it('re-completing an order makes no second ticket or job', async () => {
    const fourth = order('SO-1004', SITE, 'normal');
    await complete(fourth);
    await jobOn(techs.ana, fourth.id);
    // Re-opened and completed again by the sales system.
    await complete(fourth);
    await settled(server);
    expect(await server.app.store.countDocuments('tickets', TENANT)).toBe(4);
    expect(await server.app.store.countDocuments('jobs', TENANT)).toBe(4);
  });

  it('the ticket follows the job: in progress on the way, closed when the technician completes it, reopened with the job', async () => {
    const fifth = order('SO-1005', FAR_SITE, 'normal');
    await complete(fifth);
    const job = await jobOn(techs.cy, fifth.id);
    const ticketId = ticketIdFor(TENANT, fifth.id);
    const ticketStatus = async () => (await local<Ticket>(office, 'tickets', ticketId))?.status;
    expect(await eventually('the ticket on the office app', ticketStatus)).toBe('open');

    const setStatus = (status: Job['status']) => techs.cy.writer.update('jobs', job.id, (doc) => ({ ...doc, status, statusAt: offsetTime(new Date()) }));
    await setStatus('en_route');
    await eventually('the ticket in progress', async () => (await ticketStatus()) === 'in_progress');
    await setStatus('on_site');
    await setStatus('completed');
    await eventually('the ticket closed on the office app', async () => (await ticketStatus()) === 'closed');
    // Reopened on site (the customer called back before the technician left), with the reason a
    // reopening needs (job-reopen policy): the ticket reopens too.
    await techs.cy.writer.update('jobs', job.id, (doc) => ({ ...doc, status: 'on_site', statusAt: offsetTime(new Date()), reopenReason: 'The customer called back: no signal upstairs' }));
    await eventually('the ticket back in progress', async () => (await ticketStatus()) === 'in_progress');
    await setStatus('completed');
    await eventually('the ticket closed again', async () => (await ticketStatus()) === 'closed');
    await settled(server);
    expect((await stored(server, 'tickets', TENANT, ticketId))?.status).toBe('closed');
  });

  it('with no technician known the job is created unassigned', async () => {
    const tenant = 'telco-west';
    const o = order('SO-2001', SITE, 'normal');
    await complete(o, tenant);
    const id = jobIdFor(tenant, ticketIdFor(tenant, o.id));
    const job = await eventually('the unassigned job', () => stored(server, 'jobs', tenant, id));
    expect(job.status).toBe('unassigned');
    expect(job.assigneeId).toBeUndefined();
  });
});
