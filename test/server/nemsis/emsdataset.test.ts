import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildEmsDataSetXml, NemsisExportError } from '../../../shared/nemsis/export/emsdataset.ts';
import { validateEmsDataSetXsd } from '../../../server/nemsis/validate.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { agency, cancelledPriorToArrivalEpcr, manyVitalsEpcr, motorVehicleCollisionEpcr, overdoseEpcr } from './fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
// The XSDs are shared reference data outside the repository; the project must not copy them.
const xsdDir = process.env.NEMSIS_DIR ?? path.resolve(repoRoot, '../shared/nemsis');

async function expectValid(xml: string): Promise<void> {
  const result = await validateEmsDataSetXsd(xml, { xsdDir });
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

/** Text of every occurrence of a value element, in document order. */
function values(xml: string, element: string): string[] {
  const pattern = new RegExp(`<${element.replace(/\./g, '\\.')}(?: [^>]*)?>([^<]*)</${element.replace(/\./g, '\\.')}>`, 'g');
  return [...xml.matchAll(pattern)].map((match) => match[1] ?? '');
}

function count(xml: string, fragment: string): number {
  return xml.split(fragment).length - 1;
}

function notRecorded(element: string): string {
  return `<${element} xsi:nil="true" NV="7701003"/>`;
}

describe('EMSDataSet export validates against the NEMSIS 3.5.1 XSD', () => {
  it('overdose with naloxone given and transport', async () => {
    const xml = buildEmsDataSetXml(overdoseEpcr(), agency);
    await expectValid(xml);
    expect(values(xml, 'eMedications.03')).toEqual(['7242', '7806']);
    expect(values(xml, 'eDisposition.30')).toEqual(['4230001']);
  });

  it('motor-vehicle collision with trauma alert', async () => {
    const xml = buildEmsDataSetXml(motorVehicleCollisionEpcr(), agency);
    await expectValid(xml);
    expect(values(xml, 'eSituation.02')).toEqual(['9922005']);
    expect(values(xml, 'eDisposition.24')).toEqual(['4224003']);
    expect(values(xml, 'eDisposition.25')).toEqual(['2024-10-11T17:09:12-04:00']);
    expect(count(xml, '<eProcedures.ProcedureGroup>')).toBe(3);
  });

  it('cancelled prior to arrival, with no patient, writes the single nil groups the XSD requires', async () => {
    const xml = buildEmsDataSetXml(cancelledPriorToArrivalEpcr(), agency);
    await expectValid(xml);
    expect(values(xml, 'eDisposition.27')).toEqual(['4227005']);
    for (const groupName of ['eVitals.VitalGroup', 'eMedications.MedicationGroup', 'eProcedures.ProcedureGroup', 'eProtocols.ProtocolGroup']) {
      expect(count(xml, `<${groupName}>`)).toBe(1);
    }
    for (const element of ['eVitals.01', 'eMedications.03', 'eProcedures.03', 'eTimes.06', 'ePatient.15', 'eOutcome.01']) {
      expect(xml).toContain(notRecorded(element));
    }
    expect(xml).not.toContain('<eNarrative>');
  });

  it('a long transfer with many vitals keeps every vital set, in order', async () => {
    const epcr = manyVitalsEpcr(150);
    const xml = buildEmsDataSetXml(epcr, agency);
    await expectValid(xml);
    expect(count(xml, '<eVitals.VitalGroup>')).toBe(150);
    expect(values(xml, 'eVitals.01')).toEqual((epcr.vitals ?? []).map((vital) => vital.takenAt));
  });
});

describe('EMSDataSet mapping rules', () => {
  it('uses the ePCR id as PatientCareReport@UUID and writes the agency header', () => {
    const epcr = overdoseEpcr();
    const xml = buildEmsDataSetXml(epcr, agency);
    expect(xml).toContain(`<PatientCareReport UUID="${epcr.id}">`);
    expect(values(xml, 'dAgency.01')).toEqual(['C034']);
    expect(values(xml, 'dAgency.02')).toEqual(['351-C034P2']);
    expect(values(xml, 'dAgency.04')).toEqual(['09']);
    expect(values(xml, 'eRecord.01')).toEqual(['2024-10-07-0042']);
  });

  it('falls back to the document id for a missing PCR number and to the agency for eResponse.01', async () => {
    const epcr = cancelledPriorToArrivalEpcr();
    const xml = buildEmsDataSetXml(epcr, { ...agency, softwareName: 'fieldsync test', softwareVersion: '9.9.9' });
    expect(values(xml, 'eRecord.01')).toEqual([epcr.id]);
    expect(values(xml, 'eResponse.01')).toEqual([agency.agencyNumber]);
    expect(values(xml, 'eRecord.03')).toEqual(['fieldsync test']);
    expect(values(xml, 'eRecord.04')).toEqual(['9.9.9']);
    await expectValid(xml);
  });

  it('keeps each time offset as written and adds seconds NEMSIS requires', async () => {
    const epcr = cancelledPriorToArrivalEpcr();
    epcr.times = { ...epcr.times, unitNotified: '2024-10-12T09:03+05:30', backInService: '2024-10-12T09:08:00.250-04:00' };
    const xml = buildEmsDataSetXml(epcr, agency);
    expect(values(xml, 'eTimes.03')).toEqual(['2024-10-12T09:03:00+05:30']);
    expect(values(xml, 'eTimes.13')).toEqual(['2024-10-12T09:08:00.250-04:00']);
    await expectValid(xml);
  });

  it('writes required-but-empty elements as Not Recorded and omits empty optional ones', () => {
    const xml = buildEmsDataSetXml(cancelledPriorToArrivalEpcr(), agency);
    expect(xml).toContain(notRecorded('eTimes.07'));
    expect(xml).toContain(notRecorded('ePatient.25'));
    expect(xml).toContain(notRecorded('eResponse.08'));
    expect(xml).not.toContain('eTimes.02');
    expect(xml).not.toContain('ePatient.PatientNameGroup');
    expect(xml).not.toContain('eDispatch.03');
    const linesWithNv = xml.split('\n').filter((line) => line.includes(' NV="'));
    expect(linesWithNv.length).toBeGreaterThan(0);
    for (const line of linesWithNv) expect(line.trim()).toMatch(/^<[\w.]+ xsi:nil="true" NV="7701003"\/>$/);
  });

  it('escapes user text and drops characters XML cannot carry', async () => {
    const epcr = overdoseEpcr();
    epcr.narrative = { text: 'Pt said "I\'m fine" <then> collapsed & vomited\u0007\r\nSecond line' };
    epcr.patient = { ...epcr.patient, lastName: 'Smith & <Sons>' };
    const xml = buildEmsDataSetXml(epcr, agency);
    expect(values(xml, 'eNarrative.01')).toEqual(['Pt said "I\'m fine" &lt;then&gt; collapsed &amp; vomited&#13;\nSecond line']);
    expect(values(xml, 'ePatient.02')).toEqual(['Smith &amp; &lt;Sons&gt;']);
    await expectValid(xml);
  });

  it('converts the representations NEMSIS codes differently and treats unconvertible ones as no value', async () => {
    const epcr = motorVehicleCollisionEpcr();
    epcr.scene = { ...epcr.scene, address: { street: 'Main St', city: 'Danbury', state: 'ct', zip: '06810', county: 'Fairfield' } };
    const xml = buildEmsDataSetXml(epcr, agency);
    expect(values(xml, 'eScene.18')).toEqual(['09']);
    expect(xml).toContain(notRecorded('eScene.21'));
    expect(xml).not.toContain('eScene.17');
    expect(values(xml, 'eScene.06')).toEqual(['2707001']); // two patients: "Multiple"
    expect(values(xml, 'eScene.11')).toEqual(['41.417,-73.427']);
    expect(values(xml, 'ePatient.18')).toEqual(['+19174094876']);
    expect(xml).toContain('<ePatient.05 StreetAddress2="#5K">325 East 77th Street</ePatient.05>');
    expect(values(xml, 'eHistory.07')).toEqual(['91935009']); // SNOMED food allergy, not an RxNorm code
    expect(values(xml, 'eVitals.23')).toEqual(['14', '14']);
    await expectValid(xml);
  });

  it('refuses to export without mandatory values and names every missing one', () => {
    const epcr: Epcr = { ...cancelledPriorToArrivalEpcr(), response: {}, times: { unitNotified: '2024-10-12T09:03:00-04:00' } };
    let error: unknown;
    try {
      buildEmsDataSetXml(epcr, { ...agency, stateCode: 'XX' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NemsisExportError);
    expect((error as NemsisExportError).missing).toEqual([
      'dAgency.04 (agency.stateCode as a 2-digit ANSI code or USPS abbreviation)',
      'eResponse.05 (response.serviceType)',
      'eResponse.07 (response.unitCapability)',
      'eResponse.13 (response.vehicleNumber)',
      'eResponse.14 (response.callSign)',
      'eResponse.23 (response.responseMode)',
      'eTimes.13 (times.backInService)',
    ]);
    expect((error as Error).message).toContain(epcr.id);
  });
});

describe('validateEmsDataSetXsd', () => {
  it('accepts the official overdose sample and rejects the official XSD-failure sample', async () => {
    const pass = await validateEmsDataSetXsd(await readFile(path.join(xsdDir, 'samples/2025-EMS-1-Overdose_v351.xml'), 'utf8'), { xsdDir });
    expect(pass).toEqual({ valid: true, errors: [] });

    const fail = await validateEmsDataSetXsd(await readFile(path.join(xsdDir, 'samples/2025-EMS-FailXsd_v351.xml'), 'utf8'), { xsdDir });
    expect(fail.valid).toBe(false);
    expect(fail.errors.join('\n')).toMatch(/eSituation\.19, eSituation\.20/);
  });

  it('rejects an export with a mandatory element removed and names the element', async () => {
    const xml = buildEmsDataSetXml(overdoseEpcr(), agency);
    const withoutPcrNumber = xml.split('\n').filter((line) => !line.includes('<eRecord.01>')).join('\n');
    expect(withoutPcrNumber).not.toBe(xml);
    const result = await validateEmsDataSetXsd(withoutPcrNumber, { xsdDir });
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toContain('eRecord.01');
  });

  it('rejects a UTC "Z" time: NEMSIS needs an explicit ±hh:mm offset', async () => {
    const epcr = overdoseEpcr();
    epcr.times = { ...epcr.times, unitNotified: '2024-10-08T00:22:01Z' };
    const xml = buildEmsDataSetXml(epcr, agency);
    expect(values(xml, 'eTimes.03')).toEqual(['2024-10-08T00:22:01Z']); // written as is, never re-zoned
    const result = await validateEmsDataSetXsd(xml, { xsdDir });
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(/eTimes\.03.*2024-10-08T00:22:01Z/);
  });

  it('reports a malformed document as invalid rather than throwing', async () => {
    const result = await validateEmsDataSetXsd('<EMSDataSet><Header></EMSDataSet>', { xsdDir });
    expect(result.valid).toBe(false);
    expect(result.errors[0]).toMatch(/^line 1: /);
  });

  it('throws when the schema directory is wrong', async () => {
    const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'nemsis-no-xsd-'));
    try {
      await expect(validateEmsDataSetXsd('<x/>', { xsdDir: emptyDir })).rejects.toThrow(/EMSDataSet_v3\.xsd/);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it('throws with install instructions when xmllint is not on PATH', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(os.tmpdir(), 'nemsis-no-such-bin');
    try {
      await expect(validateEmsDataSetXsd('<x/>', { xsdDir })).rejects.toThrow(/libxml2-utils/);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
