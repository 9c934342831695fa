/**
 * Documents that leave a device's slice leave the device: an incident reassigned from one unit to
 * another disappears from the first crew's tablet (and is still on the server and on the new
 * unit's tablet), comes back if it is reassigned back, and a report with a change the server has
 * not confirmed yet is never removed under the crew's hands. Real server, real RxDB clients.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { Epcr, Incident } from '../../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { systemWrite } from '../hooks/support.ts';

const TENANT = 'agency-scope';
let server: TestServer;
let dispatcher: TestDevice;
let crewM1: TestDevice;
let crewM2: TestDevice;

/** Push requests of one device can be held, so a local change stays unconfirmed. */
let holdPushes = false;
const held: (() => void)[] = [];
const holdingFetch: typeof fetch = async (input, init) => {
  if (holdPushes && String(input).includes('/push')) await new Promise<void>((resolve) => held.push(resolve));
  return fetch(input, init);
};

const crewToken = (unit: string) => devToken({ tenantId: TENANT, role: 'crew', deviceId: `tablet-${unit}`, subject: unit });

async function local<T>(device: TestDevice, collection: string, id: string): Promise<T | undefined> {
  return (await device.db.collections[collection]!.findOne(id).exec())?.toJSON() as T | undefined;
}

beforeAll(async () => {
  server = await startTestServer();
  dispatcher = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console' }), collections: ['incidents'] });
  // The timer is off here: the tests ask explicitly, so they do not depend on timing.
  crewM1 = await createDevice({ serverUrl: server.url, token: crewToken('M1'), collections: ['incidents', 'epcrs'], scopeCheckIntervalMs: 0, fetch: holdingFetch });
  crewM2 = await createDevice({ serverUrl: server.url, token: crewToken('M2'), collections: ['incidents'], scopeCheckIntervalMs: 200 });
});

afterAll(async () => {
  holdPushes = false;
  for (const release of held.splice(0)) release();
  await Promise.all([dispatcher?.close(), crewM1?.close(), crewM2?.close()]);
  await server?.close();
});

describe('documents leaving a device\'s slice', () => {
  it('an incident reassigned to another unit leaves the first unit\'s tablet, stays on the server, and returns when reassigned back', async () => {
    const id = randomUUID();
    await dispatcher.writer.insert('incidents', {
      id, tenantId: TENANT, incidentNumber: '2026-00311', status: 'dispatched', complaint: 'fall, hip pain', assignedUnitId: 'M1',
      address: { street: '12 Orchard Lane', city: 'Danbury', zip: '06810' },
    });
    await eventually('the incident on M1', () => local<Incident>(crewM1, 'incidents', id));

    await dispatcher.writer.update('incidents', id, (doc) => ({ ...doc, assignedUnitId: 'M2' }));
    await eventually('the incident on M2', () => local<Incident>(crewM2, 'incidents', id));
    expect(await local<Incident>(crewM1, 'incidents', id), 'pulls alone never remove it').toBeDefined();

    expect(await crewM1.sync.checkScope()).toBe(1);
    await eventually('the incident gone from M1', async () => (await local<Incident>(crewM1, 'incidents', id)) === undefined);
    const [onServer] = await server.app.store.getDocuments('incidents', TENANT, [id]);
    expect(JSON.parse(onServer!.json)).toMatchObject({ assignedUnitId: 'M2', complaint: 'fall, hip pain', _deleted: false });
    expect((await local<Incident>(crewM2, 'incidents', id))?.complaint).toBe('fall, hip pain');
    // Nothing was pushed as a deletion: the dispatcher still sees it live.
    expect(await local<Incident>(dispatcher, 'incidents', id)).toMatchObject({ assignedUnitId: 'M2' });

    // Reassigned back: it returns to M1, and M2's own timer removes it there.
    await dispatcher.writer.update('incidents', id, (doc) => ({ ...doc, assignedUnitId: 'M1', status: 'active' }));
    expect((await eventually('the incident back on M1', () => local<Incident>(crewM1, 'incidents', id))).status).toBe('active');
    await eventually('the incident gone from M2 by its timer', async () => (await local<Incident>(crewM2, 'incidents', id)) === undefined);
    expect(await crewM1.sync.checkScope()).toBe(0);
  });

  it('a report with a change not yet confirmed by the server stays on the tablet with the change', async () => {
    const report = newEpcr(TENANT, 'M1', { narrative: { text: 'pt ambulatory on scene' } });
    await crewM1.writer.insert('epcrs', report);
    await eventually('the report on the server', async () => (await server.app.store.getDocuments('epcrs', TENANT, [report.id])).length === 1);

    holdPushes = true;
    await crewM1.writer.update('epcrs', report.id, (doc) => ({ ...doc, narrative: { text: 'pt ambulatory on scene; refused transport' } }));
    await eventually('the edit waiting to be pushed', () => held.length > 0);
    // Meanwhile the report is moved to another unit on the server.
    const [master] = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
    const { rev: _rev, ...current } = JSON.parse(master!.json) as Epcr;
    await systemWrite(server, 'epcrs', TENANT, { ...current, unitId: 'M3', _deleted: false });

    expect(await crewM1.sync.checkScope()).toBe(0);
    expect((await local<Epcr>(crewM1, 'epcrs', report.id))?.narrative?.text).toBe('pt ambulatory on scene; refused transport');
    holdPushes = false;
    for (const release of held.splice(0)) release();
  });

  it('the check names only documents the caller\'s agency has, and a malformed body is a 400 naming the problem', async () => {
    const ask = (token: string, body: unknown) => fetch(`${server.url}/api/sync/incidents/out-of-scope?schemaVersion=${schemaVersionOf('incidents')}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const id = randomUUID();
    await dispatcher.writer.insert('incidents', { id, tenantId: TENANT, incidentNumber: '2026-00312', status: 'dispatched', assignedUnitId: 'M1' });
    await eventually('the incident on the server', async () => (await server.app.store.getDocuments('incidents', TENANT, [id])).length === 1);
    // M1's tablet holds it (an audited read), then the call goes to M2.
    const pulled = await fetch(`${server.url}/api/sync/incidents/pull?schemaVersion=${schemaVersionOf('incidents')}&limit=100`, { headers: { authorization: `Bearer ${crewToken('M1')}` } });
    expect(JSON.stringify(await pulled.json())).toContain(id);
    await dispatcher.writer.update('incidents', id, (d) => ({ ...d, assignedUnitId: 'M2' }));
    await eventually('the reassignment on the server', async () => {
      const [row] = await server.app.store.getDocuments('incidents', TENANT, [id]);
      return row !== undefined && (JSON.parse(row.json) as Incident).assignedUnitId === 'M2';
    });
    const neverHeld = randomUUID();
    await dispatcher.writer.insert('incidents', { id: neverHeld, tenantId: TENANT, incidentNumber: '2026-00313', status: 'dispatched', assignedUnitId: 'M2' });
    await eventually('the other incident on the server', async () => (await server.app.store.getDocuments('incidents', TENANT, [neverHeld])).length === 1);
    const unknown = randomUUID();
    const mine = await ask(crewToken('M1'), { ids: [id, neverHeld, unknown] });
    expect(mine.status).toBe(200);
    // The incident that left M1 is named; another unit's incident M1 never held is not (incidents
    // are patient data: the check confirms no id the caller never had), nor an id the server does
    // not have (maybe not pushed yet).
    expect(await mine.json()).toEqual({ outOfScope: [id] });
    const otherAgency = await ask(devToken({ tenantId: 'agency-elsewhere', role: 'crew', deviceId: 'tablet-x', subject: 'M1' }), { ids: [id] });
    expect(await otherAgency.json()).toEqual({ outOfScope: [] });
    const bad = await ask(crewToken('M1'), { ids: 'all' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'BAD_SCOPE_CHECK', message: expect.stringContaining('{"ids": [...]}') });
  });
});
