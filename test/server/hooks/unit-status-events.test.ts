/**
 * The unit-status-event workflow (issue 14, defects 9 and 10) over real HTTP pushes: every status
 * event stamps the call with the device's time, a replayed push stamps nothing twice, a time the
 * crew typed in the report is never replaced, another unit's event never stamps a call, the call
 * only moves forward, and going available frees the unit.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { stubEpcrId } from '../../../server/hooks/workflows/support.ts';
import type { TestServer } from '../../helpers/server.ts';
import { all, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, systemWrite } from './support.ts';

const TENANT = 'agency-events';
const crewM1 = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-m1', subject: 'M1' });
const crewM2 = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-m2', subject: 'M2' });

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const event = (unitId: string, status: string, recordedAt: string, incidentId?: string) =>
  ({ id: randomUUID(), tenantId: TENANT, unitId, status, recordedAt, ...(incidentId ? { incidentId } : {}), _deleted: false });

async function world() {
  server = await startHookServer({ integrations: fakeIntegrations(), validateExports: false });
  const incidentId = randomUUID();
  const unitId = randomUUID();
  await systemWrite(server, 'units', TENANT, { id: unitId, tenantId: TENANT, callSign: 'M1', status: 'dispatched', currentIncidentId: incidentId, _deleted: false });
  await systemWrite(server, 'incidents', TENANT, {
    id: incidentId, tenantId: TENANT, incidentNumber: '2026-9001', status: 'dispatched', assignedUnitId: 'M1',
    timeline: { unitNotified: '2026-11-22T14:01:00-05:00' }, _deleted: false,
  });
  await settled(server);
  return { incidentId, unitId, epcrId: stubEpcrId(TENANT, incidentId, 'M1') };
}

describe('unit status events', () => {
  it('stamp the call and the report with the device\'s times, once, never over a typed time, and free the unit on available', async () => {
    const { incidentId, unitId, epcrId } = await world();
    // The crew typed its own on-scene time in the report before any status arrived.
    const stub = (await stored(server!, 'epcrs', TENANT, epcrId))!;
    await rawPush(server!, crewM1, 'epcrs', pushBody({ ...stub, rev: undefined, times: { ...stub.times, unitOnScene: '2026-11-22T14:09:30-05:00' } }, '2-crew.typed', stub as never));

    const presses = [
      event('M1', 'en_route', '2026-11-22T14:02:05-05:00', incidentId),
      event('M1', 'on_scene', '2026-11-22T14:09:41-05:00', incidentId),
      event('M1', 'transporting', '2026-11-22T14:31:12-05:00', incidentId),
      event('M1', 'at_destination', '2026-11-22T14:48:03-05:00', incidentId),
      event('M1', 'available', '2026-11-22T15:27:11-05:00', incidentId),
    ];
    const body = JSON.stringify(presses.map((doc) => ({ newDocumentState: { ...doc, rev: `1-mdt.${doc.id.slice(0, 6)}` } })));
    await rawPush(server!, crewM1, 'unit_status_events', body);
    await rawPush(server!, crewM1, 'unit_status_events', body); // a lost answer: the same push again
    await settled(server!);

    expect((await all(server!, 'unit_status_events', TENANT)).map((e) => e.status)).toEqual(presses.map((e) => e.status));
    const incident = (await stored(server!, 'incidents', TENANT, incidentId))!;
    expect(incident.timeline).toEqual({
      unitNotified: '2026-11-22T14:01:00-05:00', unitEnRoute: '2026-11-22T14:02:05-05:00', unitOnScene: '2026-11-22T14:09:41-05:00',
      unitLeftScene: '2026-11-22T14:31:12-05:00', atDestination: '2026-11-22T14:48:03-05:00', backInService: '2026-11-22T15:27:11-05:00',
    });
    expect(incident.status).toBe('transporting');
    const epcr = (await stored(server!, 'epcrs', TENANT, epcrId))!;
    expect(epcr.times).toMatchObject({ unitEnRoute: '2026-11-22T14:02:05-05:00', unitOnScene: '2026-11-22T14:09:30-05:00', backInService: '2026-11-22T15:27:11-05:00' });
    const unit = (await stored(server!, 'units', TENANT, unitId))!;
    expect(unit.currentIncidentId).toBeUndefined();
  });

  it('staged and at home (issue 16: every CAD status mapped) stamp eTimes.17 and eTimes.15 on the call and the report', async () => {
    const { incidentId, unitId, epcrId } = await world();
    const presses = [
      event('M1', 'en_route', '2026-11-22T14:02:05-05:00', incidentId),
      event('M1', 'staged', '2026-11-22T14:06:40-05:00', incidentId),
      event('M1', 'on_scene', '2026-11-22T14:12:10-05:00', incidentId),
      event('M1', 'at_home', '2026-11-22T15:40:00-05:00', incidentId),
    ];
    await rawPush(server!, crewM1, 'unit_status_events', JSON.stringify(presses.map((doc) => ({ newDocumentState: { ...doc, rev: `1-mdt.${doc.id.slice(0, 6)}` } }))));
    await settled(server!);
    const incident = (await stored(server!, 'incidents', TENANT, incidentId))!;
    expect(incident.timeline).toMatchObject({ unitArrivedStaging: '2026-11-22T14:06:40-05:00', unitBackAtHome: '2026-11-22T15:40:00-05:00' });
    const epcr = (await stored(server!, 'epcrs', TENANT, epcrId))!;
    expect(epcr.times).toMatchObject({ unitArrivedStaging: '2026-11-22T14:06:40-05:00', unitOnScene: '2026-11-22T14:12:10-05:00', unitBackAtHome: '2026-11-22T15:40:00-05:00' });
    // At home, the unit works no call any more.
    expect((await stored(server!, 'units', TENANT, unitId))!.currentIncidentId).toBeUndefined();
  });

  it('a call without transport gets a left-scene time (eTimes.09) when the unit goes available from the scene', async () => {
    const { incidentId, epcrId } = await world();
    const presses = [
      event('M1', 'en_route', '2026-11-22T14:02:05-05:00', incidentId),
      event('M1', 'on_scene', '2026-11-22T14:09:41-05:00', incidentId),
      event('M1', 'available', '2026-11-22T14:52:30-05:00', incidentId),
    ];
    await rawPush(server!, crewM1, 'unit_status_events', JSON.stringify(presses.map((doc) => ({ newDocumentState: { ...doc, rev: `1-mdt.${doc.id.slice(0, 6)}` } }))));
    await settled(server!);
    const incident = (await stored(server!, 'incidents', TENANT, incidentId))!;
    expect(incident.timeline).toMatchObject({ unitLeftScene: '2026-11-22T14:52:30-05:00', backInService: '2026-11-22T14:52:30-05:00' });
    expect((await stored(server!, 'epcrs', TENANT, epcrId))!.times).toMatchObject({ unitLeftScene: '2026-11-22T14:52:30-05:00' });
  });

  it('another unit\'s event stamps nothing; a late event never moves a call back or out of closed', async () => {
    const { incidentId } = await world();
    await rawPush(server!, crewM2, 'unit_status_events', pushBody(event('M2', 'on_scene', '2026-11-22T14:05:00-05:00', incidentId)));
    await rawPush(server!, crewM1, 'unit_status_events', pushBody(event('M1', 'transporting', '2026-11-22T14:30:00-05:00', incidentId)));
    await settled(server!);
    let incident = (await stored(server!, 'incidents', TENANT, incidentId))!;
    expect(incident.timeline?.unitOnScene).toBeUndefined();
    expect(incident.status).toBe('transporting');
    // An on-scene press delivered after transporting: stamped (it was missing), the call stays transporting.
    await rawPush(server!, crewM1, 'unit_status_events', pushBody(event('M1', 'on_scene', '2026-11-22T14:10:00-05:00', incidentId)));
    await settled(server!);
    incident = (await stored(server!, 'incidents', TENANT, incidentId))!;
    expect(incident).toMatchObject({ status: 'transporting', timeline: { unitOnScene: '2026-11-22T14:10:00-05:00' } });
    // Dispatch closed the call; a status arriving later does not reopen it.
    await systemWrite(server!, 'incidents', TENANT, { ...incident, status: 'closed', closeReason: 'Call completed' });
    await rawPush(server!, crewM1, 'unit_status_events', pushBody(event('M1', 'en_route', '2026-11-22T14:02:00-05:00', incidentId)));
    await settled(server!);
    expect((await stored(server!, 'incidents', TENANT, incidentId))!.status).toBe('closed');
  });

  it('one status press (the event and the unit\'s latest status, as the MDT writes them) runs the timeline hooks once', async () => {
    const { incidentId, unitId } = await world();
    const runs = () => ['unit-status', 'unit-status-event'].reduce((n, kind) => n + (server!.app.hookRunner.stats.runs.get(kind) ?? 0), 0);
    const before = runs();
    const unit = (await stored(server!, 'units', TENANT, unitId))!;
    const at = '2026-11-22T14:02:05-05:00';
    await rawPush(server!, crewM1, 'unit_status_events', pushBody(event('M1', 'en_route', at, incidentId)));
    await rawPush(server!, crewM1, 'units', pushBody({ ...unit, rev: undefined, status: 'en_route', statusAt: at }, '2-mdt.press', unit as never));
    await settled(server!);
    expect((await stored(server!, 'units', TENANT, unitId))!.status).toBe('en_route');
    expect((await stored(server!, 'incidents', TENANT, incidentId))!.timeline?.unitEnRoute).toBe(at);
    expect(runs() - before).toBe(1);
  });
});
