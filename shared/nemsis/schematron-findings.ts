/**
 * What the national Schematron found, in the crew's words at the form's fields. The same on the
 * server (server/nemsis/schematron.ts, at finalize) and on the device (the crew app's check
 * before sending): one SVRL query, one mapping from a rule to the field that feeds its element.
 */
import type { Epcr } from '../schemas/index.ts';
import type { FinalizeProblem } from '../domain/epcr-validation.ts';
import { formFieldOf } from './form-fields.ts';

export type SchematronSeverity = 'error' | 'warning';

export interface SchematronFinding {
  /** The rule's id, e.g. `nemSch_e145`. */
  rule: string;
  severity: SchematronSeverity;
  message: string;
  /** Where the rule fired, as a plain path with positions: `/EMSDataSet[1]/Header[1]/PatientCareReport[1]/eMedications[1]/…`. */
  location: string;
  /** The NEMSIS elements the rule is about, present ones with their path, e.g. `…/eMedications.MedicationGroup[2]/eMedications.03[1]`. */
  elements: string[];
  /** NEMSIS element ids the rule found missing, e.g. `ePatient.25`. */
  missing: string[];
}

/** One failed assert or successful report of the SVRL, as the FINDINGS query returns it. */
export interface RawSchematronFinding { id: string; role: string; location: string; text: string; elements: string[]; missing: string[] }

/** The namespaces FINDINGS uses. */
export const SVRL_NAMESPACES = { svrl: 'http://purl.oclc.org/dsdl/svrl', nem: 'http://www.nemsis.org' } as const;

/** XPath 3.1 over the SVRL report: every finding with the NEMSIS diagnostic's element locations and missing element names. */
export const FINDINGS_XPATH = `for $a in //(svrl:failed-assert | svrl:successful-report) return map {
  'id': string($a/@id),
  'role': string($a/@role),
  'location': string($a/@location),
  'text': normalize-space(string-join($a/svrl:text, ' ')),
  'elements': array { $a/svrl:diagnostic-reference/nem:nemsisDiagnostic/nem:elements/nem:element/@location ! string(.) },
  'missing': array { $a/svrl:diagnostic-reference/nem:nemsisDiagnostic/nem:elementsMissing/nem:element/@name ! string(.) }
}`;

/** Strips the namespace tests SVRL puts in every step: `/*:eVitals[namespace-uri()='…'][1]` → `/eVitals[1]`. */
export function plainLocation(location: string): string {
  return location.replace(/\*:/g, '').replace(/\[namespace-uri\(\)='[^']*'\]/g, '');
}

/** The NEMSIS element id a plain location ends at: `…/eVitals.06[1]` → `eVitals.06`. */
export function elementOf(location: string): string | undefined {
  const last = location.split('/').filter(Boolean).at(-1);
  return last?.replace(/\[\d+\]$/, '');
}

export function findingOf(raw: RawSchematronFinding): SchematronFinding {
  return {
    rule: raw.id || '(no id)',
    severity: raw.role === '[ERROR]' ? 'error' : 'warning',
    message: raw.text,
    location: plainLocation(raw.location),
    elements: raw.elements.map(plainLocation),
    missing: raw.missing.filter((name) => name !== ''),
  };
}

const MESSAGE_MAX = 500;

/** A finding as a problem at the crew form's field that feeds the element the rule is about. */
export function schematronProblem(report: Epcr, finding: SchematronFinding): FinalizeProblem {
  // The element to fix: the one the rule is about, else the first it names, else the first it finds missing.
  const located = [finding.location, ...finding.elements].find((location) => /\.\d{2}(\[\d+\])?$/.test(location));
  const element = (located && elementOf(located)) ?? finding.missing[0];
  const field = element ? formFieldOf(report, element, located ?? finding.location) : undefined;
  const label = field?.label ?? (element ? `NEMSIS ${element}` : 'This report');
  const tail = element ? ` (${element})` : '';
  const advice = field ? '' : ' This field is not on the form yet: tell your administrator';
  return exportProblem(field?.path ?? (element ? `nemsis.${element}` : 'nemsis'), `${label}: ${finding.message} (national rule ${finding.rule})${advice}${tail}`);
}

/** A problem whose message is cut to what a field can show. */
export function exportProblem(path: string, message: string): FinalizeProblem {
  return { path, message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 1)}…` : message };
}

/** Each problem once (xmllint and the rules can say the same thing twice). */
export function uniqueProblems<T extends FinalizeProblem>(problems: T[]): T[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
