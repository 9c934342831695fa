/**
 * The ePCR form's pick-lists: the coded fields it renders as a select, each offering the codes of
 * the NEMSIS element it is exported to (shared/epcr/coded-fields.ts). Its options are that element's codes with the labels of the
 * XSD (shared/nemsis/codes.ts, generated from the release): no code or label is typed here.
 * test/client/app-pick-lists.test.ts checks each field's codes reach the element named.
 */
import {
  CODED_FIELDS, generalPath, PERTINENT_NEGATIVE_FIELDS, VOCABULARY_FIELDS, vocabularyFieldLabel, type CodedField, type VocabularyField, type VocabularyFieldPath,
} from '../../../shared/epcr/coded-fields.ts';
import { codeList, codeOf, pertinentNegativesOf, type CodeOption } from '../../../shared/nemsis/codes.ts';
import { vocabularyEntries, type VocabularyName } from '../../../shared/nemsis/vocabularies.ts';
import { pathName } from '../../ui/record-field.ts';
import type { Path } from '../../worker/api.ts';

/**
 * The coded fields the form offers as pick-lists (their elements: shared/epcr/coded-fields.ts):
 * every one the report has. A path ending in `[]` is a list of codes (CodesField).
 */
const FORM_PICK_LISTS = Object.keys(CODED_FIELDS) as CodedField[];

export type PickListPath = CodedField;

/** Each pick-list of the form and the NEMSIS element whose codes it offers. */
export const PICK_LISTS: Readonly<Record<PickListPath, string>> = Object.fromEntries(FORM_PICK_LISTS.map((path) => [path, CODED_FIELDS[path]])) as Record<PickListPath, string>;


export function isPickListPath(path: string): path is PickListPath {
  return (FORM_PICK_LISTS as readonly string[]).includes(path);
}

/** The options of a coded field: its element's codes and XSD labels, in the XSD's order. */
export function pickList(path: PickListPath): readonly CodeOption[] {
  return codeList(PICK_LISTS[path]);
}

/** The options of the coded field at a path (`multiple`: a list of codes); a field without a declared list is a mistake in the form. */
export function pickListAt(path: Path, multiple = false): readonly CodeOption[] {
  const general = `${generalPath(pathName(path))}${multiple ? '[]' : ''}`;
  if (!isPickListPath(general)) throw new Error(`${pathName(path)} has no pick-list: add it to FORM_PICK_LISTS (client/apps/crew/codes.ts) and its element to CODED_FIELDS (shared/epcr/coded-fields.ts)`);
  return pickList(general);
}

/** A code of a field's list by its XSD label (what the form itself writes, e.g. the age units). */
export function pickCode(path: PickListPath, label: string): string {
  return codeOf(PICK_LISTS[path], label);
}

/** The pertinent negatives a field offers: the PN codes its element declares, with their XSD labels (shared/epcr/coded-fields.ts). */
export function pertinentNegativeList(path: Path): readonly CodeOption[] {
  const general = generalPath(pathName(path));
  const element = (PERTINENT_NEGATIVE_FIELDS as Record<string, string>)[general];
  if (!element) throw new Error(`${pathName(path)} has no pertinent negatives: add it to PERTINENT_NEGATIVE_FIELDS (shared/epcr/coded-fields.ts)`);
  return pertinentNegativesOf(element);
}

/** eProcedures.05 is NumberOfProcedureAttempts (eProcedures_v3.xsd): an integer from 1 to 10. */
export const PROCEDURE_ATTEMPTS = { min: 1, max: 10 } as const;

/**
 * A vocabulary field (medication, procedure, impression, history): the NEMSIS lists to search
 * ([code, label], each code once), the form a code takes, what to say when a value is not one,
 * and the label of a stored code.
 */
export function vocabularyPick(field: VocabularyFieldPath): {
  /** The id of the page's datalist for this field (render `list` once with SuggestionList). */
  suggestions: string;
  list: { id: string; entries: readonly (readonly [string, string])[]; vocabularies: readonly VocabularyName[] };
  pattern: RegExp;
  patternHint: string;
  describe: (code: string) => string | undefined;
} {
  const spec: VocabularyField = VOCABULARY_FIELDS[field];
  const seen = new Set<string>();
  const suggestions = spec.vocabularies.flatMap((name) => vocabularyEntries(name))
    .filter((entry) => !seen.has(entry.code) && seen.add(entry.code))
    .map((entry): [string, string] => [entry.code, entry.label]);
  const id = `nemsis-${field.replace(/[^A-Za-z]+/g, '-')}`;
  return {
    suggestions: id,
    list: { id, entries: suggestions, vocabularies: spec.vocabularies },
    pattern: spec.pattern,
    patternHint: `Not ${spec.codeWords}: type a name and pick from the list, or type the code.${spec.text ? ' Your own words go in the field beside it.' : ''}`,
    describe: (code) => vocabularyFieldLabel(field, code),
  };
}
