/**
 * Issue 20: a call's history as the server records it (incident-history workflows): what each
 * change did, stamped with the server's commit time, never a device's clock; the acknowledgement
 * (the MDT's button, or else the first status that implies it) and notes the crew read. Devices
 * cannot write the history. Real Fastify, real SQLite, the product's workflows, pushes over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { acknowledgedSince } from '../../../server/hooks/workflows/incident-history.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, systemWrite } from './support.ts';

const TENANT = 'agency-history';
const dispatcher = devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console-1', subject: 'dana' });
const crew = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-7', subject: 'M7' });
/** A device clock far off: nothing in the history may carry it as the time of an entry. */
const SKEWED = '2020-01-01T00:00:00+00:00';

let server: TestServer;
beforeAll(async () => { server = await startHookServer({ integrations: fakeIntegrations() }); }, 120_000);
afterAll(async () => { await server?.close(); });

const history = async (id: string) => (await stored(server, 'incidents', TENANT, id))?.history ?? [];

describe('incident history', () => {
  it('records received, assigned, the acknowledge press, statuses, notes read and the closing reason with server times', async () => {
    const unitId = randomUUID();
    const incidentId = randomUUID();
    await systemWrite(server, 'units', TENANT, { id: unitId, tenantId: TENANT, callSign: 'M7', status: 'dispatched', currentIncidentId: incidentId } as never);
    const start = Date.now() - 1000;
    const incident = { id: incidentId, tenantId: TENANT, incidentNumber: 'H-1', status: 'dispatched', assignedUnitId: 'M7', timeline: { psapCall: SKEWED }, _deleted: false };
    await rawPush(server, dispatcher, 'incidents', pushBody(incident, '1-a'));
    await settled(server);
    let entries = await history(incidentId);
    expect(entries.map((e) => e.kind)).toEqual(['received', 'assigned']);
    for (const e of entries) {
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Math.floor(start / 1000) * 1000);
      expect(Date.parse(e.at)).toBeLessThanOrEqual(Date.now());
    }
    expect(entries[0]!.by).toBe('dispatcher@console-1');
    expect(acknowledgedSince(entries, 'M7')).toBe(false);

    // A note, then the crew acknowledges with its (skewed) clock and marks the note read.
    const withNote = { ...(await stored(server, 'incidents', TENANT, incidentId))!, dispatchNotes: [{ id: 'n1', text: 'Gate code 4411', by: 'dana', at: SKEWED }] };
    await rawPush(server, dispatcher, 'incidents', pushBody(withNote, '2-b', await stored(server, 'incidents', TENANT, incidentId)));
    const unit = { id: unitId, tenantId: TENANT, callSign: 'M7', status: 'dispatched', currentIncidentId: incidentId, _deleted: false };
    const unitNow = await stored(server, 'units', TENANT, unitId);
    await rawPush(server, crew, 'units', pushBody({ ...unit, assignmentAcknowledgedAt: SKEWED, readNoteIds: ['n1'] }, '2-c', unitNow));
    await rawPush(server, crew, 'unit_status_events', pushBody({ id: randomUUID(), tenantId: TENANT, unitId: 'M7', status: 'en_route', recordedAt: SKEWED, incidentId, _deleted: false }));
    await settled(server);
    entries = await history(incidentId);
    const kinds = entries.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['note', 'acknowledged', 'notes-read', 'unit-status']));
    const acks = entries.filter((e) => e.kind === 'acknowledged');
    // The button came first: en route is a status, not a second acknowledgement.
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({ unitId: 'M7', via: 'acknowledge', deviceAt: SKEWED });
    expect(entries.find((e) => e.kind === 'unit-status')).toMatchObject({ status: 'en_route', deviceAt: SKEWED });
    expect(entries.find((e) => e.kind === 'notes-read')).toMatchObject({ noteId: 'n1', unitId: 'M7' });
    for (const e of entries) expect(e.at).not.toBe(SKEWED);
    expect(acknowledgedSince(entries, 'M7')).toBe(true);

    // Closing records the status with its reason; a re-run of the workflows adds nothing.
    const current = (await stored(server, 'incidents', TENANT, incidentId))!;
    await rawPush(server, dispatcher, 'incidents', pushBody({ ...current, status: 'closed', closeReason: 'Call completed', closedAt: SKEWED }, '9-z', current));
    await settled(server);
    entries = await history(incidentId);
    expect(entries.at(-1)).toMatchObject({ kind: 'status', status: 'closed', text: 'Call completed' });
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
  });

  it('without an acknowledge press, the first status after the assignment that implies it is the acknowledgement', async () => {
    const incidentId = randomUUID();
    await rawPush(server, dispatcher, 'incidents', pushBody({ id: incidentId, tenantId: TENANT, incidentNumber: 'H-2', status: 'dispatched', assignedUnitId: 'M8', _deleted: false }, '1-a'));
    const crew8 = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-8', subject: 'M8' });
    for (const status of ['en_route', 'on_scene']) {
      await rawPush(server, crew8, 'unit_status_events', pushBody({ id: randomUUID(), tenantId: TENANT, unitId: 'M8', status, recordedAt: SKEWED, incidentId, _deleted: false }));
      await settled(server);
    }
    const entries = await history(incidentId);
    expect(entries.filter((e) => e.kind === 'acknowledged')).toEqual([expect.objectContaining({ unitId: 'M8', via: 'en_route' })]);
    expect(entries.filter((e) => e.kind === 'unit-status').map((e) => e.status)).toEqual(['en_route', 'on_scene']);
  });

  it('a status set by dispatch or CAD on the unit is recorded too, and en route acknowledges', async () => {
    const incidentId = randomUUID();
    const unitId = randomUUID();
    await rawPush(server, dispatcher, 'incidents', pushBody({ id: incidentId, tenantId: TENANT, incidentNumber: 'H-4', status: 'dispatched', assignedUnitId: 'C9', _deleted: false }, '1-a'));
    await systemWrite(server, 'units', TENANT, { id: unitId, tenantId: TENANT, callSign: 'C9', status: 'dispatched', currentIncidentId: incidentId } as never);
    await settled(server);
    await systemWrite(server, 'units', TENANT, { id: unitId, tenantId: TENANT, callSign: 'C9', status: 'en_route', statusAt: SKEWED, currentIncidentId: incidentId } as never);
    await settled(server);
    const entries = await history(incidentId);
    expect(entries.filter((e) => e.kind === 'unit-status').map((e) => e.status)).toEqual(['dispatched', 'en_route']);
    expect(entries.filter((e) => e.kind === 'acknowledged')).toEqual([expect.objectContaining({ unitId: 'C9', via: 'en_route', deviceAt: SKEWED })]);
  });

  it('a device cannot write the history', async () => {
    const incidentId = randomUUID();
    await rawPush(server, dispatcher, 'incidents', pushBody({ id: incidentId, tenantId: TENANT, incidentNumber: 'H-3', status: 'new', _deleted: false }, '1-a'));
    await settled(server);
    const current = (await stored(server, 'incidents', TENANT, incidentId))!;
    const forged = [...(current.history ?? []), { id: 'forged', at: SKEWED, kind: 'acknowledged', unitId: 'M9', via: 'acknowledge' }];
    const answer = await rawPush(server, dispatcher, 'incidents', pushBody({ ...current, history: forged }, '5-f', current));
    expect(JSON.stringify(answer.conflicts)).not.toContain('"forged"');
    await eventually('the refusal to be kept', async () => (await history(incidentId)).every((e) => e.id !== 'forged'));
    expect((await history(incidentId)).some((e) => e.id === 'forged')).toBe(false);
  });
});
