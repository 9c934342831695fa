/**
 * The check before a report locks (guide non-negotiable 4): build the report's NEMSIS export and
 * run the XSD and the national Schematron on it. Every [ERROR] (and every XSD message) refuses the
 * finalize, said at the crew form's field that feeds the element (nemsis/form-fields.ts), in words;
 * [WARNING]s are returned beside them and never refuse.
 *
 * A function of the report and the validators only, so it can run wherever finalize is decided
 * (today the epcr-finalized workflow; a push write policy once replication has that seam). A
 * validator that cannot run throws: the report is then neither locked nor refused, and the
 * finalize is tried again.
 */
import type { Epcr } from '../../shared/schemas/index.ts';
import { buildEmsDataSetXml, NemsisExportError, type ExportFiles, type NemsisAgency } from '../../shared/nemsis/export/emsdataset.ts';
import { formFieldOf } from '../../shared/nemsis/form-fields.ts';
import { exportProblem as problem, schematronProblem, uniqueProblems as unique } from '../../shared/nemsis/schematron-findings.ts';
import { validateEmsDataSet } from '../nemsis/validate.ts';
import type { FinalizeProblem } from '../../shared/domain/epcr-validation.ts';

export interface ExportCheckDeps {
  agency: NemsisAgency;
  /** The NEMSIS directory (NEMSIS_DIR): XSDs and schematron/. */
  nemsisDir: string;
  /** Where the compiled Schematron is cached (SCHEMATRON_CACHE_DIR). */
  schematronCacheDir?: string;
  /** The bytes of the report's signatures and exported photos (eOther), by SHA-256. */
  files?: ExportFiles;
}

export interface ExportWarning extends FinalizeProblem {
  /** The national rule, e.g. nemSch_e150. */
  rule: string;
}

export interface ExportCheck {
  /** Problems that refuse the finalize, each at the field to fix. */
  errors: FinalizeProblem[];
  /** National [WARNING]s: shown, allowed. */
  warnings: ExportWarning[];
  /** The checked export (stored as the report's NEMSIS export when it locks). */
  xml: string | undefined;
  /** How long the Schematron took, in milliseconds. */
  schematronMs: number;
}

/** Builds and validates the export of `report` (an addendum: the report it amends with it laid over). */
export async function checkEpcrExport(report: Epcr, deps: ExportCheckDeps): Promise<ExportCheck> {
  let xml: string;
  try {
    xml = buildEmsDataSetXml(report, deps.agency, deps.files);
  } catch (error) {
    if (!(error instanceof NemsisExportError)) throw error;
    // Mandatory elements without a value: the completeness check names most of them first.
    const errors = error.missing.map((entry) => {
      const element = /^(\S+)/.exec(entry)?.[1] ?? entry;
      const field = formFieldOf(report, element);
      return problem(field?.path ?? `nemsis.${element}`, `${field?.label ?? element}: NEMSIS requires a value here and allows no "Not Recorded" (${element})`);
    });
    return { errors, warnings: [], xml: undefined, schematronMs: 0 };
  }
  const result = await validateEmsDataSet(xml, { nemsisDir: deps.nemsisDir, ...(deps.schematronCacheDir ? { schematronCacheDir: deps.schematronCacheDir } : {}) });
  // xmllint says a wrong code twice (the enumeration, then the type): once per field is enough.
  const xsd = result.xsdErrors.map((message) => xsdProblem(report, message)).filter((p, i, all) => p.path.startsWith('nemsis') || all.findIndex((q) => q.path === p.path) === i);
  const errors = unique([...xsd, ...result.schematronErrors.map((finding) => schematronProblem(report, finding))]);
  const warnings = unique(result.schematronWarnings.map((finding) => ({ ...schematronProblem(report, finding), rule: finding.rule })));
  return { errors, warnings, xml, schematronMs: result.schematronMs };
}

/** `line 40: Element 'eDispatch.05': [facet 'enumeration'] The value 'P2' is not an element of the set {...}.` */
const XSD_ELEMENT = /Element '([^']+)'(?:, attribute '([^']+)')?: (.*)$/s;

function xsdProblem(report: Epcr, message: string): FinalizeProblem {
  const match = XSD_ELEMENT.exec(message);
  if (!match) return problem('nemsis', `The NEMSIS export of this report is not valid: ${message}. Tell your administrator; the report stays open`);
  const [, element, attribute, detail] = match as unknown as [string, string, string | undefined, string];
  const value = /(?:The value |^)'([^']*)'/.exec(detail)?.[1];
  const field = formFieldOf(report, element, undefined, value);
  const label = field?.label ?? element;
  const shown = value !== undefined ? `"${value}"` : 'the value';
  let words: string;
  const maxLength = /facet 'maxLength'\] The value has a length of '(\d+)'; this exceeds the allowed maximum length of '(\d+)'/.exec(detail);
  const minLength = /facet 'minLength'\] The value has a length of '(\d+)'; this underruns the allowed minimum length of '(\d+)'/.exec(detail);
  if (/facet 'enumeration'|is not an element of the set/.test(detail)) words = `${shown} is not a NEMSIS code for this field: choose one from the list`;
  else if (maxLength) words = `too long for NEMSIS: at most ${maxLength[2]} characters, this has ${maxLength[1]}`;
  else if (minLength) words = `too short for NEMSIS: at least ${minLength[2]} characters, this has ${minLength[1]}`;
  else if (/facet '(pattern|minLength|maxLength|minInclusive|maxInclusive|totalDigits|fractionDigits)'|not a valid value of the (atomic|union|list) type/.test(detail)) {
    words = `${shown} is not in the form NEMSIS accepts for this field (${detail.replace(/\s+/g, ' ').replace(/\{[^}]*\}/g, '{…}').slice(0, 160)})`;
  } else words = `the NEMSIS export is not valid here: ${detail.replace(/\s+/g, ' ').replace(/\{[^}]*\}/g, '{…}').slice(0, 200)}`;
  const where = attribute ? ` (attribute ${attribute})` : '';
  return problem(field?.path ?? `nemsis.${element}`, `${label}${where}: ${words} (${element})`);
}

