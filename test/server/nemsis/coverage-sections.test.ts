/**
 * The national elements the report holds since issue 16's coverage work reach the export: a
 * cardiac arrest with ROSC (arrest group, ECG, stroke scale, protocols, crew, who gave and did
 * what, transport mode, destination reason) passes the XSD with 0 national Schematron errors, and
 * the crew's "No" (no arrest, no injury, no transport) makes the elements it answers Not
 * Applicable instead of Not Recorded, as NEMSIS's own samples write them.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEmsDataSetXml } from '../../../shared/nemsis/export/emsdataset.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateEmsDataSet } from '../../../server/nemsis/validate.ts';
import { codeOf, NOT_APPLICABLE, NOT_RECORDED, pertinentNegativesOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { agency, cardiacArrestEpcr, overdoseEpcr } from './fixtures.ts';

const nemsisDir = process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/nemsis');

/** The values of an element, and the NV of its nil occurrences. */
function element(xml: string, name: string): { values: string[]; nv: string[] } {
  const escaped = name.replace('.', '\\.');
  return {
    values: [...xml.matchAll(new RegExp(`<${escaped}(?: [^>]*[^/])?>([^<]*)</${escaped}>`, 'g'))].map((m) => m[1]!),
    nv: [...xml.matchAll(new RegExp(`<${escaped} xsi:nil="true" NV="(\\d+)"/>`, 'g'))].map((m) => m[1]!),
  };
}

const ARREST_DETAILS = ['eArrest.02', 'eArrest.03', 'eArrest.04', 'eArrest.07', 'eArrest.09', 'eArrest.11', 'eArrest.12', 'eArrest.14', 'eArrest.16', 'eArrest.17', 'eArrest.18', 'eArrest.20', 'eArrest.21', 'eArrest.22'];

describe('national coverage in the export', () => {
  beforeAll(async () => {
    await sharedSchematronValidator({ nemsisDir }).ready();
  }, 600_000);

  it('a cardiac arrest with ROSC passes the XSD with 0 national Schematron errors, every arrest element with its value', async () => {
    const report = cardiacArrestEpcr();
    const xml = buildEmsDataSetXml(report, agency);
    const result = await validateEmsDataSet(xml, { nemsisDir });
    expect(result.xsdErrors).toEqual([]);
    expect(result.schematronErrors).toEqual([]);
    expect(element(xml, 'eArrest.01').values).toEqual([report.arrest!.cardiacArrest]);
    for (const name of ARREST_DETAILS) expect(element(xml, name).values.length, name).toBeGreaterThan(0);
    expect(element(xml, 'eArrest.12').values).toEqual([codeOf('eArrest.12', 'Yes, Prior to Arrival at the ED')]);
    expect(element(xml, 'eArrest.14').values).toEqual(['2024-10-14T07:11:00-04:00']);
    // ECG, stroke scale, protocols, crew, performers, transport.
    expect(element(xml, 'eVitals.03').values).toEqual([codeOf('eVitals.03', 'Ventricular Fibrillation'), codeOf('eVitals.03', 'Sinus Tachycardia')]);
    expect(element(xml, 'eVitals.30').values).toEqual([codeOf('eVitals.30', 'Cincinnati Prehospital Stroke Scale (CPSS)')]);
    expect(element(xml, 'eProtocols.01').values).toHaveLength(2);
    expect(element(xml, 'eCrew.01').values).toEqual(['P-40211', 'E-51873']);
    expect(element(xml, 'eMedications.10').values).toEqual([codeOf('eMedications.10', 'Paramedic')]);
    expect(element(xml, 'eProcedures.10').values).toEqual([codeOf('eProcedures.10', 'Paramedic')]);
    expect(element(xml, 'eDisposition.17').values).toEqual([codeOf('eDisposition.17', 'Emergent (Immediate Response)')]);
    expect(element(xml, 'eDisposition.20').values).toHaveLength(2);
    // Age from the date of birth, on the day of the call (the report states none).
    expect(element(xml, 'ePatient.15').values).toEqual(['71']);
    expect(element(xml, 'ePatient.16').values).toEqual([codeOf('ePatient.16', 'Years')]);
  }, 120_000);

  it('no arrest, no injury, no transport: the elements those answers settle are Not Applicable; unanswered, Not Recorded', async () => {
    const noArrest: Epcr = {
      ...overdoseEpcr(), arrest: { cardiacArrest: codeOf('eArrest.01', 'No') },
      disposition: { ...overdoseEpcr().disposition, transportDisposition: codeOf('eDisposition.30', 'Patient Refused Transport'), destinationName: undefined, destinationCode: undefined, destinationAddress: undefined, destinationType: undefined, preArrivalAlert: undefined },
      times: { ...overdoseEpcr().times, atDestination: undefined, transferOfCare: undefined },
    };
    const xml = buildEmsDataSetXml(noArrest, agency);
    for (const name of ARREST_DETAILS) expect(element(xml, name).nv, name).toEqual([NOT_APPLICABLE]);
    // The overdose's possible injury is "No".
    for (const name of ['eInjury.01', 'eInjury.03', 'eInjury.04']) expect(element(xml, name).nv, name).toEqual([NOT_APPLICABLE]);
    for (const name of ['eDisposition.05', 'eDisposition.16', 'eDisposition.17', 'eDisposition.20', 'eDisposition.21', 'eTimes.11', 'eTimes.12']) expect(element(xml, name).nv, name).toEqual([NOT_APPLICABLE]);
    const result = await validateEmsDataSet(xml, { nemsisDir });
    expect(result.xsdErrors).toEqual([]);
    expect(result.schematronErrors).toEqual([]);

    const unanswered = buildEmsDataSetXml({ ...overdoseEpcr(), situation: { ...overdoseEpcr().situation, possibleInjury: undefined } }, agency);
    for (const name of [...ARREST_DETAILS, 'eInjury.01', 'eInjury.03']) expect(element(unanswered, name).nv, name).toEqual([NOT_RECORDED]);
    expect(element(unanswered, 'eDisposition.16').nv).toEqual([NOT_RECORDED]);
  }, 120_000);

  it('pertinent negatives: no known drug allergy, no alcohol or drug indicators, no trauma criteria, a medication not given because of an allergy; 0 Schematron errors', async () => {
    const pn = (element: string, label: string) => pertinentNegativesOf(element).find(([, l]) => l === label)![0];
    const arrest = cardiacArrestEpcr();
    const report: Epcr = {
      ...arrest,
      situation: { ...arrest.situation, possibleInjury: codeOf('eSituation.02', 'Yes') },
      injury: { highRiskPertinentNegative: pn('eInjury.03', 'None Reported'), moderateRiskPertinentNegative: pn('eInjury.04', 'None Reported') },
      history: { ...arrest.history, allergies: [], allergiesPertinentNegative: pn('eHistory.06', 'No Known Drug Allergy'), alcoholDrugUsePertinentNegative: pn('eHistory.17', 'None Reported') },
      medications: [...arrest.medications!, { id: 'm2', givenAt: '2024-10-14T07:30:00-04:00', medication: '1191', pertinentNegative: pn('eMedications.03', 'Medication Allergy') }],
    };
    const xml = buildEmsDataSetXml(report, agency);
    expect(xml).toContain(`<eHistory.06 xsi:nil="true" PN="${pn('eHistory.06', 'No Known Drug Allergy')}"/>`);
    expect(xml).toContain(`<eHistory.17 xsi:nil="true" PN="${pn('eHistory.17', 'None Reported')}"/>`);
    expect(xml).toContain(`<eInjury.03 xsi:nil="true" PN="${pn('eInjury.03', 'None Reported')}"/>`);
    expect(xml).toContain(`<eMedications.03 PN="${pn('eMedications.03', 'Medication Allergy')}">1191</eMedications.03>`);
    const result = await validateEmsDataSet(xml, { nemsisDir });
    expect(result.xsdErrors).toEqual([]);
    expect(result.schematronErrors).toEqual([]);
  }, 120_000);
});
