/**
 * The EMS hook chain end to end, through the replication API with real RxDB clients: dispatch
 * creates an incident → the crew's tablet gets the prefilled ePCR → unit statuses fill the times →
 * finalization is refused with the missing fields, then accepted → the lock reaches the tablet and
 * billing, claim, NEMSIS export, hospital and CAD notices each happen exactly once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { billingRecordId, claimId, nemsisArtifactKey, stubEpcrId } from '../../../server/hooks/workflows/index.ts';
import { validate837p } from '../../../server/integrations/x12/validate-837p.ts';
import { validateEmsDataSetXsd } from '../../../server/nemsis/validate.ts';
import type { BillingRecord, Claim, Epcr, Incident } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { overdoseEpcr } from '../nemsis/fixtures.ts';
import { all, completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, xsdDir, type FakeIntegrations } from './support.ts';

const TENANT = 'agency-flow';
/** Units are named by call sign in incidents, ePCRs and crew tokens, as CAD names them. */
const unitId = 'MEDIC7';
const unitDocId = randomUUID();
const incidentId = randomUUID();
const epcrId = stubEpcrId(TENANT, incidentId, unitId);
const at = (hhmmss: string) => `2024-10-07T${hhmmss}-04:00`;
const sceneAddress = { street: '40 Elm Street', city: '213415', state: 'CT', zip: '06810', county: '09001' };

let server: TestServer;
let fake: FakeIntegrations;
let dispatcher: TestDevice;
let crew: TestDevice;
let biller: TestDevice;

async function local<T>(device: TestDevice, collection: string, id: string): Promise<T | undefined> {
  const doc = await device.db.collections[collection]!.findOne(id).exec();
  return doc ? (doc.toJSON() as T) : undefined;
}

beforeAll(async () => {
  fake = fakeIntegrations();
  server = await startHookServer({ integrations: fake });
  dispatcher = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'cad-console' }), collections: ['incidents', 'units'] });
  crew = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m7', subject: unitId }), collections: ['epcrs'] });
  biller = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'biller', deviceId: 'billing-office' }), collections: ['billing_records', 'claims'] });
});

afterAll(async () => {
  await Promise.all([dispatcher?.close(), crew?.close(), biller?.close()]);
  await server?.close();
});

describe('from CAD incident to locked, billed, exported and notified report', () => {
  it('an incident pushed by dispatch puts a prefilled ePCR stub on the assigned crew\'s tablet', async () => {
    await dispatcher.writer.insert('units', { id: unitDocId, tenantId: TENANT, callSign: unitId, capability: '2207015', status: 'available' });
    await dispatcher.writer.insert('incidents', {
      id: incidentId, tenantId: TENANT, incidentNumber: '2024-046512', cadRecordId: 'CAD-246844', complaint: 'unconscious, possible OD',
      priority: '2305001', status: 'dispatched', address: sceneAddress, location: { lat: 41.394812, lng: -73.454011 },
      assignedUnitId: unitId, timeline: { psapCall: at('20:20:00') },
    });

    const stub = await eventually('the ePCR stub on the crew tablet', () => local<Epcr>(crew, 'epcrs', epcrId));
    expect(stub).toMatchObject({
      status: 'draft', unitId, incidentId,
      response: { incidentNumber: '2024-046512', callSign: unitId, unitCapability: '2207015' },
      dispatch: { complaint: 'unconscious, possible OD', priority: '2305001', cadRecordId: 'CAD-246844' },
      scene: { address: sceneAddress, location: { lat: 41.394812, lng: -73.454011 } },
      times: { psapCall: at('20:20:00') },
    });
    expect(stub.lockedAt).toBeUndefined();
  });

  it('unit statuses stamp the incident timeline and fill the ePCR times, never over a time the crew entered', async () => {
    // The crew notes its own arrival time before the CAD status comes in.
    await crew.writer.update('epcrs', epcrId, (d) => ({ ...d, times: { ...d.times, unitOnScene: at('20:25:30') } }));
    await eventually('the crew time on the server', async () => (await stored(server, 'epcrs', TENANT, epcrId))?.times?.unitOnScene === at('20:25:30'));

    // A backup unit heading to the same call does not stamp the assigned unit's times.
    const backupId = randomUUID();
    await dispatcher.writer.insert('units', { id: backupId, tenantId: TENANT, callSign: 'MEDIC 9', status: 'en_route', statusAt: at('20:23:00'), currentIncidentId: incidentId });
    await eventually('the backup unit on the server', () => stored(server, 'units', TENANT, backupId));
    await settled(server);
    expect((await stored(server, 'incidents', TENANT, incidentId))?.timeline?.unitEnRoute).toBeUndefined();

    const statuses = [
      ['dispatched', at('20:22:01'), 'unitNotified'], ['en_route', at('20:23:38'), 'unitEnRoute'], ['on_scene', at('20:25:53'), 'unitOnScene'],
      ['transporting', at('20:35:22'), 'unitLeftScene'], ['at_destination', at('20:54:03'), 'atDestination'],
    ] as const;
    for (const [status, statusAt, key] of statuses) {
      await dispatcher.writer.update('units', unitDocId, (u) => ({ ...u, status, statusAt, currentIncidentId: incidentId }));
      await eventually(`incident timeline ${key} on the dispatch console`, async () => (await local<Incident>(dispatcher, 'incidents', incidentId))?.timeline?.[key] === statusAt);
    }
    // Back in service: the CAD clears the unit's incident at the same time.
    await dispatcher.writer.update('units', unitDocId, (u) => ({ ...u, status: 'available', statusAt: at('21:15:33'), currentIncidentId: undefined }));
    await eventually('backInService on the incident', async () => (await local<Incident>(dispatcher, 'incidents', incidentId))?.timeline?.backInService === at('21:15:33'));

    const report = await eventually('the CAD times on the crew tablet', async () => {
      const doc = await local<Epcr>(crew, 'epcrs', epcrId);
      return doc?.times?.backInService ? doc : undefined;
    });
    expect(report.times).toEqual({
      psapCall: at('20:20:00'), unitNotified: at('20:22:01'), unitEnRoute: at('20:23:38'),
      unitOnScene: at('20:25:30'), // the crew's, not the CAD's 20:25:53
      unitLeftScene: at('20:35:22'), atDestination: at('20:54:03'), backInService: at('21:15:33'),
    });
    expect((await local<Incident>(dispatcher, 'incidents', incidentId))?.timeline?.unitOnScene).toBe(at('20:25:53'));
  });

  it('transport completed before the report is finished: a draft billing record, no claim yet', async () => {
    await dispatcher.writer.update('incidents', incidentId, (i) => ({ ...i, transportCompleted: true, status: 'transporting' }));
    const billing = await eventually('the billing record on the billing office', () => local<BillingRecord>(biller, 'billing_records', billingRecordId(TENANT, epcrId)));
    expect(billing).toMatchObject({ status: 'draft', epcrId, incidentId, pickupZip: '06810', originType: 'S' });
    expect(billing.hcpcsBase).toBeUndefined(); // the crew has not documented the service level yet
    await settled(server);
    expect(fake.claimSubmissions).toEqual([]);
  });

  it('finalizing an incomplete report is refused with the missing fields; the report stays editable', async () => {
    await crew.writer.update('epcrs', epcrId, (d) => ({ ...d, narrative: { text: 'Pt found unresponsive in car.' }, status: 'finalized' }));
    const refused = await eventually('the refusal on the crew tablet', async () => {
      const doc = await local<Epcr>(crew, 'epcrs', epcrId);
      return doc?.status === 'draft' && (doc.finalizeErrors?.length ?? 0) > 0 ? doc : undefined;
    });
    expect(refused.lockedAt).toBeUndefined();
    expect(refused.finalizeErrors).toContainEqual({ path: 'patient.lastName', message: 'Patient last name is required to finalize' });
    expect(refused.finalizeErrors!.map((p) => p.path)).toEqual(expect.arrayContaining([
      'response.serviceType', 'response.vehicleNumber', 'dispatch.reason', 'disposition.unitDisposition', 'situation.chiefComplaint', 'vitals',
    ]));
    // Nothing downstream happened for a refused report.
    await settled(server);
    expect(await server.app.store.getArtifact(nemsisArtifactKey(epcrId), TENANT)).toBeUndefined();
    expect([fake.hospitalNotices.length, fake.cadNotices.length, fake.claimSubmissions.length]).toEqual([0, 0, 0]);

    // Still a draft the crew can keep working on.
    await crew.writer.update('epcrs', epcrId, (d) => ({ ...d, narrative: { text: 'Pt found unresponsive in car, RR 4.' } }));
    await eventually('the edit on the server', async () => (await stored(server, 'epcrs', TENANT, epcrId))?.narrative?.text === 'Pt found unresponsive in car, RR 4.');
  });

  it('the completed report is locked on the tablet, and billing, claim, export and notices each happen once', async () => {
    const fx = overdoseEpcr();
    await crew.writer.update('epcrs', epcrId, (d) => ({
      ...d,
      response: { ...fx.response, ...d.response },
      dispatch: { ...d.dispatch, reason: fx.dispatch!.reason, emdPerformed: fx.dispatch!.emdPerformed },
      times: { ...d.times, atPatient: at('20:26:07'), transferOfCare: at('20:58:00') },
      scene: { ...d.scene, locationType: 'Y92.009', numberOfPatients: 1 }, // a private home
      patient: fx.patient, situation: fx.situation, history: fx.history, vitals: fx.vitals, medications: fx.medications,
      procedures: fx.procedures, disposition: { ...fx.disposition, loadedMiles: 7.21 }, payment: fx.payment,
      status: 'finalized',
    }));
    const locked = await eventually('the lock on the crew tablet', async () => {
      const doc = await local<Epcr>(crew, 'epcrs', epcrId);
      return doc?.lockedAt ? doc : undefined;
    });
    expect(locked.status).toBe('finalized');
    expect(locked.finalizeErrors).toEqual([]);
    expect(locked.lockedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-04:00$/); // the report's own offset, never Z

    const billingId = billingRecordId(TENANT, epcrId);
    const claim = await eventually('the accepted claim on the billing office', async () => {
      const doc = await local<Claim>(biller, 'claims', claimId(TENANT, billingId));
      return doc?.status === 'accepted' ? doc : undefined;
    });
    expect(claim).toMatchObject({
      billingRecordId: billingId, epcrId, frequencyCode: '1', payerResponse: 'reference CH-1',
      // Charged from the agency's fee schedule (demo: $850 per ALS1 emergency transport, $15 per loaded mile).
      lines: [{ code: 'A0427', modifier: 'RH', units: 1, chargeCents: 85000 }, { code: 'A0425', modifier: 'RH', units: 7.3, chargeCents: 10950 }],
    });
    const billing = await eventually('the claimed billing record', async () => {
      const doc = await local<BillingRecord>(biller, 'billing_records', billingId);
      return doc?.status === 'claimed' ? doc : undefined;
    });
    expect(billing).toMatchObject({
      serviceLevel: 'ALS1-EMERGENCY', hcpcsBase: 'A0427', hcpcsMileage: 'A0425', loadedMiles: 7.3,
      originType: 'R', destinationType: 'H', modifier: 'RH', pickupZip: '06810', payer: 'Medicare',
    });

    await settled(server);
    expect(fake.claimSubmissions).toHaveLength(1);
    expect(fake.claimSubmissions[0]).toMatchObject({ idempotencyKey: `claim:${claim.id}`, claimId: claim.id, tenantId: TENANT });
    // The clearinghouse gets the 837P file: the patient, the pick-up ZIP and the charged lines are in it, and it passes the guide's structure.
    expect(fake.claimSubmissions[0]!.contentType).toBe('application/edi-x12');
    const file = fake.claimSubmissions[0]!.body as string;
    expect(validate837p(file)).toEqual([]);
    expect(file).toContain("NM1*IL*1*O'CONNOR*");
    expect(file).toMatch(/NM1\*PW\*2~\nN3\*[^~]+~\nN4\*DANBURY\*CT\*06810~/);
    expect(file).toContain('SV1*HC:A0427:RH*850*UN*1***');
    expect(file).toContain('SV1*HC:A0425:RH*109.5*UN*7.3***');

    expect(fake.hospitalNotices).toHaveLength(1);
    const notice = fake.hospitalNotices[0]!;
    expect(notice).toMatchObject({ epcrId, destinationCode: '070033', idempotencyKey: `hospital-notice:${epcrId}` });
    const entries = (notice.body as { entry: { resource: Record<string, any> }[] }).entry.map((e) => e.resource);
    expect(entries.find((r) => r['resourceType'] === 'Encounter')?.['identifier'][0].value).toBe(`urn:uuid:${epcrId}`);
    // Every vital set, in time order (docs/hooks.md, "Hospital notices"): 44 at 20:27, 88 at 20:33, 84 at 20:41.
    const heartRates = entries.filter((r) => r['resourceType'] === 'Observation' && r['code']?.coding[0].code === '8867-4');
    expect(heartRates.map((o) => [o['effectiveDateTime'], o['valueQuantity'].value])).toEqual([
      ['2024-10-07T20:27:00-04:00', 44], ['2024-10-07T20:33:00-04:00', 88], ['2024-10-07T20:41:00-04:00', 84],
    ]);

    expect(fake.cadNotices).toHaveLength(1);
    expect(fake.cadNotices[0]).toMatchObject({ event: 'epcr:finalized', payload: { epcrId, incidentId, incidentNumber: '2024-046512', unitId } });
    expect(JSON.stringify(fake.cadNotices[0])).not.toContain("O'Connor"); // no patient data to the CAD

    const artifact = await server.app.store.getArtifact(nemsisArtifactKey(epcrId), TENANT);
    expect(artifact?.contentType).toBe('application/xml');
    expect(artifact!.content).toContain(`<PatientCareReport UUID="${epcrId}">`);
    expect(artifact!.content).toContain('<eResponse.03>2024-046512</eResponse.03>');
    expect(await validateEmsDataSetXsd(artifact!.content, { xsdDir })).toEqual({ valid: true, errors: [] });

    expect((await all(server, 'billing_records', TENANT)).length).toBe(1);
    expect((await all(server, 'claims', TENANT)).length).toBe(1);
    expect(await server.app.store.listDeadLetters(TENANT, 10)).toEqual([]);
  });

  it('replaying the same finalize push over raw HTTP repeats no effect', async () => {
    const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m9', subject: 'M9' });
    const report = completeEpcr(TENANT, 'M9');
    const body = pushBody(report);
    const before = { claims: fake.claimSubmissions.length, hospital: fake.hospitalNotices.length, cad: fake.cadNotices.length };

    // The device's retry after a lost answer: the same body twice, back to back.
    await rawPush(server, token, 'epcrs', body);
    await rawPush(server, token, 'epcrs', body);
    await settled(server);
    // ... and once more much later, after the server locked it: the device is told the new state.
    const late = await rawPush(server, token, 'epcrs', body);
    expect(late.conflicts).toHaveLength(1);
    expect(late.conflicts[0]).toMatchObject({ id: report.id, status: 'finalized', finalizeErrors: [] });
    expect(typeof late.conflicts[0]!['lockedAt']).toBe('string');
    await settled(server);

    expect(fake.claimSubmissions.length - before.claims).toBe(1);
    expect(fake.hospitalNotices.length - before.hospital).toBe(1);
    expect(fake.cadNotices.length - before.cad).toBe(1);
    expect(fake.cadNotices.filter((n) => n.payload['epcrId'] === report.id)).toHaveLength(1);
    const billingId = billingRecordId(TENANT, report.id);
    expect((await all(server, 'billing_records', TENANT)).filter((b) => b.epcrId === report.id).map((b) => b.id)).toEqual([billingId]);
    expect((await all(server, 'claims', TENANT)).filter((c) => c.epcrId === report.id).map((c) => [c.id, c.status])).toEqual([[claimId(TENANT, billingId), 'accepted']]);
    expect(await server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT)).toBeDefined();
    expect((await stored(server, 'epcrs', TENANT, report.id))?.lockedAt).toBeDefined();
  });
});
