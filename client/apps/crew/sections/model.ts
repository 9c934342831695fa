/**
 * The ePCR form's sections: which section holds which field (by the server's path names), and
 * each field's problem said the way a paramedic would say it. Pure: no UI, no database.
 */
import { pathName } from '../../../ui/record-field.ts';

/** One recipe for a field's path name, shared with the record-field declarations the round-trip suite reads. */
export { pathName };

/** The form's sections in the order a report is written; the anchor names `sec-<anchor>` and `section-<anchor>`. */
export const SECTIONS = [
  ['response', 'Call'], ['patient', 'Patient'], ['situation', 'Situation'], ['arrest', 'Cardiac arrest'], ['history', 'History'], ['vitals', 'Vitals'],
  ['treatment', 'Medications and procedures'], ['narrative', 'Narrative'], ['disposition', 'Disposition'], ['times', 'Times'], ['billing', 'Billing'],
  ['signatures', 'Signatures and photos'],
] as const;

export type SectionAnchor = (typeof SECTIONS)[number][0];

/** The path of a path name: `vitals[v1].systolic` → `['vitals', {id:'v1'}, 'systolic']` (the inverse of pathName; the merge's recipe). */
export { conflictPathSegments as pathOf } from '../../../../shared/merge/index.ts';

/** The top-level part of a report each section edits (`scene` is only the pickup ZIP, asked under Billing). */
const SECTION_OF_ROOT: Readonly<Record<string, SectionAnchor>> = {
  response: 'response', dispatch: 'response', record: 'response', crew: 'response',
  patient: 'patient',
  situation: 'situation', injury: 'situation',
  arrest: 'arrest',
  history: 'history',
  vitals: 'vitals',
  medications: 'treatment', procedures: 'treatment', protocols: 'treatment',
  narrative: 'narrative',
  disposition: 'disposition',
  times: 'times',
  payment: 'billing', scene: 'billing',
  attachments: 'signatures', refusal: 'signatures',
};

/** The section a problem's path (`patient.lastName`, `vitals[v1].systolic`) belongs to; undefined for the report as a whole. */
export function sectionAnchorOf(path: string): SectionAnchor | undefined {
  const root = /^[A-Za-z0-9_]+/.exec(path)?.[0] ?? '';
  return SECTION_OF_ROOT[root];
}

/** The value at a path name (`patient.lastName`, `vitals[v1].systolic`) of a report, if any: the server's recipe too. */
export { valueAt } from '../../../../shared/epcr/field-value.ts';

/** Holds something: not absent, not blank text, not an empty list. */
export function filled(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '') && !(Array.isArray(value) && value.length === 0);
}

export function isSection(value: string | undefined): value is SectionAnchor {
  return SECTIONS.some(([anchor]) => anchor === value);
}

export interface Words {
  /** What to do, in a paramedic's words. */
  text: string;
  /** The NEMSIS element behind it (e.g. `eResponse.05`), for the small print. */
  element?: string;
}

const ELEMENT = /\s*\(?\b(e[A-Z][A-Za-z]+\.[0-9]{2})\)?/;

/**
 * A finalize problem (shared/domain/epcr-validation.ts) as the crew reads it: the element id moved
 * to the small print, "is required to finalize" said plainly.
 * `Type of service requested (eResponse.05) is required to finalize` → `Type of service requested: needed to finalize.`
 */
export function plainWords(message: string): Words {
  const element = ELEMENT.exec(message)?.[1];
  let text = message.replace(ELEMENT, '').replace(/\s+/g, ' ').trim();
  text = text
    .replace(/ (is|are) required to finalize$/, ': needed to finalize')
    .replace(/ (is|are) required when (.*)$/, ': needed because $2')
    .replace(/ (is|are) required to bill the transport$/, ': needed to bill the transport')
    .replace(/ (is|are) required with the age$/, ': needed with the age')
    .replace(/ is not an? ([A-Za-z ]*?)\s*code$/, ' is not a code from the list: pick one from the list')
    .replace(/ (is|are) required to finalize/, ' $1 needed to finalize')
    // Times as the crew reads them on the clock: `(2026-01-01T10:00:00-05:00)` → `(10:00:00)`.
    .replace(/\(\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?[+-]\d{2}:\d{2}\)/g, '($1)');
  text = text.charAt(0).toUpperCase() + text.slice(1);
  if (!/[.!?]$/.test(text)) text += '.';
  return element ? { text, element } : { text };
}

/** One line for a field's message: the words, then the element in brackets (a field message is plain text). */
export function fieldMessage(message: string): string {
  const words = plainWords(message);
  return words.element ? `${words.text} (NEMSIS ${words.element})` : words.text;
}
