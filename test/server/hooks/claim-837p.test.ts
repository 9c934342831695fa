/**
 * Issue 16, item 7: a locked transport report becomes an X12 837P (005010X222A1) claim that the
 * clearinghouse receives over real HTTP (the product's HttpClaimsGateway, a stand-in clearinghouse
 * on 127.0.0.1) as application/edi-x12, charged from the agency's fee schedule, for three kinds of
 * transport: a 911 scene call (ALS1 emergency, scene → hospital: SH), an interfacility transfer with
 * the physician certification statement on file (HH, CRC medically necessary, PWK) and a
 * motor-vehicle collision (the accident indicator and date). Each file passes the implementation
 * guide's structure check.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoBillingSettings } from '../../../server/demo/billing-settings.ts';
import { billingRecordId, claimId } from '../../../server/hooks/workflows/index.ts';
import { buildIntegrations, integrationsConfigFrom } from '../../../server/integrations/index.ts';
import { parseX12 } from '../../../server/integrations/x12/parse.ts';
import { validate837p } from '../../../server/integrations/x12/validate-837p.ts';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr, WireDoc } from '../../../shared/schemas/index.ts';
import { billingFieldsFromEpcr } from '../../../server/hooks/workflows/billing.ts';
import { ClaimNotBillable, claimFile } from '../../../server/hooks/workflows/claim-file.ts';
import { claimLines } from '../../../server/hooks/workflows/claims.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored } from './support.ts';

const TENANT = 'agency-x12';
const crew = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m7', subject: 'M7' });
const biller = devToken({ tenantId: TENANT, role: 'biller', deviceId: 'billing-office' });

interface Received { contentType: string | undefined; idempotencyKey: string | undefined; body: string }

describe('claims as X12 837P through a clearinghouse', () => {
  const received: Received[] = [];
  let clearinghouse: Server;
  let server: TestServer;

  beforeAll(async () => {
    clearinghouse = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ contentType: request.headers['content-type'], idempotencyKey: request.headers['idempotency-key'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true, reference: `CH-${received.length}` }));
      });
    });
    await new Promise<void>((resolve) => clearinghouse.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(clearinghouse.address() as AddressInfo).port}/claims`;
    const integrations = buildIntegrations(integrationsConfigFrom({ claimsEndpoint: endpoint, integrationRetries: 0 }), fakeIntegrations().cad);
    server = await startHookServer({ integrations, validateExports: false });
  });

  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => clearinghouse?.close(resolve));
  });

  /** Pushes a finished report, waits for its accepted claim, returns the file the clearinghouse got. */
  async function claimOf(report: Omit<Epcr, 'rev'>): Promise<{ file: string; segments: string[] }> {
    await rawPush(server, crew, 'epcrs', pushBody(report));
    const id = claimId(TENANT, billingRecordId(TENANT, report.id));
    await eventually('the accepted claim', async () => (await stored(server, 'claims', TENANT, id))?.status === 'accepted');
    await settled(server);
    const mine = received.filter((r) => r.idempotencyKey === `claim:${id}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.contentType).toBe('application/edi-x12');
    const file = mine[0]!.body;
    expect(validate837p(file)).toEqual([]);
    return { file, segments: parseX12(file).segments.map((s) => [s.id, ...s.elements].join('*')) };
  }

  it('a 911 scene call: ALS1 emergency from the scene to the ED, billed A0427 and A0425 with modifier SH at the fee schedule', async () => {
    const report = completeEpcr(TENANT, 'M7');
    report.scene = { ...report.scene, locationType: 'Y92.410' }; // street: the scene of the emergency
    const { segments } = await claimOf(report);
    const fees = demoBillingSettings().feeSchedule;
    expect(segments).toContain(`NM1*85*2*DANBURY EMS*****XX*${demoBillingSettings().npi}`);
    expect(segments).toContain('PRV*BI*PXC*3416L0300X');
    expect(segments).toContain('REF*EI*061234567');
    expect(segments).toContain('NM1*PR*2*MEDICARE*****PI*13202');
    expect(segments).toContain('SBR*P*18*******MB');
    expect(segments).toContain(`SV1*HC:A0427:SH*${fees['A0427']! / 100}*UN*1***1:2`);
    expect(segments).toContain(`SV1*HC:A0425:SH*${(fees['A0425']! * 3.2) / 100}*UN*3.2***1:2`);
    const clm = segments.find((s) => s.startsWith('CLM*'))!;
    expect(clm.split('*')[2]).toBe(String((fees['A0427']! + fees['A0425']! * 3.2) / 100));
    expect(clm.split('*')[5]).toBe('41:B:1'); // ambulance, land; original claim
    expect(clm.split('*')[11]).toBeUndefined(); // no accident
    expect(segments).toContain('CR1****A*DH*3.2'); // nearest facility, 3.2 loaded miles (no weight recorded)
    expect(segments).toContain('CRC*07*Y*04*05*06'); // stretcher, unconscious (GCS 6), emergency
    expect(segments).toContain('HI*ABK:T402X1A*ABF:F1120');
    // 2310E the scene, 2310F the hospital, with city names for the reports' GNIS codes.
    const pw = segments.indexOf('NM1*PW*2');
    expect(segments.slice(pw, pw + 6)).toEqual(['NM1*PW*2', 'N3*12 MAIN STREET', 'N4*DANBURY*CT*06810', 'NM1*45*2*DANBURY HOSPITAL', 'N3*24 HOSPITAL AVENUE', 'N4*DANBURY*CT*06810']);
    expect(segments.some((s) => s.startsWith('PWK*'))).toBe(false);
  });

  it('an interfacility transfer: hospital to hospital (HH), the PCS the biller recorded on file, CRC medically necessary', async () => {
    const base = completeEpcr(TENANT, 'M7');
    const report: Omit<Epcr, 'rev'> = {
      ...base,
      response: { ...base.response, serviceType: codeOf('eResponse.05', 'Hospital-to-Hospital Transfer'), responseMode: codeOf('eResponse.23', 'Non-Emergent') },
      dispatch: { ...base.dispatch, reason: codeOf('eDispatch.01', 'Transfer/Interfacility/Palliative Care') },
      scene: { address: { street: '100 Grove Street', city: '213415', state: 'CT', zip: '06810' } }, // no place of occurrence recorded
      disposition: { ...base.disposition, destinationType: codeOf('eDisposition.21', 'Hospital-Non-Emergency Department Bed'), loadedMiles: 41.26 },
      payment: { ...base.payment, serviceLevel: codeOf('ePayment.50', 'ALS, Level 1') },
      vitals: [{ id: 'v1', takenAt: '2024-10-07T20:27:00-04:00', systolic: 128, heartRate: 80, respiratoryRate: 16, spo2: 97, gcsEye: 4, gcsVerbal: 5, gcsMotor: 6 }],
    };
    // The sending hospital's physician certification statement reached the billing office before the crew finished.
    await rawPush(server, biller, 'billing_records', pushBody({
      id: billingRecordId(TENANT, report.id), tenantId: TENANT, epcrId: report.id, status: 'draft',
      pcsOnFile: true, patientWeightLbs: 212, stretcherPurpose: 'Patient on cardiac monitor and IV drip', _deleted: false,
    }));
    const { segments } = await claimOf(report);
    expect(segments).toContain(`SV1*HC:A0426:HH*${demoBillingSettings().feeSchedule['A0426']! / 100}*UN*1***1:2`);
    expect(segments.find((s) => s.startsWith('SV1*HC:A0425:'))).toMatch(/^SV1\*HC:A0425:HH\*[0-9.]+\*UN\*41\.3\*/); // 41.26 → 41.3 loaded miles
    expect(segments).toContain('PWK*AM*AA'); // ambulance certification on file at the provider
    expect(segments).toContain('CR1*LB*212**D*DH*41.3****PATIENT ON CARDIAC MONITOR AND IV DRIP');
    expect(segments).toContain('CRC*07*Y*09*04'); // medically necessary, stretcher; no emergency
  });

  it('a motor-vehicle collision: the claim says auto accident, in which state and on which day', async () => {
    const base = completeEpcr(TENANT, 'M7');
    const report: Omit<Epcr, 'rev'> = {
      ...base,
      dispatch: { ...base.dispatch, reason: codeOf('eDispatch.01', 'Traffic/Transportation Incident') },
      scene: { ...base.scene, locationType: 'Y92.410' },
      situation: { ...base.situation, primaryImpression: 'S06.0X0A', secondaryImpressions: [] },
      payment: { ...base.payment, serviceLevel: codeOf('ePayment.50', 'BLS, Emergency') },
    };
    const { segments } = await claimOf(report);
    const clm = segments.find((s) => s.startsWith('CLM*'))!;
    expect(clm.split('*')[11]).toBe('AA:::CT');
    expect(segments[segments.indexOf(clm) + 1]).toBe('DTP*439*D8*20241007'); // the day of the crash (the call's own date)
    expect(segments).toContain(`SV1*HC:A0429:SH*${demoBillingSettings().feeSchedule['A0429']! / 100}*UN*1***1`);
    expect(segments).toContain('HI*ABK:S060X0A');
  });
});

describe('the claim file of one claim', () => {
  const epcr = { ...completeEpcr(TENANT, 'M7'), rev: '1-a', lockedAt: '2024-10-07T22:00:00-04:00' } as WireDoc<'epcrs'>;
  const billing = { id: 'b1', tenantId: TENANT, rev: '1-b', epcrId: epcr.id, status: 'ready', ...billingFieldsFromEpcr(epcr), _deleted: false } as WireDoc<'billing_records'>;
  const claim = { id: 'c1', tenantId: TENANT, rev: '1-c', billingRecordId: 'b1', epcrId: epcr.id, status: 'draft', frequencyCode: '1', lines: claimLines(billing), _deleted: false } as WireDoc<'claims'>;
  const sources = { claim, billing, epcr, agencyName: 'Danbury EMS', settings: demoBillingSettings() };

  it('is the same interchange and claim number when it is made again (a resend is recognisably a duplicate)', () => {
    const first = parseX12(claimFile({ ...sources, createdAt: '2024-10-07T22:01:00-04:00' }).file).segments;
    const again = parseX12(claimFile({ ...sources, createdAt: '2024-10-08T09:30:00-04:00' }).file).segments;
    const pick = (segments: typeof first, id: string) => segments.find((s) => s.id === id)!.elements;
    expect(pick(again, 'ISA')[12]).toBe(pick(first, 'ISA')[12]);
    expect(pick(again, 'CLM')[0]).toBe(pick(first, 'CLM')[0]);
    expect(pick(again, 'CLM')[0]).toHaveLength(20);
  });

  it('is not made without the agency\'s billing settings or a fee for a billed code, and says what to set', () => {
    expect(() => claimFile({ ...sources, settings: undefined, createdAt: '2024-10-07T22:01:00-04:00' })).toThrow(/the agency has no billing settings \(billing provider NPI/);
    const { A0425: _mileage, ...fees } = demoBillingSettings().feeSchedule;
    expect(() => claimFile({ ...sources, settings: { ...demoBillingSettings(), feeSchedule: fees }, createdAt: '2024-10-07T22:01:00-04:00' })).toThrow(ClaimNotBillable);
    expect(() => claimFile({ ...sources, settings: { ...demoBillingSettings(), feeSchedule: fees }, createdAt: '2024-10-07T22:01:00-04:00' })).toThrow(/the fee schedule has no charge for A0425/);
    expect(() => claimFile({ ...sources, settings: { ...demoBillingSettings(), cityNames: {} }, createdAt: '2024-10-07T22:01:00-04:00' })).toThrow(/the city is GNIS code 213415; add its name to the billing settings' cityNames/);
  });

  it('is never sent when it would fail the guide\'s check: a settings NPI with a wrong check digit stops it with the segment named', () => {
    expect(() => claimFile({ ...sources, settings: { ...demoBillingSettings(), npi: '1234567890' }, createdAt: '2024-10-07T22:01:00-04:00' }))
      .toThrow(/837P structure: NM1\*85: "1234567890" is not an NPI with a valid check digit/);
  });
});
