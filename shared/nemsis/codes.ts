/**
 * NEMSIS code lists, as the XSDs of the release enumerate them (code-lists.generated.ts, made by
 * `npm run nemsis:codes`). The one source of every code the apps offer and the server writes:
 * a form's pick-list is `codeList(element)`, a code the server writes is `codeOf(element, label)`,
 * which fails at load time if the release has no such label, so a wrong constant cannot ship.
 */
import { NEMSIS_ATTRIBUTE_TYPES, NEMSIS_ELEMENTS, NEMSIS_OTHER_ELEMENT_ATTRIBUTES, NEMSIS_OTHER_ELEMENT_NAMES, NEMSIS_RELEASE, NEMSIS_TYPES } from './code-lists.generated.ts';

export { NEMSIS_RELEASE };

/** A code and the label of its XSD annotation. */
export type CodeOption = readonly [code: string, label: string];

/** Not Values every nillable element may take (NV attribute). */
export const NOT_APPLICABLE = attributeCode('NV.NotApplicable', 'Not Applicable');
export const NOT_RECORDED = attributeCode('NV.NotRecorded', 'Not Recorded');

function elementCodes(element: string) {
  const entry = NEMSIS_ELEMENTS[element];
  if (!entry) throw new Error(`NEMSIS ${NEMSIS_RELEASE} has no code list for ${element}: name an element whose XSD type enumerates codes (see shared/nemsis/code-lists.generated.ts)`);
  return entry;
}

/** Whether the release enumerates the codes of this element. */
export function hasCodeList(element: string): boolean {
  return Object.hasOwn(NEMSIS_ELEMENTS, element);
}

/** Every code the element takes with its XSD label, in XSD order. */
export function codeList(element: string): readonly CodeOption[] {
  return NEMSIS_TYPES[elementCodes(element).type]!;
}

/** The element's name in the NEMSIS data dictionary ("Dispatch Reason"), for any element of the release. */
export function elementName(element: string): string {
  const name = NEMSIS_ELEMENTS[element]?.name ?? NEMSIS_OTHER_ELEMENT_NAMES[element];
  if (name === undefined) throw new Error(`NEMSIS ${NEMSIS_RELEASE} has no element ${element}`);
  return name;
}

/** The XSD label of a code of the element; undefined when the element does not take the code. */
export function codeLabel(element: string, code: string): string | undefined {
  return codeList(element).find(([c]) => c === code)?.[1];
}

export function isCodeOf(element: string, code: string): boolean {
  return codeLabel(element, code) !== undefined;
}

/**
 * The code whose XSD label is `label`, for a code the server writes or tests itself. Throws,
 * naming the labels there are, when the element has no such label: a typo or a new release
 * that renamed it is found when the module loads, not by a state that rejects the export.
 */
export function codeOf(element: string, label: string): string {
  const hits = codeList(element).filter(([, l]) => l === label);
  if (hits.length !== 1) {
    throw new Error(`${element} (${elementName(element)}) has ${hits.length === 0 ? 'no' : 'more than one'} code labelled "${label}" in NEMSIS ${NEMSIS_RELEASE}; its labels: ${codeList(element).map(([, l]) => `"${l}"`).join(', ')}`);
  }
  return hits[0]![0];
}

/** The codes of several labels of one element, in the order given. */
export function codesOf(element: string, labels: readonly string[]): string[] {
  return labels.map((label) => codeOf(element, label));
}

/** The NV and PN attributes of any element of the release (coded or not). */
function attributesOf(element: string): { readonly nv?: readonly string[]; readonly pn?: readonly string[] } {
  if (Object.hasOwn(NEMSIS_ELEMENTS, element)) return NEMSIS_ELEMENTS[element]!;
  elementName(element); // throws, naming the element, when the release has no such element
  return NEMSIS_OTHER_ELEMENT_ATTRIBUTES[element] ?? {};
}

/** The Not Values (NV attribute) an element takes. */
export function notValuesOf(element: string): readonly string[] {
  return attributesOf(element).nv ?? [];
}

/** The pertinent negatives (PN attribute) an element takes, with their labels (any element, coded or not). */
export function pertinentNegativesOf(element: string): readonly CodeOption[] {
  const pn = attributesOf(element).pn ?? [];
  const labels = new Map(Object.entries(NEMSIS_ATTRIBUTE_TYPES).filter(([t]) => t.startsWith('PN.')).flatMap(([, codes]) => codes));
  return pn.map((code): CodeOption => [code, labels.get(code) ?? code]);
}

function attributeCode(type: string, label: string): string {
  const hit = NEMSIS_ATTRIBUTE_TYPES[type]?.find(([, l]) => l === label);
  if (!hit) throw new Error(`NEMSIS ${NEMSIS_RELEASE} has no ${type} code labelled "${label}"`);
  return hit[0];
}
