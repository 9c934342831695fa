/**
 * The export check itself (server/hooks/epcr-export-check.ts): each problem of the export is
 * said at the crew's field, in words, with the rule or the element; warnings never refuse.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkEpcrExport } from '../../../server/hooks/epcr-export-check.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { agency, overdoseEpcr } from '../nemsis/fixtures.ts';
import { xsdDir } from './support.ts';

describe('the NEMSIS export check at finalize', () => {
  beforeAll(async () => {
    await sharedSchematronValidator({ nemsisDir: xsdDir }).ready();
  }, 600_000);

  it('a medication typed as a name fails the national Schematron (nemSch_e145), said at that medication\'s field', async () => {
    const report = overdoseEpcr();
    report.medications = report.medications!.map((m, i) => (i === 1 ? { ...m, medication: 'Naloxone' } : m));
    const check = await checkEpcrExport(report, { agency, nemsisDir: xsdDir });
    expect(check.errors).toEqual([{
      path: `medications[${report.medications[1]!.id}].medication`,
      message: 'Medication (medication 2): Medication Administered should be an RxNorm code of between 2 and 7 digits or a SNOMED code specifically allowed in the data dictionary. (national rule nemSch_e145) (eMedications.03)',
    }]);
  }, 60_000);

  it('XSD problems are said at their fields: a ZIP not in NEMSIS form, a value too long', async () => {
    const report = overdoseEpcr();
    report.patient = { ...report.patient, address: { ...report.patient!.address, zip: '1234' } };
    report.response = { ...report.response, vehicleNumber: 'X'.repeat(30) };
    const check = await checkEpcrExport(report, { agency, nemsisDir: xsdDir });
    expect(check.errors.map((e) => e.path)).toEqual(['response.vehicleNumber', 'patient.address.zip']);
    expect(check.errors[0]!.message).toBe('Vehicle number: too long for NEMSIS: at most 25 characters, this has 30 (eResponse.13)');
    expect(check.errors[1]!.message).toMatch(/^Patient ZIP code: "1234" is not in the form NEMSIS accepts for this field .*\(ePatient\.09\)$/);
  }, 60_000);

  it('a complete report passes with national warnings only, each with its rule and at the crew\'s field', async () => {
    const check = await checkEpcrExport(overdoseEpcr(), { agency, nemsisDir: xsdDir });
    expect(check.errors).toEqual([]);
    expect(check.xml).toContain('<EMSDataSet');
    // Who gave a medication (eMedications.10) had no field before issue 16's coverage work ("tell your
    // administrator"); now the warning is at the medication's "Given by". (An element with no field:
    // test/server/agencies/agency-settings.test.ts, dAgency.02.)
    const e150 = check.warnings.find((w) => w.rule === 'nemSch_e150');
    expect(e150?.path).toBe('medications[m1].performerRole');
    expect(e150?.message).toMatch(/^Given by \(medication 1\): Role\/Type of Person Administering Medication should be recorded/);
    expect(check.warnings.every((w) => !w.path.startsWith('nemsis.')), 'every national warning of this report is at a field of the form').toBe(true);
  }, 60_000);
});
