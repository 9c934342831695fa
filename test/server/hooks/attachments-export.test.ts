/**
 * Issue 18, downstream: a transported report finalized with two signatures (the patient's, for
 * billing, and the crew member's) and an ECG strip marked for the export. The finalize arrives
 * before the bytes: the report waits (neither locked nor refused) and locks once the last bytes
 * are stored; its NEMSIS export carries both signatures in eOther.SignatureGroup and the ECG in
 * eOther.FileGroup, base64 as the XSD wants, byte-identical, and passes the XSD and the national
 * Schematron. The hospital's PCR notice carries the ECG as FHIR Media.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { nemsisArtifactKey } from '../../../server/hooks/workflows/index.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateEmsDataSet } from '../../../server/nemsis/validate.ts';
import { ATTACHMENTS, pathOf } from '../../../shared/protocol/index.ts';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { jpegBytes, PNG_1X1, sha256, tusUpload } from '../attachments/support.ts';
import { validateNoticeBundle } from '../integrations/fhir/validate.ts';
import type { Bundle, Media } from '@medplum/fhirtypes';
import { completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, xsdDir, type FakeIntegrations } from './support.ts';

const TENANT = 'agency-sign';
const UNIT = 'MEDIC9';
const crew = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m9', subject: UNIT });

let server: TestServer;
let integrations: FakeIntegrations;

beforeAll(async () => {
  await sharedSchematronValidator({ nemsisDir: xsdDir }).ready();
  integrations = fakeIntegrations();
  server = await startHookServer({ integrations });
}, 600_000);
afterAll(async () => { await server?.close(); });

/** A second signature: another PNG (bytes after IEND change the hash, and a viewer ignores them). */
const CREW_SIGNATURE_PNG = Buffer.concat([PNG_1X1, Buffer.from('crew member Okafor')]);

function signatureRef(bytes: Buffer, purpose: 'patient' | 'crew', signerType: string, reasons: string[], name: [string, string]) {
  return {
    sha256: sha256(bytes), kind: 'signature' as const, purpose, contentType: 'image/png' as const, size: bytes.length, capturedAt: '2024-10-07T21:10:00-04:00',
    signature: { signerType: codeOf('eOther.12', signerType), reasons: reasons.map((r) => codeOf('eOther.13', r)), status: codeOf('eOther.15', 'Signed'), lastName: name[0], firstName: name[1] },
  };
}

function values(xml: string, element: string): string[] {
  return [...xml.matchAll(new RegExp(`<${element.replace('.', '\\.')}(?:\\s[^>]*)?>([^<]*)</${element.replace('.', '\\.')}>`, 'g'))].map((m) => m[1]!);
}

describe('signatures and an ECG image in the NEMSIS export of a locked report', () => {
  it('the lock waits for the bytes; the export carries them and passes the XSD and the national Schematron', async () => {
    const patientSig = PNG_1X1;
    const crewSig = Buffer.from(CREW_SIGNATURE_PNG);
    const ecg = jpegBytes(6_000);
    const report = completeEpcr(TENANT, UNIT, {
      attachments: [
        signatureRef(patientSig, 'patient', 'Patient', ['Release for Billing', 'HIPAA acknowledgement/Release'], ['Reyes', 'Dana']),
        signatureRef(crewSig, 'crew', 'EMS Primary Care Provider (for this event)', ['Transfer of Patient Care'], ['Okafor', 'Jamie']),
        { sha256: sha256(ecg), kind: 'photo', purpose: 'ecg', contentType: 'image/jpeg', size: ecg.length, capturedAt: '2024-10-07T20:40:00-04:00', annotation: '12-lead, STE II III aVF', export: true },
      ],
    });
    // The finalize first (the tablet's queue sends reports before attachments).
    await rawPush(server, crew, 'epcrs', pushBody(report));
    await settled(server);
    const waiting = await stored(server, 'epcrs', TENANT, report.id);
    expect(waiting?.status).toBe('finalized');
    expect(waiting?.lockedAt).toBeUndefined();
    expect(waiting?.finalizeErrors ?? []).toEqual([]);

    const endpoint = server.url + pathOf(ATTACHMENTS.createUpload);
    const upload = (bytes: Buffer, contentType: string) => tusUpload(endpoint, bytes, { sha256: sha256(bytes), contentType, collection: 'epcrs', docId: report.id }, { authorization: `Bearer ${crew}` });
    await upload(patientSig, 'image/png');
    await upload(ecg, 'image/jpeg');
    await settled(server);
    expect((await stored(server, 'epcrs', TENANT, report.id))?.lockedAt, 'one attachment still missing: not locked').toBeUndefined();
    await upload(crewSig, 'image/png');

    const locked = await eventually('the report to lock once every byte is stored', async () => {
      const doc = await stored(server, 'epcrs', TENANT, report.id);
      return doc?.lockedAt ? doc : undefined;
    }, 120_000);
    expect(locked.finalizeErrors).toEqual([]);
    const xml = await eventually('the NEMSIS export', async () => (await server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT))?.content, 120_000);

    expect(values(xml, 'eOther.12')).toEqual([codeOf('eOther.12', 'Patient'), codeOf('eOther.12', 'EMS Primary Care Provider (for this event)')]);
    expect(values(xml, 'eOther.13')).toEqual(['Release for Billing', 'HIPAA acknowledgement/Release', 'Transfer of Patient Care'].map((r) => codeOf('eOther.13', r)));
    expect(values(xml, 'eOther.15')).toEqual([codeOf('eOther.15', 'Signed'), codeOf('eOther.15', 'Signed')]);
    expect(values(xml, 'eOther.17')).toEqual(['png', 'png']);
    expect(values(xml, 'eOther.18').map((b) => sha256(Buffer.from(b, 'base64')))).toEqual([sha256(patientSig), sha256(crewSig)]);
    expect(values(xml, 'eOther.20')).toEqual(['Reyes', 'Okafor']);
    expect(values(xml, 'eOther.09')).toEqual([codeOf('eOther.09', 'ECG/Lab Results')]);
    expect(values(xml, 'eOther.10')).toEqual(['jpeg']);
    expect(values(xml, 'eOther.11').map((b) => sha256(Buffer.from(b, 'base64')))).toEqual([sha256(ecg)]);

    const result = await validateEmsDataSet(xml, { nemsisDir: xsdDir });
    expect(result.xsdErrors).toEqual([]);
    expect(result.schematronErrors).toEqual([]);
    // The hospital's PCR notice carries the ECG strip as FHIR Media, bytes inline, and stays valid FHIR R4.
    const notice = await eventually('the hospital notice', async () => integrations.hospitalNotices.find((n) => n.epcrId === report.id), 60_000);
    const bundle = notice.body as Bundle;
    const media = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Media => r?.resourceType === 'Media');
    expect(media.map((m) => sha256(Buffer.from(m.content.data!, 'base64')))).toEqual([sha256(ecg)]);
    expect(media[0]!.content.contentType).toBe('image/jpeg');
    expect(validateNoticeBundle(bundle)).toEqual([]);
    console.log(`[attachments export] locked report with 2 signatures + ECG: ${xml.length} bytes of XML, XSD valid, ${result.schematronErrors.length} national Schematron errors, ${result.schematronWarnings.length} warnings`);
  }, 300_000);
});
