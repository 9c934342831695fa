/**
 * Compensation: an addendum that changes what was billed corrects the billing record and sends a
 * replacement claim (frequency 7) for a claim already submitted; an incident cancelled before its
 * transport was completed voids the draft billing record made for it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { billingRecordId, claimId, correctionClaimId, nemsisArtifactKey, stubEpcrId } from '../../../server/hooks/workflows/index.ts';
import type { BillingRecord, Claim, Epcr } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { all, completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, type FakeIntegrations } from './support.ts';

const TENANT = 'agency-comp';
const UNIT = 'M12';
let server: TestServer;
let fake: FakeIntegrations;
let crew: TestDevice;
let biller: TestDevice;
let dispatcher: TestDevice;

async function local<T>(device: TestDevice, collection: string, id: string): Promise<T | undefined> {
  const doc = await device.db.collections[collection]!.findOne(id).exec();
  return doc ? (doc.toJSON() as T) : undefined;
}

beforeAll(async () => {
  fake = fakeIntegrations();
  server = await startHookServer({ integrations: fake });
  crew = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m12', subject: UNIT }), collections: ['epcrs'] });
  biller = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'biller', deviceId: 'billing' }), collections: ['billing_records', 'claims'] });
  dispatcher = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'cad' }), collections: ['incidents'] });
});

afterAll(async () => {
  await Promise.all([crew?.close(), biller?.close(), dispatcher?.close()]);
  await server?.close();
});

describe('addendum to a billed report', () => {
  let original: Epcr;
  let billingId: string;
  let originalClaimId: string;

  beforeAll(async () => {
    const report = completeEpcr(TENANT, UNIT);
    report.scene = { ...report.scene, locationType: 'Y92.009' }; // picked up at home: origin R
    await rawPush(server, devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m12', subject: UNIT }), 'epcrs', pushBody(report));
    billingId = billingRecordId(TENANT, report.id);
    originalClaimId = claimId(TENANT, billingId);
    await eventually('the original claim accepted', async () => (await stored(server, 'claims', TENANT, originalClaimId))?.status === 'accepted');
    original = (await eventually('the locked report on the tablet', async () => {
      const doc = await local<Epcr>(crew, 'epcrs', report.id);
      return doc?.lockedAt ? doc : undefined;
    }));
  });

  function addendum(extra: Partial<Epcr>): Omit<Epcr, 'rev'> {
    return { id: randomUUID(), tenantId: TENANT, unitId: UNIT, incidentId: original.incidentId, status: 'finalized', addendumOf: original.id, ...extra };
  }

  const exported = async () => (await server.app.store.getArtifact(nemsisArtifactKey(original.id), TENANT))?.content ?? '';

  it('correcting service level and loaded miles sends a replacement claim and updates the billing record', async () => {
    expect(await eventually('the first NEMSIS export', async () => (await exported()).includes('<ePayment.50>2650003</ePayment.50>'))).toBe(true);
    const amend = addendum({ addendumReason: 'Reviewed: ALS2 (3 IV pushes); odometer shows 12.02 loaded miles', payment: { serviceLevel: '2650005' }, disposition: { loadedMiles: 12.02 } });
    await crew.writer.insert('epcrs', amend);

    const correction = await eventually('the replacement claim on the billing office', async () => {
      const doc = await local<Claim>(biller, 'claims', correctionClaimId(TENANT, amend.id));
      return doc?.status === 'accepted' ? doc : undefined;
    });
    expect(correction).toMatchObject({
      frequencyCode: '7', correctionOf: originalClaimId, billingRecordId: billingId, epcrId: original.id,
      lines: [{ code: 'A0433', modifier: 'RH', units: 1 }, { code: 'A0425', modifier: 'RH', units: 12.1 }],
    });
    const billing = await eventually('the corrected billing record', async () => {
      const doc = await local<BillingRecord>(biller, 'billing_records', billingId);
      return doc?.serviceLevel === 'ALS2' ? doc : undefined;
    });
    expect(billing).toMatchObject({ status: 'claimed', hcpcsBase: 'A0433', loadedMiles: 12.1, modifier: 'RH' });
    // The original claim stays what was sent.
    expect(await local<Claim>(biller, 'claims', originalClaimId)).toMatchObject({
      frequencyCode: '1', status: 'accepted', lines: [{ code: 'A0427', modifier: 'RH', units: 1 }, { code: 'A0425', modifier: 'RH', units: 3.2 }],
    });
    await eventually('the addendum locked on the tablet', async () => (await local<Epcr>(crew, 'epcrs', amend.id))?.lockedAt);

    await settled(server);
    const submitted = fake.claimSubmissions.filter((s) => s.claimId === correction.id);
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ idempotencyKey: `claim:${correction.id}`, contentType: 'application/edi-x12' });
    // A replacement 837P (frequency 7) naming the payer's reference of the claim it replaces (REF*F8).
    const originalReference = (await local<Claim>(biller, 'claims', originalClaimId))?.payerResponse?.replace('reference ', '');
    expect(originalReference).toBeTruthy();
    expect(submitted[0]!.body as string).toMatch(/\nCLM\*[^~]*\*41:B:7\*/);
    expect(submitted[0]!.body as string).toContain(`\nREF*F8*${originalReference}~`);
    expect(submitted[0]!.body as string).toContain('SV1*HC:A0433:RH*');

    // The state gets the corrected record under the same PCR UUID (a resubmission is an update).
    const xml = await exported();
    expect(xml).toContain(`<PatientCareReport UUID="${original.id}">`);
    expect(xml).toContain('<ePayment.50>2650005</ePayment.50>');
    expect(xml).not.toContain(amend.id);
    expect(xml).not.toContain('Reviewed: ALS2');
  });

  it('a later addendum changing the destination corrects on top of the first correction', async () => {
    const amend = addendum({ addendumReason: 'Patient was taken to the skilled nursing facility', disposition: { destinationType: '4221041' } });
    await crew.writer.insert('epcrs', amend);
    const correction = await eventually('the second replacement claim', async () => {
      const doc = await stored(server, 'claims', TENANT, correctionClaimId(TENANT, amend.id));
      return doc?.status === 'accepted' ? doc : undefined;
    });
    // Charged from the agency's fee schedule when sent (demo: $1,200 ALS2, $15 per loaded mile).
    expect(correction.lines).toEqual([{ code: 'A0433', modifier: 'RN', units: 1, chargeCents: 120000 }, { code: 'A0425', modifier: 'RN', units: 12.1, chargeCents: 18150 }]);
    expect((await stored(server, 'billing_records', TENANT, billingId))).toMatchObject({ modifier: 'RN', destinationType: 'N', serviceLevel: 'ALS2' });
  });

  it('an addendum that changes nothing billed makes no claim', async () => {
    const claimsBefore = (await all(server, 'claims', TENANT)).length;
    const amend = addendum({ addendumReason: 'Narrative typo', narrative: { text: 'Pt found unresponsive in car, RR 4 & pinpoint pupils.' } });
    await crew.writer.insert('epcrs', amend);
    await eventually('the addendum locked', async () => (await stored(server, 'epcrs', TENANT, amend.id))?.lockedAt);
    await settled(server);
    expect((await all(server, 'claims', TENANT)).length).toBe(claimsBefore);
    // Re-exported with the corrected narrative, on top of the earlier addenda's corrections.
    const xml = await exported();
    expect(xml).toContain('<eNarrative.01>Pt found unresponsive in car, RR 4 &amp; pinpoint pupils.</eNarrative.01>');
    expect(xml).toContain('<ePayment.50>2650005</ePayment.50>');
  });

  it('an addendum without a reason is refused and changes nothing', async () => {
    const claimsBefore = (await all(server, 'claims', TENANT)).length;
    const amend = addendum({ payment: { serviceLevel: '2650007' } });
    await crew.writer.insert('epcrs', amend);
    const refused = await eventually('the refusal on the tablet', async () => {
      const doc = await local<Epcr>(crew, 'epcrs', amend.id);
      return doc?.status === 'draft' ? doc : undefined;
    });
    expect(refused.finalizeErrors).toEqual([{ path: 'addendumReason', message: 'The reason for the addendum is required to finalize it' }]);
    await settled(server);
    expect((await all(server, 'claims', TENANT)).length).toBe(claimsBefore);
    expect((await stored(server, 'billing_records', TENANT, billingId))?.serviceLevel).toBe('ALS2');
  });
});

describe('incident cancelled before its transport was completed', () => {
  async function incidentWithStub(unitId: string) {
    const incidentId = randomUUID();
    await dispatcher.writer.insert('incidents', { id: incidentId, tenantId: TENANT, incidentNumber: `I-${incidentId.slice(0, 6)}`, status: 'dispatched', assignedUnitId: unitId });
    const epcrId = stubEpcrId(TENANT, incidentId, unitId);
    await eventually('the stub', () => stored(server, 'epcrs', TENANT, epcrId));
    return { incidentId, billingId: billingRecordId(TENANT, epcrId) };
  }

  async function commit(incidentId: string, change: Record<string, unknown>) {
    await dispatcher.writer.update('incidents', incidentId, (i) => ({ ...i, ...change }));
    await eventually('the incident change on the server', async () => {
      const doc = (await stored(server, 'incidents', TENANT, incidentId)) as Record<string, unknown> | undefined;
      return doc && Object.entries(change).every(([k, v]) => doc[k] === v);
    });
  }

  it('a transport marked by mistake, then the call cancelled: the draft billing record is voided', async () => {
    const { incidentId, billingId } = await incidentWithStub('M21');
    await commit(incidentId, { transportCompleted: true });
    await eventually('the draft billing record', async () => (await local<BillingRecord>(biller, 'billing_records', billingId))?.status === 'draft');
    await commit(incidentId, { transportCompleted: false, status: 'cancelled' });
    await eventually('the void billing record on the billing office', async () => (await local<BillingRecord>(biller, 'billing_records', billingId))?.status === 'void');
  });

  it('cancelled after the transport was completed: the billing record stays', async () => {
    const { incidentId, billingId } = await incidentWithStub('M22');
    await commit(incidentId, { transportCompleted: true });
    await eventually('the draft billing record', async () => (await stored(server, 'billing_records', TENANT, billingId))?.status === 'draft');
    await commit(incidentId, { status: 'cancelled' });
    await settled(server);
    expect((await stored(server, 'billing_records', TENANT, billingId))?.status).toBe('draft');
  });

  it('cancelled after the report was locked and claimed: the claimed record is left to the biller', async () => {
    const { incidentId, billingId } = await incidentWithStub(UNIT);
    const epcrId = stubEpcrId(TENANT, incidentId, UNIT);
    const stub = await stored(server, 'epcrs', TENANT, epcrId);
    const report = { ...completeEpcr(TENANT, UNIT), id: epcrId, incidentId };
    await rawPush(server, devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m12', subject: UNIT }), 'epcrs', pushBody(report, '50-crew.x', stub));
    await eventually('the claimed billing record', async () => (await stored(server, 'billing_records', TENANT, billingId))?.status === 'claimed');
    await commit(incidentId, { status: 'cancelled' });
    await settled(server);
    expect((await stored(server, 'billing_records', TENANT, billingId))?.status).toBe('claimed');
  });

  it('cancelled with nothing billed: nothing to void, nothing fails', async () => {
    const { incidentId, billingId } = await incidentWithStub('M23');
    await commit(incidentId, { status: 'cancelled' });
    await settled(server);
    expect(await stored(server, 'billing_records', TENANT, billingId)).toBeUndefined();
    expect(await server.app.store.listDeadLetters(TENANT, 10)).toEqual([]);
  });
});
