/**
 * Issue 20: an order that arrives without coordinates (a signed order event, or the office's
 * form) is placed by its service address through the agency's geocoder, and its job goes to the
 * technician nearest to that place. An address the geocoder does not know, or a geocoder that
 * cannot be reached, still leaves the order and an unassigned job, with the reason for the office.
 * Real Fastify, SQLite and PostgreSQL, the product's hooks, the stand-in Nominatim the map tests use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { orderIdFor } from '../../../server/hooks/ids.ts';
import { signEvent } from '../../../server/order-intake/signature.ts';
import { ADMIN, HEADERS, INTEGRATIONS, pathOf, type Role } from '../../../shared/protocol/index.ts';
import type { Job } from '../../../shared/schemas/index.ts';
import { nominatimStandIn, type StandIn } from '../../helpers/geo-stand-ins.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { all, FAST_HOOKS, pushBody, rawPush, settled, stored } from '../hooks/support.ts';

const TENANT = 'agency-geocoded-orders';
const SECRET = 'c4e2d1a9b8f7061524a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1';
const token = (role: Role, extra: { deviceId?: string; subject?: string } = {}) =>
  devToken({ tenantId: TENANT, role, deviceId: extra.deviceId ?? `${role}-1`, ...(extra.subject ? { subject: extra.subject } : {}) });

/** Where the stand-in geocoder puts 12 Elm St, Norwalk. */
const ELM = { lat: 41.3905, lng: -73.4741 };

const event = (orderId: string, serviceAddress: Record<string, string>) => ({
  type: 'order.completed', orderId, priority: 'normal',
  customer: { name: 'Elm Street Dental' }, serviceAddress,
  items: [{ sku: 'GW-4', description: 'Gateway 4', quantity: 1 }],
});

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`order intake: orders without coordinates are placed by address (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    let geocoder: StandIn;

    async function send(body: string) {
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(server.url + pathOf(INTEGRATIONS.orderEvent, { agency: TENANT }), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [HEADERS.signatureTimestamp]: String(timestamp), [HEADERS.signature]: signEvent(SECRET, timestamp, body) },
        body,
      });
      return { status: response.status, body: (await response.json()) as { orderId?: string; status?: string } };
    }

    async function putSettings(geocoderUrl: string) {
      const response = await fetch(server.url + pathOf(ADMIN.putAgency), {
        method: 'PUT', headers: { authorization: `Bearer ${token('admin')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...demoAgencySettings(), orderIntake: { signingSecret: SECRET }, map: { geocoder: { url: geocoderUrl, kind: 'nominatim' } } }),
      });
      expect(response.status).toBe(200);
    }

    const jobOf = (orderId: string) => eventually(`the job of ${orderId}`, async () => (await all(server, 'jobs', TENANT)).find((j) => j.orderId === orderId), 30_000) as Promise<Job>;

    beforeAll(async () => {
      geocoder = await nominatimStandIn([
        { label: '12 Elm St, Norwalk, CT 06850', ...ELM, houseNumber: '12', road: 'Elm St', city: 'Norwalk', postcode: '06850', state: 'CT' },
      ]);
      // Outbound calls retry quickly here, so the unreachable geocoder's case ends within the test.
      const options = { hookRunner: FAST_HOOKS, integrationRetries: 1, integrationBackoffMs: 10, integrationBackoffMaxMs: 20, integrationTimeoutMs: 2000 };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
      await putSettings(geocoder.url);
      // Two technicians' phones reported positions: T-alpha far away (it would take any job placed
      // nowhere: least loaded, then by name), T-zed a few hundred metres from 12 Elm St.
      const fix = (tech: string, lat: number, lng: number) => ({ id: crypto.randomUUID(), tenantId: TENANT, sourceType: 'technician', sourceId: tech, lat, lng, recordedAt: '2026-12-01T09:00:00-05:00', _deleted: false });
      for (const [tech, lat, lng] of [['T-alpha', 40.2, -75.0], ['T-zed', 41.393, -73.47]] as const) {
        expect((await rawPush(server, token('technician', { deviceId: `phone-${tech}`, subject: tech }), 'gps_points', pushBody(fix(tech, lat, lng)))).status).toBe(200);
      }
    }, 120_000);
    afterAll(async () => {
      await server?.close();
      await geocoder?.close();
      await schemas.dropAll();
    });

    it('a signed order with only an address: the job is placed there and assigned to the nearest technician', async () => {
      const sent = await send(JSON.stringify(event('SO-G1', { street: '12 Elm St', city: 'Norwalk', state: 'CT', zip: '06850' })));
      expect(sent.status).toBe(201);
      const job = await jobOf(orderIdFor(TENANT, 'SO-G1'));
      expect(job).toMatchObject({ status: 'assigned', assigneeId: 'T-zed', location: ELM, geocodedAs: '12 Elm St, Norwalk, CT 06850' });
      expect(job.unassignedReason).toBeUndefined();
      // The address as the order system sent it is kept; only the position was added.
      expect(job.serviceAddress).toEqual({ street: '12 Elm St', city: 'Norwalk', state: 'CT', zip: '06850' });
      expect(geocoder.requests.some((u) => u.pathname === '/search' && u.searchParams.get('q') === '12 Elm St, Norwalk, CT 06850')).toBe(true);
    });

    it('an order entered in the office without coordinates is placed the same way', async () => {
      const id = crypto.randomUUID();
      const order = { id, tenantId: TENANT, orderNumber: 'OF-7', status: 'completed', source: 'office', priority: 'normal', customer: { name: 'Elm Street Dental' }, serviceAddress: { street: '12 Elm St', city: 'Norwalk' }, _deleted: false };
      expect((await rawPush(server, token('office'), 'orders', pushBody(order))).status).toBe(200);
      const job = await jobOf(id);
      expect(job).toMatchObject({ status: 'assigned', location: ELM });
      expect(job.assigneeId).toBe('T-zed');
    });

    it('an address the geocoder does not know: the order is kept, the job is unassigned with the reason', async () => {
      const sent = await send(JSON.stringify(event('SO-G2', { street: '99 Nowhere Lane', city: 'Atlantis' })));
      expect(sent.status).toBe(201);
      const job = await jobOf(orderIdFor(TENANT, 'SO-G2'));
      expect(job.status).toBe('unassigned');
      expect(job.assigneeId).toBeUndefined();
      expect(job.location).toBeUndefined();
      expect(job.unassignedReason).toContain('"99 Nowhere Lane, Atlantis"');
      expect(job.unassignedReason).toMatch(/found no place/);
      expect(await stored(server, 'orders', TENANT, orderIdFor(TENANT, 'SO-G2'))).toMatchObject({ status: 'completed' });
    });

    it('a geocoder that cannot be reached: retried, then the job is made unassigned with the reason', async () => {
      const down = await nominatimStandIn([]);
      const deadUrl = down.url;
      await down.close();
      await putSettings(deadUrl);
      try {
        const sent = await send(JSON.stringify(event('SO-G3', { street: '12 Elm St', city: 'Norwalk' })));
        expect(sent.status).toBe(201);
        const job = await jobOf(orderIdFor(TENANT, 'SO-G3'));
        expect(job.status).toBe('unassigned');
        expect(job.unassignedReason).toMatch(/could not be placed on the map/);
        expect(job.unassignedReason).toContain(`geocoder:${new URL(deadUrl).host}`);
        await settled(server);
        // Nothing was left as a dead letter: the hook finished by making the job.
        expect((await server.app.store.outboxStats(Date.now())).deadLetters).toBe(0);
      } finally {
        await putSettings(geocoder.url);
      }
    });
  });
}
