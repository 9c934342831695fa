/**
 * Issue 18, billing: the claim carries the patient signature status the report's signatures
 * give (CLM08–CLM10 of the 837P), and a transport with neither a patient/representative signature
 * nor a crew attestation gets a HELD claim (not sent) until a biller releases it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { claimId, billingRecordId } from '../../../server/hooks/workflows/index.ts';
import { ATTACHMENTS, pathOf } from '../../../shared/protocol/index.ts';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { PNG_1X1, sha256, tusUpload } from '../attachments/support.ts';
import { completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, type FakeIntegrations } from './support.ts';

const TENANT = 'agency-hold';
const UNIT = 'MEDIC5';
const crew = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m5', subject: UNIT });
const biller = devToken({ tenantId: TENANT, role: 'biller', deviceId: 'billing-desk' });

let server: TestServer;
let integrations: FakeIntegrations;

beforeAll(async () => {
  integrations = fakeIntegrations();
  server = await startHookServer({ integrations, validateExports: false, unsignedClaims: 'hold' });
}, 120_000);
afterAll(async () => { await server?.close(); });

/** CLM08, CLM09, CLM10 of the 837P the clearinghouse received for a claim. */
function clmSignature(id: string): string[] {
  const submission = integrations.claimSubmissions.find((s) => s.claimId === id);
  const clm = String(submission?.body).split('~').map((segment) => segment.trim()).find((segment) => segment.startsWith('CLM*'))!.split('*');
  return clm.slice(8, 11);
}

describe('the claim and the patient\'s signature', () => {
  it('no signature and no attestation: the claim is held, not sent, until a biller releases it', async () => {
    const report = completeEpcr(TENANT, UNIT);
    await rawPush(server, crew, 'epcrs', pushBody(report));
    const id = claimId(TENANT, billingRecordId(TENANT, report.id));
    const held = await eventually('the held claim', async () => {
      const claim = await stored(server, 'claims', TENANT, id);
      return claim?.status === 'held' ? claim : undefined;
    }, 60_000);
    expect(held.holdReason).toMatch(/signature/);
    await settled(server);
    expect(integrations.claimSubmissions.filter((s) => s.claimId === id)).toEqual([]);

    // The biller has the paper authorisation: records it and releases the claim.
    const billing = (await stored(server, 'billing_records', TENANT, held.billingRecordId))!;
    await rawPush(server, biller, 'billing_records', pushBody({ ...billing, patientSignature: 'signed' }, `${Number(billing.rev.split('-')[0]) + 1}-biller.a`, billing));
    await rawPush(server, biller, 'claims', pushBody({ ...held, status: 'draft' }, `${Number(held.rev.split('-')[0]) + 1}-biller.b`, held));
    const sent = await eventually('the released claim to be sent', async () => {
      const claim = await stored(server, 'claims', TENANT, id);
      return claim?.status === 'accepted' || claim?.status === 'submitted' ? claim : undefined;
    }, 60_000);
    expect(sent.submittedAt).toBeDefined();
    expect(clmSignature(id)).toEqual(['Y', 'Y']); // CLM10 empty (trailing elements are left off)
  });

  it('the patient signed on the tablet: the billing record says so and the claim is sent with the signature', async () => {
    const report = completeEpcr(TENANT, UNIT, {
      attachments: [{
        sha256: sha256(PNG_1X1), kind: 'signature', purpose: 'patient', contentType: 'image/png', size: PNG_1X1.length, capturedAt: '2024-10-07T21:10:00-04:00',
        signature: { signerType: codeOf('eOther.12', 'Patient'), reasons: [codeOf('eOther.13', 'Release for Billing')], status: codeOf('eOther.15', 'Signed') },
      }],
    });
    await rawPush(server, crew, 'epcrs', pushBody(report));
    await tusUpload(server.url + pathOf(ATTACHMENTS.createUpload), PNG_1X1, { sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'epcrs', docId: report.id }, { authorization: `Bearer ${crew}` });
    const id = claimId(TENANT, billingRecordId(TENANT, report.id));
    await eventually('the claim to be sent', async () => {
      const claim = await stored(server, 'claims', TENANT, id);
      return claim?.status === 'accepted' || claim?.status === 'submitted' ? claim : undefined;
    }, 60_000);
    expect((await stored(server, 'billing_records', TENANT, billingRecordId(TENANT, report.id)))?.patientSignature).toBe('signed');
    expect(clmSignature(id)).toEqual(['Y', 'Y']); // CLM10 empty (trailing elements are left off)
  });

  it('a crew attestation (the patient could not sign): sent with the provider signing for the patient (CLM10 P)', async () => {
    const bytes = Buffer.concat([PNG_1X1, Buffer.from('attestation')]);
    const report = completeEpcr(TENANT, UNIT, {
      attachments: [{
        sha256: sha256(bytes), kind: 'signature', purpose: 'crew-attestation', contentType: 'image/png', size: bytes.length, capturedAt: '2024-10-07T21:10:00-04:00',
        signature: { signerType: codeOf('eOther.12', 'EMS Primary Care Provider (for this event)'), status: codeOf('eOther.15', 'Signed') },
        attestation: { status: codeOf('eOther.15', 'Not Signed - Unconscious'), text: 'Unresponsive throughout; no representative on scene.' },
      }],
    });
    await rawPush(server, crew, 'epcrs', pushBody(report));
    await tusUpload(server.url + pathOf(ATTACHMENTS.createUpload), bytes, { sha256: sha256(bytes), contentType: 'image/png', collection: 'epcrs', docId: report.id }, { authorization: `Bearer ${crew}` });
    const id = claimId(TENANT, billingRecordId(TENANT, report.id));
    await eventually('the claim to be sent', async () => {
      const claim = await stored(server, 'claims', TENANT, id);
      return claim?.status === 'accepted' || claim?.status === 'submitted' ? claim : undefined;
    }, 60_000);
    expect(clmSignature(id)).toEqual(['Y', 'I', 'P']);
  });
});
