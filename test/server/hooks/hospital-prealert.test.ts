/**
 * The hospital hears about a patient twice: a pre-arrival alert once the unit leaves the scene for
 * a destination that takes notices, and the full PCR after the report is locked. Real RxDB crew
 * client, real server and workflow catalogue; the hospital gateway only records (its HTTP client
 * is tested against a real HTTP hospital in test/server/integrations/hospital.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { completeEpcr, fakeIntegrations, NOTIFIED_HOSPITAL, settled, startHookServer, stored, systemWrite, type FakeIntegrations } from './support.ts';

const TENANT = 'agency-prealert';
const UNIT = 'MEDIC3';
const at = (hhmmss: string) => `2024-10-07T${hhmmss}-04:00`;

let server: TestServer;
let fake: FakeIntegrations;
let crew: TestDevice;

beforeAll(async () => {
  fake = fakeIntegrations();
  server = await startHookServer({ integrations: fake });
  crew = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m3', subject: UNIT }), collections: ['epcrs'] });
});

afterAll(async () => {
  await crew?.close();
  await server?.close();
});

type Resource = Record<string, any>;
const resources = (body: unknown) => (body as { entry: { resource: Resource }[] }).entry.map((e) => e.resource);

describe('hospital pre-arrival alert', () => {
  it('goes out once when the unit leaves the scene for a notified hospital, before the full report, which follows on lock', async () => {
    // A report in progress on scene: patient, complaint, vitals, the destination chosen.
    const { status: _status, times, disposition, ...report } = completeEpcr(TENANT, UNIT, { disposition: { ...completeEpcr(TENANT, UNIT).disposition, preArrivalAlert: '4224013' } });
    const id = report.id;
    await crew.writer.insert('epcrs', { ...report, status: 'draft', disposition, times: { ...times, unitLeftScene: undefined, atDestination: undefined, transferOfCare: undefined } } as never);
    await eventually('the report on the server', () => stored(server, 'epcrs', TENANT, id));
    await settled(server);
    expect(fake.hospitalNotices, 'nothing while still on scene').toEqual([]);

    // Leaving the scene: the alert goes out, with the encounter in progress and the STEMI alert.
    await crew.writer.update('epcrs', id, (d) => ({ ...d, times: { ...d.times, unitLeftScene: at('20:35:22') } }));
    await eventually('the pre-arrival alert', () => fake.hospitalNotices.length === 1);
    const alert = fake.hospitalNotices[0]!;
    expect(alert).toMatchObject({ epcrId: id, destinationCode: NOTIFIED_HOSPITAL, idempotencyKey: `hospital-prealert:${id}` });
    const sent = resources(alert.body);
    const encounter = sent.find((r) => r['resourceType'] === 'Encounter')!;
    expect(encounter['status']).toBe('in-progress');
    expect(encounter['period']).toEqual({ start: expect.any(String) });
    expect(encounter['priority']?.text).toBe('Pre-arrival alert: STEMI');
    expect(sent.filter((r) => r['resourceType'] === 'Observation').every((o) => o['status'] === 'preliminary')).toBe(true);
    expect(sent.some((r) => r['resourceType'] === 'Observation')).toBe(true);

    // More vitals on the way: no second alert.
    await crew.writer.update('epcrs', id, (d) => ({ ...d, narrative: { text: 'Transporting, 12-lead transmitted.' } }));
    await eventually('the edit on the server', async () => (await stored(server, 'epcrs', TENANT, id))?.narrative?.text === 'Transporting, 12-lead transmitted.');
    await settled(server);
    expect(fake.hospitalNotices).toHaveLength(1);

    // Arrived and finalized: the full PCR notice, under its own key; the alert is not repeated.
    await crew.writer.update('epcrs', id, (d) => ({ ...d, times: { ...d.times, atDestination: at('20:54:03'), transferOfCare: at('20:58:00') }, status: 'finalized' }));
    await eventually('the lock on the tablet', async () => ((await crew.db.collections['epcrs']!.findOne(id).exec())?.toJSON() as Epcr | undefined)?.lockedAt);
    await settled(server);
    expect(fake.hospitalNotices.map((n) => n.idempotencyKey)).toEqual([`hospital-prealert:${id}`, `hospital-notice:${id}`]);
    expect(resources(fake.hospitalNotices[1]!.body).find((r) => r['resourceType'] === 'Encounter')!['status']).toBe('finished');
  });

  it('a report finalized straight away (no transport leg seen) gets only the full notice', async () => {
    const before = fake.hospitalNotices.length;
    const report = completeEpcr(TENANT, UNIT);
    await crew.writer.insert('epcrs', report as never);
    await eventually('the lock on the tablet', async () => ((await crew.db.collections['epcrs']!.findOne(report.id).exec())?.toJSON() as Epcr | undefined)?.lockedAt);
    await settled(server);
    expect(fake.hospitalNotices.slice(before).map((n) => n.idempotencyKey)).toEqual([`hospital-notice:${report.id}`]);
  });
  it('an imported report (another system\'s finished record) sends no alert, though it reads as transporting; the same report written here does', async () => {
    const before = fake.hospitalNotices.length;
    const transporting = (id: string) => {
      const { times, ...report } = completeEpcr(TENANT, UNIT);
      return { ...report, id, status: 'draft', times: { ...times, atDestination: undefined, transferOfCare: undefined } };
    };
    const imported = { ...transporting(crypto.randomUUID()), importedAt: at('21:00:00') };
    await systemWrite(server, 'epcrs', TENANT, imported as never);
    await settled(server);
    expect(fake.hospitalNotices.slice(before), 'no notice from an imported report').toEqual([]);
    const own = transporting(crypto.randomUUID());
    await systemWrite(server, 'epcrs', TENANT, own as never);
    await eventually('the alert of the report written here', () => fake.hospitalNotices.slice(before).some((n) => n.epcrId === own.id));
    expect(fake.hospitalNotices.slice(before).map((n) => n.epcrId)).toEqual([own.id]);
  });
});
