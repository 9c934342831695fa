/**
 * Issue 14, defect 13: "back in service" typed by the crew as 15:27:11 was replaced by 15:28:22
 * stamped from the unit's status. A workflow only fills an empty field: a time a person typed
 * while the stamp was being made is kept, whether the tablet's conflict handler merges or the
 * server merges a queued replay (`conflicts=merge`).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { stubEpcrId } from '../../../server/hooks/workflows/index.ts';
import { openConflicts } from '../../../shared/merge/index.ts';
import type { Epcr, Incident } from '../../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { fakeIntegrations, settled, startHookServer, stored } from './support.ts';

const TENANT = 'agency-typed';
const at = (hhmmss: string) => `2024-10-07T${hhmmss}-04:00`;
const TYPED = at('15:27:11');
const STAMPED = at('15:28:22');

let server: TestServer;
let dispatcher: TestDevice;
const devices: TestDevice[] = [];

async function local<T>(device: TestDevice, collection: string, id: string): Promise<T | undefined> {
  const doc = await device.db.collections[collection]!.findOne(id).exec();
  return doc ? (doc.toJSON() as T) : undefined;
}

beforeAll(async () => {
  server = await startHookServer({ integrations: fakeIntegrations(), validateExports: false });
  dispatcher = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'cad-console' }), collections: ['incidents', 'units'] });
});

afterAll(async () => {
  await Promise.all([dispatcher?.close(), ...devices.map((d) => d.close())]);
  await server?.close();
});

/** A unit on a call whose ePCR stub is on the crew's tablet; returns the ids. */
async function unitOnCall(callSign: string): Promise<{ unitDocId: string; incidentId: string; epcrId: string; crew: TestDevice; token: string }> {
  const unitDocId = randomUUID();
  const incidentId = randomUUID();
  const epcrId = stubEpcrId(TENANT, incidentId, callSign);
  const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `tablet-${callSign}`, subject: callSign });
  const crew = await createDevice({ serverUrl: server.url, token, collections: ['epcrs'] });
  devices.push(crew);
  await dispatcher.writer.insert('units', { id: unitDocId, tenantId: TENANT, callSign, status: 'on_scene', statusAt: at('15:02:00'), currentIncidentId: incidentId });
  await dispatcher.writer.insert('incidents', {
    id: incidentId, tenantId: TENANT, incidentNumber: `2024-${callSign}`, status: 'active', assignedUnitId: callSign, timeline: { psapCall: at('14:58:00') },
  });
  await eventually('the ePCR stub on the crew tablet', () => local<Epcr>(crew, 'epcrs', epcrId));
  await settled(server);
  return { unitDocId, incidentId, epcrId, crew, token };
}

/** The unit goes available: the unit-status workflow stamps backInService on the incident, then on the ePCR. */
async function backInServiceFromStatus(unitDocId: string, incidentId: string, epcrId: string): Promise<void> {
  await dispatcher.writer.update('units', unitDocId, (u) => ({ ...u, status: 'available', statusAt: STAMPED, currentIncidentId: undefined }));
  await eventually('backInService on the incident', async () => (await stored(server, 'incidents', TENANT, incidentId))?.timeline?.backInService === STAMPED);
  await eventually('the stamp on the server\'s ePCR', async () => (await stored(server, 'epcrs', TENANT, epcrId))?.times?.backInService === STAMPED);
  await settled(server);
}

describe('a time the crew typed and a time a workflow stamped', () => {
  it('keeps the typed back-in-service time when the tablet merges the stamp in (RxDB conflict handler)', async () => {
    const { unitDocId, incidentId, epcrId, crew } = await unitOnCall('MEDIC21');
    await crew.goOffline();
    await crew.writer.update('epcrs', epcrId, (d) => ({ ...d, times: { ...d.times, backInService: TYPED } }));
    await backInServiceFromStatus(unitDocId, incidentId, epcrId);

    crew.goOnline();
    const onServer = await eventually('the tablet\'s state merged on the server', async () => {
      await crew.sync.awaitInSync();
      const doc = await stored(server, 'epcrs', TENANT, epcrId);
      const mine = await local<Epcr>(crew, 'epcrs', epcrId);
      return doc && mine && doc.rev === mine.rev ? doc : undefined;
    });
    expect(onServer.times?.backInService).toBe(TYPED);
    expect((await local<Epcr>(crew, 'epcrs', epcrId))?.times?.backInService).toBe(TYPED);
    // The CAD's own stamp is still on the incident for dispatch; nothing is left for the crew to decide.
    expect((await stored(server, 'incidents', TENANT, incidentId) as Incident | undefined)?.timeline?.backInService).toBe(STAMPED);
    expect(openConflicts(onServer)).toEqual([]);
  });

  it('keeps the typed time when the server merges a queued replay (conflicts=merge)', async () => {
    const { unitDocId, incidentId, epcrId, crew, token } = await unitOnCall('MEDIC22');
    const before = (await local<Epcr & { rev: string }>(crew, 'epcrs', epcrId))!;
    await crew.goOffline();
    await backInServiceFromStatus(unitDocId, incidentId, epcrId);

    // What the service worker's queue replays: the typed edit on top of the state the tablet had.
    const typed = { ...before, times: { ...before.times, backInService: TYPED }, rev: `${Number(before.rev.split('-')[0]) + 1}-tablet_MEDIC22.t1`, _deleted: false };
    const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}&conflicts=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ assumedMasterState: { ...before, _deleted: false }, newDocumentState: typed }]),
    });
    expect(response.status).toBe(200);
    const onServer = (await stored(server, 'epcrs', TENANT, epcrId))!;
    expect(onServer.times?.backInService).toBe(TYPED);
    expect(openConflicts(onServer)).toEqual([]);
  });
});
