/**
 * The map from export elements to the crew's fields (shared/nemsis/form-fields.ts) is complete for
 * what the export writes from a report, and every field it names is a field of the ePCR schema,
 * so a refused finalize always points at something the crew can open.
 */
import { describe, expect, it } from 'vitest';
import { valuedElements } from '../../../server/nemsis/coverage.ts';
import { buildEmsDataSetXml } from '../../../shared/nemsis/export/emsdataset.ts';
import { formFieldOf, mappedElements } from '../../../shared/nemsis/form-fields.ts';
import { epcrSchema } from '../../../shared/schemas/epcrs.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { agency, motorVehicleCollisionEpcr, overdoseEpcr } from './fixtures.ts';

/** Written by the server, not typed by the crew: the software's identity, the complaint's type, the GCS total. */
const NOT_FROM_THE_FORM = new Set(['eRecord.02', 'eRecord.03', 'eRecord.04']);


type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode };

function schemaHas(path: string): boolean {
  let node: SchemaNode | undefined = epcrSchema as unknown as SchemaNode;
  for (const part of path.replace(/\[[^\]]*\]/g, '.[]').split('.').filter(Boolean)) {
    node = part === '[]' ? node?.items : node?.properties?.[part];
    if (!node) return false;
  }
  return true;
}

describe('export element → crew form field', () => {
  it('every element the export fills from a report is mapped to a field', () => {
    const written = new Set<string>();
    for (const report of [overdoseEpcr(), motorVehicleCollisionEpcr()]) for (const e of valuedElements(buildEmsDataSetXml(report, agency))) written.add(e);
    expect(written.size).toBeGreaterThan(60);
    const mapped = new Set(mappedElements());
    expect([...written].filter((e) => !mapped.has(e) && !NOT_FROM_THE_FORM.has(e)).sort()).toEqual([]);
  });

  it('every mapped field is a field of the ePCR schema', () => {
    const report = overdoseEpcr();
    const paths = mappedElements().map((e) => formFieldOf(report, e, '/EMSDataSet[1]/Header[1]/PatientCareReport[1]/eVitals[1]/eVitals.VitalGroup[1]/eMedications.MedicationGroup[1]/eProcedures.ProcedureGroup[1]')!.path);
    expect(paths.filter((p) => !schemaHas(p))).toEqual([]);
  });

  it('an element of a repeated group is the item at the same position, by its id', () => {
    const report: Epcr = overdoseEpcr();
    const second = report.medications![1]!;
    expect(formFieldOf(report, 'eMedications.03', '/EMSDataSet[1]/Header[1]/PatientCareReport[1]/eMedications[1]/eMedications.MedicationGroup[2]/eMedications.03[1]'))
      .toEqual({ path: `medications[${second.id}].medication`, label: 'Medication (medication 2)' });
    // An XSD message names no position: the item holding the offending value.
    expect(formFieldOf(report, 'eMedications.03', undefined, second.medication)?.path).toBe(`medications[${second.id}].medication`);
    expect(formFieldOf(report, 'dAgency.02')).toBeUndefined();
  });
});
