/**
 * Validation of a DEMDataSet as the state's receiver does it: DEMDataSet_v3.xsd (xmllint, as the
 * EMS exports) and the national DEM Schematron (DEMDataSet.sch, compiled and run like the EMS
 * rules, on its own worker). Same contract as validate.ts: a bad document is a result, a validator
 * that cannot run is an Error.
 */
import { sharedSchematronValidator, type SchematronFinding } from './schematron.ts';
import { validateEmsDataSetXsd } from './validate.ts';

export interface DemDataSetCheck {
  valid: boolean;
  xsdErrors: string[];
  schematronErrors: SchematronFinding[];
  schematronWarnings: SchematronFinding[];
}

export async function validateDemDataSet(xml: string, options: { nemsisDir: string; schematronCacheDir?: string }): Promise<DemDataSetCheck> {
  const rules = sharedSchematronValidator({ nemsisDir: options.nemsisDir, dataSet: 'DEMDataSet', ...(options.schematronCacheDir ? { cacheDir: options.schematronCacheDir } : {}) });
  const xsd = await validateEmsDataSetXsd(xml, { xsdDir: options.nemsisDir, schemaFile: 'DEMDataSet_v3.xsd' });
  // Rules on a document the XSD refuses say little more; the XSD's messages say what is wrong.
  if (!xsd.valid) return { valid: false, xsdErrors: xsd.errors, schematronErrors: [], schematronWarnings: [] };
  const { errors, warnings } = await rules.validate(xml);
  return { valid: errors.length === 0, xsdErrors: [], schematronErrors: errors, schematronWarnings: warnings };
}
