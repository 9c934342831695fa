/**
 * The national Schematron bites: NEMSIS's own fail samples fail (one by the rules, one by the XSD)
 * and its PASS samples pass with no [ERROR], through the one `validateEmsDataSet` a finalize uses.
 * The rules are compiled once per machine (about a minute, cached by their hash), hence the long
 * first timeout.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEmsDataSetXml } from '../../../shared/nemsis/export/emsdataset.ts';
import { elementOf, plainLocation, sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateEmsDataSet } from '../../../server/nemsis/validate.ts';
import { agency, overdoseEpcr } from './fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const nemsisDir = process.env.NEMSIS_DIR ?? path.resolve(repoRoot, '../shared/nemsis');
const sample = (name: string) => readFile(path.join(nemsisDir, 'samples', name), 'utf8');

describe('national Schematron (SaxonJS) with the XSD', () => {
  beforeAll(async () => {
    await sharedSchematronValidator({ nemsisDir }).ready();
  }, 600_000);

  it('the official FailSchematron sample passes the XSD and fails the rules with nemSch_e005 at eSituation.10', async () => {
    const result = await validateEmsDataSet(await sample('2025-EMS-FailSchematron_v351.xml'), { nemsisDir });
    expect(result.xsdErrors).toEqual([]);
    expect(result.valid).toBe(false);
    expect(result.schematronErrors.map((e) => e.rule)).toEqual(['nemSch_e005']);
    const [error] = result.schematronErrors;
    expect(error!.severity).toBe('error');
    expect(error!.message).toMatch(/Other Associated Symptoms has a Pertinent Negative/);
    expect(elementOf(error!.location)).toBe('eSituation.10');
    expect(error!.location).toBe('/EMSDataSet[1]/Header[1]/PatientCareReport[1]/eSituation[1]/eSituation.10[1]');
    expect(error!.elements.map(elementOf)).toEqual(['eSituation.10']);
  }, 60_000);

  it('the official FailXsd sample fails the XSD, naming the missing eSituation elements', async () => {
    const result = await validateEmsDataSet(await sample('2025-EMS-FailXsd_v351.xml'), { nemsisDir });
    expect(result.valid).toBe(false);
    expect(result.xsdErrors.join('\n')).toMatch(/eSituation/);
  }, 60_000);

  for (const name of ['2025-EMS-1-Overdose_v351.xml', '2025-EMS-3-MVC_v351.xml', '2025-EMS-5-CPMIH_v351.xml']) {
    it(`the official PASS sample ${name} passes the XSD with 0 Schematron errors`, async () => {
      const result = await validateEmsDataSet(await sample(name), { nemsisDir });
      expect(result.xsdErrors).toEqual([]);
      expect(result.schematronErrors).toEqual([]);
      expect(result.valid).toBe(true);
    }, 60_000);
  }

  it('warnings are reported with their rule id and do not make a document invalid', async () => {
    // NEMSIS's machine-made sample of pertinent negatives trips several [WARNING] rules.
    const result = await validateEmsDataSet(await sample('EMSDataset-PNs-1.xml'), { nemsisDir });
    expect(result.schematronErrors).toEqual([]);
    expect(result.schematronWarnings.length).toBeGreaterThan(0);
    expect(result.schematronWarnings.every((w) => /^nemSch_e\d+$/.test(w.rule) && w.severity === 'warning' && w.message !== '')).toBe(true);
    // e193 names the element that is missing rather than one that is there.
    expect(result.schematronWarnings.find((w) => w.rule === 'nemSch_e193')?.missing).toEqual(['ePatient.25']);
  }, 60_000);

  it('a medication typed as a name instead of its RxNorm code fails the rules (nemSch_e145), not the XSD', async () => {
    const epcr = overdoseEpcr();
    epcr.medications = epcr.medications!.map((m, i) => (i === 0 ? { ...m, medication: 'Naloxone' } : m));
    const result = await validateEmsDataSet(buildEmsDataSetXml(epcr, agency), { nemsisDir });
    expect(result.xsdErrors).toEqual([]);
    const e145 = result.schematronErrors.filter((e) => e.rule === 'nemSch_e145');
    expect(e145).toHaveLength(1);
    expect(e145[0]!.location).toMatch(/eMedications\.MedicationGroup\[1\]/);
  }, 60_000);

  it('a document that is not XML is a result of the XSD, not a crash of the rules', async () => {
    const result = await validateEmsDataSet('<EMSDataSet><Header></EMSDataSet>', { nemsisDir });
    expect(result.valid).toBe(false);
    expect(result.xsdErrors.length).toBeGreaterThan(0);
    expect(result.schematronErrors).toEqual([]);
  }, 60_000);

  it('locations read as plain paths', () => {
    expect(plainLocation("/*:EMSDataSet[namespace-uri()='http://www.nemsis.org'][1]/*:Header[namespace-uri()='http://www.nemsis.org'][1]"))
      .toBe('/EMSDataSet[1]/Header[1]');
  });
});
