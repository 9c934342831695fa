/**
 * Issue 20: orders arrive. The order system's signed `order.completed` event makes the completed
 * order, its ticket and the job, assigned to the nearest available technician by last reported
 * position; a replay changes nothing, another body under the same order number is a 409, a bad
 * signature or a stale timestamp is refused and writes nothing. The secret is set through the
 * admin API and never read back. Real Fastify, SQLite and PostgreSQL, the product's hooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { orderIdFor } from '../../../server/hooks/ids.ts';
import { signEvent } from '../../../server/order-intake/signature.ts';
import { ADMIN, HEADERS, INTEGRATIONS, pathOf, type Role } from '../../../shared/protocol/index.ts';
import { collectionSchemas, type Job, type Order, type Ticket } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { all, FAST_HOOKS, pushBody, rawPush, settled, stored } from '../hooks/support.ts';

const TENANT = 'agency-orders';
const SECRET = 'b3f1c9a2d4e6f8091a2b3c4d5e6f70819a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d';
const token = (role: Role, extra: { deviceId?: string; subject?: string } = {}) =>
  devToken({ tenantId: TENANT, role, deviceId: extra.deviceId ?? `${role}-1`, ...(extra.subject ? { subject: extra.subject } : {}) });

const event = (orderId: string, extra: Record<string, unknown> = {}) => ({
  type: 'order.completed', orderId, priority: 'high',
  customer: { name: 'Harbor Clinic', phone: '215-555-0142', email: 'front@harbor.example' },
  serviceAddress: { street: '9 Dock Rd', city: 'Camden', state: 'NJ', zip: '08101' },
  location: { lat: 40.0, lng: -75.0 },
  items: [{ sku: 'GW-4', description: 'Gateway 4', quantity: 1, serial: 'GW-4471-A' }, { sku: 'CBL-10', description: 'Cable 10 m', quantity: 3 }],
  ...extra,
});

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`order intake: signed order events (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;

    async function send(body: string, options: { timestamp?: number; signature?: string; secret?: string; agency?: string } = {}) {
      const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
      const response = await fetch(server.url + pathOf(INTEGRATIONS.orderEvent, { agency: options.agency ?? TENANT }), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [HEADERS.signatureTimestamp]: String(timestamp),
          [HEADERS.signature]: options.signature ?? signEvent(options.secret ?? SECRET, timestamp, body),
        },
        body,
      });
      return { status: response.status, body: (await response.json()) as { orderId?: string; status?: string; error?: { code: string; message: string } } };
    }

    async function pushAnswer(bearer: string, collection: 'orders' | 'jobs', body: string) {
      const response = await fetch(`${server.url}/api/sync/${collection}/push?schemaVersion=${collectionSchemas[collection].version}`, {
        method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body,
      });
      // A refused change to a stored document is answered with the stored state and the reason in a header.
      return { status: response.status, text: `${await response.text()} ${response.headers.get(HEADERS.rejections) ?? ''}` };
    }

    async function counts() {
      return {
        orders: (await all(server, 'orders', TENANT)).length,
        tickets: (await all(server, 'tickets', TENANT)).length,
        jobs: (await all(server, 'jobs', TENANT)).length,
      };
    }

    async function putSettings(extra: Record<string, unknown>) {
      const response = await fetch(server.url + pathOf(ADMIN.putAgency), {
        method: 'PUT', headers: { authorization: `Bearer ${token('admin')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...demoAgencySettings(), ...extra }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    }

    beforeAll(async () => {
      const options = { hookRunner: FAST_HOOKS, orderIntakeToleranceSeconds: 300 };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
    }, 120_000);
    afterAll(async () => {
      await server?.close();
      await schemas.dropAll();
    });

    it('an agency without a signing secret takes no events; the admin sets one and it is never read back', async () => {
      const before = await send(JSON.stringify(event('SO-0')));
      expect(before.status).toBe(403);
      expect(before.body.error?.code).toBe('INTAKE_NOT_CONFIGURED');
      const short = await putSettings({ orderIntake: { signingSecret: 'too-short' } });
      expect(short.status).toBe(400);
      expect(short.body['error'].code).toBe('INVALID_AGENCY_SETTINGS');
      const put = await putSettings({ orderIntake: { signingSecret: SECRET }, jobChecklists: { installation: ['Mount the gateway', 'Test the staff Wi-Fi'] } });
      expect(put.status).toBe(200);
      expect(JSON.stringify(put.body)).not.toContain(SECRET);
      expect(put.body['settings'].orderIntake).toEqual({ signingSecretSet: true });
      const read = await fetch(server.url + pathOf(ADMIN.agency), { headers: { authorization: `Bearer ${token('admin')}` } });
      const text = await read.text();
      expect(text).not.toContain(SECRET);
      expect(JSON.parse(text).settings.orderIntake).toEqual({ signingSecretSet: true });
      // A later PUT without the secret keeps it (as the state submission password is kept).
      expect((await putSettings({ jobChecklists: { installation: ['Mount the gateway', 'Test the staff Wi-Fi'] } })).status).toBe(200);
      expect(JSON.parse(String((await server.app.store.getAgencySettings(TENANT))?.json)).orderIntake.signingSecret).toBe(SECRET);
      expect(before.body.error?.message).not.toContain('stack');
    });

    it('a signed event makes order → ticket → job for the nearest available technician; a replay changes nothing', async () => {
      // Three technicians' phones reported positions: T-busy is nearest but on site at another job,
      // T-near is next, T-far farther away.
      const fix = (tech: string, lat: number) => ({ id: crypto.randomUUID(), tenantId: TENANT, sourceType: 'technician', sourceId: tech, lat, lng: -75.0, recordedAt: '2026-12-01T09:00:00-05:00', _deleted: false });
      for (const [tech, lat] of [['T-busy', 40.0005], ['T-near', 40.01], ['T-far', 40.2]] as const) {
        await rawPush(server, token('technician', { deviceId: `phone-${tech}`, subject: tech }), 'gps_points', pushBody(fix(tech, lat)));
      }
      const busyJob = { id: crypto.randomUUID(), tenantId: TENANT, status: 'on_site', assigneeId: 'T-busy', _deleted: false };
      await server.app.store.writeBatch({
        collection: 'jobs', tenantId: TENANT, actor: { kind: 'system', tenantId: TENANT, userId: 'test' },
        requests: [{ id: busyJob.id, incoming: busyJob, decide: () => ({ action: 'write', doc: { ...busyJob, rev: '1-test' } as never }) }],
      });

      const body = JSON.stringify(event('SO-1001'));
      const first = await send(body);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ status: 'created', orderId: orderIdFor(TENANT, 'SO-1001') });
      const orderId = first.body.orderId!;
      const job = await eventually('the job made from the order', async () => (await all(server, 'jobs', TENANT)).find((j) => j.orderId === orderId));
      expect(job.assigneeId).toBe('T-near');
      expect(job.status).toBe('assigned');
      expect(job.equipmentSerials).toEqual(['GW-4471-A']);
      // The agency's checklist for installations, not one typed per job.
      expect(job.checklist).toEqual([{ id: 'c1', label: 'Mount the gateway' }, { id: 'c2', label: 'Test the staff Wi-Fi' }]);
      const order = (await stored(server, 'orders', TENANT, orderId)) as Order;
      expect(order).toMatchObject({ orderNumber: 'SO-1001', status: 'completed', source: 'order-system', priority: 'high', customer: { name: 'Harbor Clinic' } });
      expect(order.items).toHaveLength(2);
      const ticket = (await all(server, 'tickets', TENANT)).find((t) => t.orderId === orderId) as Ticket;
      expect(ticket).toMatchObject({ type: 'installation_request', priority: 'p2', status: 'open' });
      await settled(server);
      const before = await counts();
      const orderRev = order.rev;

      // The same event again, signed again (a retry) and byte for byte (a replay within the window): nothing changes.
      const retry = await send(JSON.stringify(JSON.parse(body)));
      expect(retry.status).toBe(200);
      expect(retry.body.status).toBe('duplicate');
      const ts = Math.floor(Date.now() / 1000);
      const replay = await send(body, { timestamp: ts, signature: signEvent(SECRET, ts, body) });
      expect(replay.body.status).toBe('duplicate');
      await settled(server);
      expect(await counts()).toEqual(before);
      expect(((await stored(server, 'orders', TENANT, orderId)) as Order).rev).toBe(orderRev);

      // Another body under the same order number: refused, nothing changed.
      const changed = await send(JSON.stringify(event('SO-1001', { priority: 'low' })));
      expect(changed.status).toBe(409);
      expect(changed.body.error?.code).toBe('ORDER_CONFLICT');
      expect(((await stored(server, 'orders', TENANT, orderId)) as Order).priority).toBe('high');
      expect(await counts()).toEqual(before);
    });

    it('a bad signature, a wrong secret, a stale or future timestamp, a missing header: refused, nothing written', async () => {
      await settled(server);
      const before = await counts();
      const body = JSON.stringify(event('SO-2002'));
      const ts = Math.floor(Date.now() / 1000);
      const cases: [string, Awaited<ReturnType<typeof send>>, string][] = [
        ['wrong secret', await send(body, { secret: `${SECRET}x` }), 'BAD_SIGNATURE'],
        ['signature of another body', await send(body, { signature: signEvent(SECRET, ts, JSON.stringify(event('SO-2003'))) }), 'BAD_SIGNATURE'],
        ['signature without the scheme', await send(body, { signature: signEvent(SECRET, ts, body).slice('sha256='.length) }), 'BAD_SIGNATURE'],
        ['truncated signature', await send(body, { signature: signEvent(SECRET, ts, body).slice(0, 20) }), 'BAD_SIGNATURE'],
        ['body changed after signing', await send(body.replace('Harbor', 'Harbour'), { timestamp: ts, signature: signEvent(SECRET, ts, body) }), 'BAD_SIGNATURE'],
        ['stale timestamp (an old capture replayed)', await send(body, { timestamp: ts - 400 }), 'STALE_SIGNATURE'],
        ['timestamp in the future', await send(body, { timestamp: ts + 400 }), 'STALE_SIGNATURE'],
        ['timestamp in milliseconds', await send(body, { timestamp: Number(`${ts}000`) }), 'BAD_SIGNATURE'],
      ];
      for (const [what, answer, code] of cases) {
        expect(answer.status, what).toBe(401);
        expect(answer.body.error?.code, what).toBe(code);
      }
      expect(cases.at(-1)![1].body.error?.message).toContain('Unix seconds');
      const missing = await fetch(server.url + pathOf(INTEGRATIONS.orderEvent, { agency: TENANT }), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(missing.status).toBe(401);
      // Valid signature, invalid event: named problems, nothing written.
      const bad = JSON.stringify({ type: 'order.completed', orderId: '', customer: {}, serviceAddress: { street: '1 A St', zip: 'ABCDE' }, priority: 'whenever' });
      const invalid = await send(bad);
      expect(invalid.status).toBe(400);
      expect(invalid.body.error?.code).toBe('BAD_ORDER_EVENT');
      expect(invalid.body.error?.message).toMatch(/orderId/);
      const zip = await send(JSON.stringify(event('SO-2004', { serviceAddress: { street: '1 A St', zip: 'ABCDE' } })));
      expect(zip.status).toBe(400);
      expect(zip.body.error?.message).toMatch(/zip/);
      const notJson = await send('{"type": "order.completed",');
      expect(notJson.status).toBe(400);
      expect(notJson.body.error?.code).toBe('MALFORMED_JSON');
      await settled(server);
      expect(await counts()).toEqual(before);
      expect(await stored(server, 'orders', TENANT, orderIdFor(TENANT, 'SO-2002'))).toBeUndefined();
    });

    it('completing the job closes the ticket and the order; reopening opens both again', async () => {
      const orderId = orderIdFor(TENANT, 'SO-1001');
      const job = (await all(server, 'jobs', TENANT)).find((j) => j.orderId === orderId) as Job;
      const techToken = token('technician', { deviceId: 'phone-T-near', subject: 'T-near' });
      const done = { ...job, status: 'completed', statusAt: '2026-12-01T11:00:00-05:00' };
      await rawPush(server, techToken, 'jobs', pushBody(done as Record<string, unknown>, `2-${job.rev.split('-')[1]}x`, job as unknown as Record<string, unknown>));
      await eventually('the order closed', async () => ((await stored(server, 'orders', TENANT, orderId)) as Order).status === 'closed');
      expect(((await all(server, 'tickets', TENANT)).find((t) => t.orderId === orderId) as Ticket).status).toBe('closed');
      const current = (await stored(server, 'jobs', TENANT, job.id)) as Job;
      // Without a reason a completed job stays completed (job-reopen policy).
      const silent = await pushAnswer(techToken, 'jobs', pushBody({ ...current, status: 'assigned' } as Record<string, unknown>, `3-${current.rev.split('-')[1]}z`, current as unknown as Record<string, unknown>));
      expect(silent.text).toContain('reopened only with a reason');
      expect(((await stored(server, 'jobs', TENANT, job.id)) as Job).status).toBe('completed');
      const reopened = { ...current, status: 'on_site', reopenReason: 'Customer reports no signal upstairs', reopenedAt: '2026-12-01T12:00:00-05:00' };
      await rawPush(server, techToken, 'jobs', pushBody(reopened as Record<string, unknown>, `3-${current.rev.split('-')[1]}y`, current as unknown as Record<string, unknown>));
      await eventually('the order open again', async () => ((await stored(server, 'orders', TENANT, orderId)) as Order).status === 'completed');
      expect(((await all(server, 'tickets', TENANT)).find((t) => t.orderId === orderId) as Ticket).status).toBe('in_progress');
    });

    it('the office may enter and complete an order but never close one or claim it came from the order system', async () => {
      const office = token('office');
      const id = orderIdFor(TENANT, 'SO-OFFICE-1');
      const doc = { id, tenantId: TENANT, orderNumber: 'SO-OFFICE-1', status: 'open', source: 'office', customer: { name: 'Walk-in' }, _deleted: false };
      await rawPush(server, office, 'orders', pushBody(doc));
      expect(((await stored(server, 'orders', TENANT, id)) as Order).status).toBe('open');
      const forged = { ...doc, id: orderIdFor(TENANT, 'SO-OFFICE-2'), orderNumber: 'SO-OFFICE-2', source: 'order-system', intakeDigest: 'a'.repeat(64) };
      expect((await pushAnswer(office, 'orders', pushBody(forged))).status).toBe(403);
      expect(await stored(server, 'orders', TENANT, forged.id)).toBeUndefined();
      const closed = { ...doc, id: orderIdFor(TENANT, 'SO-OFFICE-3'), orderNumber: 'SO-OFFICE-3', status: 'closed' };
      const refused = await pushAnswer(office, 'orders', pushBody(closed));
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('TRANSITION_NOT_ALLOWED');
      expect(await stored(server, 'orders', TENANT, closed.id)).toBeUndefined();
      // Completing the order the office entered starts ticket → job.
      const open = (await stored(server, 'orders', TENANT, id)) as Order;
      await rawPush(server, office, 'orders', pushBody({ ...open, status: 'completed' } as Record<string, unknown>, `2-${open.rev.split('-')[1]}o`, open as unknown as Record<string, unknown>));
      await eventually('the ticket of the office order', async () => (await all(server, 'tickets', TENANT)).find((t) => t.orderId === id));
      // The order system sending an order the office entered by hand: a conflict, the office's order stays.
      const clash = await send(JSON.stringify(event('SO-OFFICE-1')));
      expect(clash.status).toBe(409);
      expect(((await stored(server, 'orders', TENANT, id)) as Order).customer?.name).toBe('Walk-in');
    });
  });
}
