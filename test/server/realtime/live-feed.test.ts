import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import { newEpcr, newGpsPoint, offsetTime } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
let server: TestServer;
const sockets: Socket[] = [];
const devices: TestDevice[] = [];

beforeAll(async () => { server = await startTestServer({ liveGpsIntervalMs: 200 }); });
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const d of devices) await d.close();
  await server.close();
});

function listen(token: string): Promise<{ socket: Socket; events: { event: string; payload: Record<string, unknown>; at: number }[] }> {
  const socket = io(`${server.url}/live`, { transports: ['websocket'], auth: { token } });
  sockets.push(socket);
  const events: { event: string; payload: Record<string, unknown>; at: number }[] = [];
  socket.onAny((event: string, payload: Record<string, unknown>) => events.push({ event, payload, at: Date.now() }));
  return new Promise((resolve, reject) => {
    socket.once('live:ready', () => resolve({ socket, events }));
    socket.once('connect_error', reject);
  });
}

describe('dispatch live feed', () => {
  it('a dispatcher sees a unit’s GPS and status from a device push; a crew of another unit sees nothing of it; no clinical fields', async () => {
    const dispatch = await listen(devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console' }));
    const otherCrew = await listen(devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tab-m2', subject: 'M2' }));
    const otherTenant = await listen(devToken({ tenantId: 'agency-b', role: 'dispatcher', deviceId: 'console-b' }));

    const mdt = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-m1', subject: 'M1' }), collections: ['gps_points', 'units', 'epcrs'] });
    devices.push(mdt);
    await mdt.writer.insert('units', { id: crypto.randomUUID(), tenantId: TENANT, callSign: 'M1', status: 'en_route', statusAt: offsetTime() });
    await mdt.writer.bulkInsert('gps_points', [newGpsPoint(TENANT, 'M1', 1)]);
    await mdt.writer.insert('epcrs', newEpcr(TENANT, 'M1', { patient: { firstName: 'Ana', lastName: 'Reyes' }, narrative: { text: 'chest pain' } }));
    await mdt.sync.awaitInSync();

    await eventually('status, position and ePCR progress on the dispatch feed', () =>
      ['unit:status', 'unit:position', 'epcr:progress'].every((e) => dispatch.events.some((x) => x.event === e)));
    expect(dispatch.events.find((e) => e.event === 'unit:status')!.payload).toMatchObject({ callSign: 'M1', status: 'en_route' });
    expect(dispatch.events.find((e) => e.event === 'unit:position')!.payload).toMatchObject({ sourceId: 'M1' });
    const progress = JSON.stringify(dispatch.events.filter((e) => e.event === 'epcr:progress'));
    expect(progress).toContain('"status":"draft"');
    expect(progress).not.toMatch(/Reyes|Ana|chest pain|patient|narrative/);

    await new Promise((r) => setTimeout(r, 300));
    expect(otherCrew.events.filter((e) => e.event !== 'live:ready')).toHaveLength(0);
    expect(otherTenant.events.filter((e) => e.event !== 'live:ready')).toHaveLength(0);
  });

  it('high-rate GPS is coalesced per unit for dispatch while every point is stored; every status press reaches the server', async () => {
    const dispatch = await listen(devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console-2' }));
    const mdt = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-m3', subject: 'M3' }), collections: ['gps_points', 'units', 'unit_status_events'] });
    devices.push(mdt);
    // As the MDT app records a status press (client/apps/mdt/status.ts recordStatus): an
    // insert-only unit_status_events document per press, and the unit document's latest status.
    // The unit document's states may merge on the way (RxDB pushes a document's latest state);
    // the events never do, so no wait for the device's first sync is needed here.
    const unitId = crypto.randomUUID();
    await mdt.writer.insert('units', { id: unitId, tenantId: TENANT, callSign: 'M3', status: 'available' });
    const statuses = ['dispatched', 'en_route', 'on_scene', 'transporting', 'at_destination'];
    const eventIds: string[] = [];
    for (let i = 0; i < 50; i++) {
      await mdt.writer.bulkInsert('gps_points', [newGpsPoint(TENANT, 'M3', i)]);
      if (i % 10 === 9) {
        const status = statuses[(i - 9) / 10]!;
        const id = crypto.randomUUID();
        eventIds.push(id);
        await mdt.writer.insert('unit_status_events', { id, tenantId: TENANT, unitId: 'M3', status: status as never, recordedAt: offsetTime() });
        await mdt.writer.update('units', unitId, (d) => ({ ...d, status: status as never }));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await mdt.sync.awaitInSync();
    await eventually('the last status', () => dispatch.events.some((e) => e.event === 'unit:status' && e.payload['status'] === 'at_destination'));
    await new Promise((r) => setTimeout(r, 400));
    const positions = dispatch.events.filter((e) => e.event === 'unit:position' && e.payload['sourceId'] === 'M3');
    // Every press is on the server, each its own event, in the order pressed.
    const events = await server.app.store.getDocuments('unit_status_events', TENANT, eventIds);
    expect([...events].sort((a, b) => a.seq - b.seq).map((row) => (JSON.parse(row.json) as { status: string }).status)).toEqual(statuses);
    // The feed's unit status ends at the latest press.
    const seenStatuses = dispatch.events.filter((e) => e.event === 'unit:status' && e.payload['callSign'] === 'M3').map((e) => e.payload['status']);
    expect(seenStatuses.at(-1)).toBe('at_destination');
    expect(positions.length).toBeGreaterThan(0);
    expect(positions.length).toBeLessThan(50); // coalesced: ~0.7 s of points at one per 200 ms
    expect(await server.app.store.countDocuments('gps_points', TENANT)).toBeGreaterThanOrEqual(50);
    // The newest point is always delivered last.
    const newest = positions.at(-1)!.payload;
    expect(newest['lat']).toBeCloseTo(40 + 49 * 0.0001, 6);
  });
});
