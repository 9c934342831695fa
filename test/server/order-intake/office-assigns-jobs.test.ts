/**
 * Issue 20: a job the server could not assign (its address not found) is the office's to act on:
 * it assigns a technician by hand, or corrects the address and the server places the job again.
 * The access declaration lets the office do only that (jobs, role office); everything else is
 * refused with the reason and nothing is written. Real Fastify, SQLite and PostgreSQL, the
 * product's hooks, the stand-in Nominatim the map tests use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, FIELD_SERVICE, HEADERS, pathOf, type Role } from '../../../shared/protocol/index.ts';
import { collectionSchemas, type Job } from '../../../shared/schemas/index.ts';
import { pullAll } from '../../helpers/access.ts';
import { nominatimStandIn, type StandIn } from '../../helpers/geo-stand-ins.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { all, FAST_HOOKS, pushBody, rawPush, settled, stored } from '../hooks/support.ts';

const TENANT = 'agency-office-assigns';
const OTHER = 'agency-office-assigns-other';
const token = (role: Role, extra: { deviceId?: string; subject?: string; tenantId?: string } = {}) =>
  devToken({ tenantId: extra.tenantId ?? TENANT, role, deviceId: extra.deviceId ?? `${role}-1`, ...(extra.subject ? { subject: extra.subject } : {}) });
const ELM = { lat: 41.3905, lng: -73.4741 };

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`the office acts on unassigned jobs (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    let geocoder: StandIn & { hold(): () => void };
    let orders = 0;

    async function pushAnswer(bearer: string, body: string) {
      const response = await fetch(`${server.url}/api/sync/jobs/push?schemaVersion=${collectionSchemas.jobs.version}`, {
        method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body,
      });
      // A refused change to a stored document is answered 200 with the stored state, and the refusal (code, reason) in a header.
      return { status: response.status, refusal: response.headers.get(HEADERS.rejections) ?? '' };
    }

    /** The job as the office sends it back, changed: the next revision, assuming the stored one. */
    const changed = (job: Job, change: Record<string, unknown>, tag: string) => pushBody(
      { ...job, ...change } as Record<string, unknown>, `${Number(job.rev.split('-')[0]) + 1}-${job.rev.split('-')[1]}${tag}`, job as unknown as Record<string, unknown>,
    );

    /** An order the office entered with an address the geocoder does not know, completed: its job waits unassigned. */
    async function unassignedJob(): Promise<Job> {
      const id = crypto.randomUUID();
      orders++;
      const order = { id, tenantId: TENANT, orderNumber: `OA-${orders}`, status: 'completed', source: 'office', priority: 'normal', customer: { name: 'Elm Street Dental' }, serviceAddress: { street: `${orders} Nowhere Lane`, city: 'Atlantis' }, _deleted: false };
      expect((await rawPush(server, token('office'), 'orders', pushBody(order))).status).toBe(200);
      const job = await eventually(`the job of ${order.orderNumber}`, async () => (await all(server, 'jobs', TENANT)).find((j) => j.orderId === id), 30_000) as Job;
      expect(job).toMatchObject({ status: 'unassigned' });
      expect(job.unassignedReason).toMatch(/found no place/);
      return job;
    }

    beforeAll(async () => {
      geocoder = await nominatimStandIn([
        { label: '12 Elm St, Norwalk, CT 06850', ...ELM, houseNumber: '12', road: 'Elm St', city: 'Norwalk', postcode: '06850', state: 'CT' },
      ]);
      const options = { hookRunner: FAST_HOOKS, integrationRetries: 1, integrationBackoffMs: 10, integrationBackoffMaxMs: 20, integrationTimeoutMs: 2000 };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
      const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
        method: 'PUT', headers: { authorization: `Bearer ${token('admin')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...demoAgencySettings(), map: { geocoder: { url: geocoder.url, kind: 'nominatim' } } }),
      });
      expect(put.status).toBe(200);
      // T-alpha far from 12 Elm St, T-zed near it; T-other is a technician of another agency.
      const fix = (tenantId: string, tech: string, lat: number, lng: number) => ({ id: crypto.randomUUID(), tenantId, sourceType: 'technician', sourceId: tech, lat, lng, recordedAt: '2026-12-01T09:00:00-05:00', _deleted: false });
      for (const [tenantId, tech, lat, lng] of [[TENANT, 'T-alpha', 40.2, -75.0], [TENANT, 'T-zed', 41.393, -73.47], [OTHER, 'T-other', 41.3906, -73.4742]] as const) {
        expect((await rawPush(server, token('technician', { tenantId, deviceId: `phone-${tech}`, subject: tech }), 'gps_points', pushBody(fix(tenantId, tech, lat, lng)))).status).toBe(200);
      }
    }, 120_000);
    afterAll(async () => {
      await server?.close();
      await geocoder?.close();
      await schemas.dropAll();
    });

    it('lists the agency\'s technicians to the office (ids, not where they are), and to no other role', async () => {
      const list = await fetch(server.url + pathOf(FIELD_SERVICE.technicians), { headers: { authorization: `Bearer ${token('office')}` } });
      expect(list.status).toBe(200);
      const body = await list.json() as { technicians: Record<string, unknown>[] };
      expect(body.technicians.map((t) => t.id)).toEqual(['T-alpha', 'T-zed']);
      expect(body.technicians[0]).toEqual({ id: 'T-alpha', lastFixAt: '2026-12-01T09:00:00-05:00', openJobs: expect.any(Number) });
      const crew = await fetch(server.url + pathOf(FIELD_SERVICE.technicians), { headers: { authorization: `Bearer ${token('crew', { subject: 'M1' })}` } });
      expect(crew.status).toBe(403);
      expect(await crew.text()).toContain('signed in as crew');
    });

    it('the office assigns an unassigned job by hand: the technician pulls it, and the server removes the reason', async () => {
      const job = await unassignedJob();
      const answer = await pushAnswer(token('office'), changed(job, { assigneeId: 'T-alpha', status: 'assigned', statusAt: '2026-12-01T10:00:00-05:00' }, 'a'));
      expect(answer).toEqual({ status: 200, refusal: '' });
      const done = await eventually('the reason removed', async () => {
        const now = await stored(server, 'jobs', TENANT, job.id) as Job;
        return now.unassignedReason === undefined ? now : undefined;
      }, 30_000) as Job;
      expect(done).toMatchObject({ status: 'assigned', assigneeId: 'T-alpha', statusAt: '2026-12-01T10:00:00-05:00', serviceAddress: job.serviceAddress });
      const pulled = await pullAll(server, token('technician', { deviceId: 'phone-T-alpha', subject: 'T-alpha' }), 'jobs', 100);
      expect(pulled.docs.map((d) => d['id'])).toContain(job.id);
      const other = await pullAll(server, token('technician', { deviceId: 'phone-T-zed', subject: 'T-zed' }), 'jobs', 100);
      expect(other.docs.map((d) => d['id'])).not.toContain(job.id);

      // Now it is the technician's: the office may not reassign it or change its address.
      const reassign = await pushAnswer(token('office'), changed(done, { assigneeId: 'T-zed' }, 'b'));
      expect(reassign.refusal).toContain('OUT_OF_SCOPE');
      expect(reassign.refusal).toContain('may change only jobs the server left unassigned');
      expect(reassign.refusal).toContain('it is assigned');
      const moved = await pushAnswer(token('office'), changed(done, { serviceAddress: { street: '12 Elm St', city: 'Norwalk' } }, 'c'));
      expect(moved.refusal).toContain('may change only jobs the server left unassigned');
      expect(await stored(server, 'jobs', TENANT, job.id)).toEqual(done);
    });

    it('refuses everything else the office might send, naming the problem, and writes nothing', async () => {
      const job = await unassignedJob();
      const office = token('office');
      const cases: [Record<string, unknown>, string][] = [
        [{ notes: 'call first' }, 'FIELD_NOT_WRITABLE'],
        [{ customer: { name: 'Someone else' } }, 'may change only assigneeId, status, statusAt, serviceAddress'],
        [{ assigneeId: 'T-other', status: 'assigned' }, 'must name a technician of your agency'],
        [{ assigneeId: 'T-nobody', status: 'assigned' }, 'must name a technician of your agency'],
        [{ status: 'assigned' }, 'unassigned jobs, or jobs assigned to a technician'],
        [{ assigneeId: 'T-zed' }, 'may change assigneeId of a job only in the change that assigns the job'],
        [{ assigneeId: 'T-zed', status: 'completed' }, 'You may only write unassigned jobs, or jobs assigned to a technician'],
        [{ unassignedReason: 'fixed' }, 'SERVER_OWNED_FIELD'],
        [{ location: ELM }, 'set by the server only'],
      ];
      for (const [i, [change, words]] of cases.entries()) {
        const answer = await pushAnswer(office, changed(job, change, `r${i}`));
        expect(answer.refusal, JSON.stringify(change)).toContain(words);
      }
      await settled(server);
      expect(await stored(server, 'jobs', TENANT, job.id)).toEqual(job);
    });

    it('a corrected address is placed by the geocoder and the job goes to the technician nearest to it', async () => {
      const job = await unassignedJob();
      const address = { street: '12 Elm St', city: 'Norwalk', state: 'CT', zip: '06850' };
      expect((await pushAnswer(token('office'), changed(job, { serviceAddress: address }, 'e'))).refusal).toBe('');
      const placed = await eventually('the corrected job assigned', async () => {
        const now = await stored(server, 'jobs', TENANT, job.id) as Job;
        return now.status === 'assigned' ? now : undefined;
      }, 30_000) as Job;
      expect(placed).toMatchObject({ assigneeId: 'T-zed', location: ELM, geocodedAs: '12 Elm St, Norwalk, CT 06850', serviceAddress: address });
      expect(placed.unassignedReason).toBeUndefined();
      expect(geocoder.requests.some((u) => u.searchParams.get('q') === '12 Elm St, Norwalk, CT 06850')).toBe(true);
    });

    it('a correction pushed together with the assignment (an offline office\'s two edits) is placed at the new address, and keeps the office\'s technician', async () => {
      const job = await unassignedJob();
      const address = { street: '12 Elm St', city: 'Norwalk', state: 'CT', zip: '06850' };
      const answer = await pushAnswer(token('office'), changed(job, { serviceAddress: address, assigneeId: 'T-alpha', status: 'assigned', statusAt: '2026-12-01T10:00:00-05:00' }, 'ca'));
      expect(answer).toEqual({ status: 200, refusal: '' });
      await settled(server);
      const now = await stored(server, 'jobs', TENANT, job.id) as Job;
      expect(now).toMatchObject({ status: 'assigned', assigneeId: 'T-alpha', serviceAddress: address, location: ELM, geocodedAs: '12 Elm St, Norwalk, CT 06850' });
      expect(now.unassignedReason).toBeUndefined();
    });

    it('a job assigned while its corrected address waits on the geocoder is placed at the new address once the geocoder answers', async () => {
      const job = await unassignedJob();
      const address = { street: '12 Elm St', city: 'Norwalk', state: 'CT', zip: '06850' };
      const release = geocoder.hold();
      try {
        const asked = geocoder.requests.length;
        expect((await pushAnswer(token('office'), changed(job, { serviceAddress: address }, 'cb'))).refusal).toBe('');
        await eventually('the corrected address asked of the geocoder', async () => geocoder.requests.slice(asked).some((u) => u.searchParams.get('q') === '12 Elm St, Norwalk, CT 06850') || undefined, 30_000);
        const corrected = await stored(server, 'jobs', TENANT, job.id) as Job;
        expect(corrected).toMatchObject({ status: 'unassigned', serviceAddress: address });
        const assigned = await pushAnswer(token('office'), changed(corrected, { assigneeId: 'T-alpha', status: 'assigned', statusAt: '2026-12-01T10:00:00-05:00' }, 'cc'));
        expect(assigned).toEqual({ status: 200, refusal: '' });
        expect(await stored(server, 'jobs', TENANT, job.id)).toMatchObject({ status: 'assigned', assigneeId: 'T-alpha' });
      } finally {
        release();
      }
      await settled(server);
      const now = await stored(server, 'jobs', TENANT, job.id) as Job;
      expect(now).toMatchObject({ status: 'assigned', assigneeId: 'T-alpha', serviceAddress: address, location: ELM, geocodedAs: '12 Elm St, Norwalk, CT 06850' });
      expect(now.unassignedReason).toBeUndefined();
    });

    it('a corrected address the geocoder does not know either: still unassigned, with the new reason', async () => {
      const job = await unassignedJob();
      expect((await pushAnswer(token('office'), changed(job, { serviceAddress: { street: '77 Lost Road', city: 'Mu' } }, 'f'))).refusal).toBe('');
      const again = await eventually('the new reason', async () => {
        const now = await stored(server, 'jobs', TENANT, job.id) as Job;
        return now.unassignedReason?.includes('"77 Lost Road, Mu"') ? now : undefined;
      }, 30_000) as Job;
      expect(again.status).toBe('unassigned');
      expect(again.assigneeId).toBeUndefined();
      expect(again.location).toBeUndefined();
      expect(again.unassignedReason).toMatch(/found no place/);
      await settled(server);
      expect((await server.app.store.outboxStats(Date.now())).deadLetters).toBe(0);
    });
  });
}
