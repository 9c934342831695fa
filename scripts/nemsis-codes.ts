/**
 * `npm run nemsis:codes`: generates the NEMSIS code lists the apps and the server use from the
 * NEMSIS release itself, so no code is typed by hand (developers' guide, non-negotiable 3):
 *
 * - shared/nemsis/code-lists.generated.ts: every element of the XSDs (EMS and DEM data sets) whose
 *   value is an enumeration, with each code and the label of its XSD annotation, plus the
 *   NV (Not Values) and PN (pertinent negatives) codes each element takes;
 * - shared/nemsis/vocabularies.generated.ts: NEMSIS's Defined and Suggested Lists (CSV) for the
 *   large vocabularies the XSDs only constrain by pattern (ICD-10-CM, RxNorm, SNOMED CT).
 *
 * The release is read where the server reads it (the setting NEMSIS_DIR, default ../shared/nemsis;
 * server/config.ts) and never copied into the project. Output is deterministic: the same release
 * gives the same bytes; test/shared/nemsis/generated.test.ts regenerates and compares.
 *
 * Taking in a new NEMSIS release: point NEMSIS_DIR at it (or replace ../shared/nemsis), run this
 * command, review the diff of the two generated files, run the tests (docs/nemsis.md).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { parse as parseCsv } from 'csv-parse/sync';

const XS = 'http://www.w3.org/2001/XMLSchema';
const ELEMENT_ID = /^[de][A-Z][A-Za-z]*\.[0-9]{2}$/;
const OUT_DIR = path.resolve(import.meta.dirname, '../shared/nemsis');
export const CODE_LISTS_FILE = path.join(OUT_DIR, 'code-lists.generated.ts');
export const VOCABULARIES_FILE = path.join(OUT_DIR, 'vocabularies.generated.ts');
export const SUBMISSION_CODES_FILE = path.join(OUT_DIR, 'submission-codes.generated.ts');
/** The state submission web service's description, in the release directory. */
const WSDL_FILE = 'wsdl/NEMSIS_V3_core.wsdl';

/**
 * Which NEMSIS list feeds which elements. The CSVs carry no element names (the JSON form of the
 * lists does, in its header; NEMSIS publishes the element of each list in its list index): this
 * table is that index. Each element named here must exist in the XSDs and not be enumerated,
 * which the generator checks.
 */
const VOCABULARY_LISTS = [
  { name: 'impression', file: 'DefinedLists/Impression/Impression.csv', elements: ['eSituation.11', 'eSituation.12'], system: 'ICD-10-CM' },
  { name: 'symptom', file: 'DefinedLists/Symptom/Symptom.csv', elements: ['eSituation.09', 'eSituation.10'], system: 'ICD-10-CM' },
  { name: 'medication', file: 'DefinedLists/Medication/Medication.csv', elements: ['eMedications.03', 'eHistory.12'], system: 'RxNorm' },
  { name: 'procedure', file: 'DefinedLists/Procedure/Procedure.csv', elements: ['eProcedures.03'], system: 'SNOMED CT' },
  { name: 'causeOfInjury', file: 'DefinedLists/CauseOfInjury/CauseOfInjury.csv', elements: ['eInjury.01'], system: 'ICD-10-CM' },
  { name: 'incidentLocationType', file: 'DefinedLists/IncidentLocationType/IncidentLocationType.csv', elements: ['eScene.09'], system: 'ICD-10-CM' },
  { name: 'medicationAllergy', file: 'SuggestedLists/MedicationAllergy/MedicationAllergy.csv', elements: ['eHistory.06'], system: 'ICD-10-CM' },
  { name: 'environmentalFoodAllergy', file: 'SuggestedLists/EnvironmentalFoodAllergy/EnvironmentalFoodAllergy.csv', elements: ['eHistory.07'], system: 'SNOMED CT' },
  { name: 'medicalSurgicalHistory', file: 'SuggestedLists/MedicalSurgicalHistory/MedicalSurgicalHistory.csv', elements: ['eHistory.08'], system: 'ICD-10-CM' },
  { name: 'patientActivity', file: 'SuggestedLists/PatientActivity/PatientActivity.csv', elements: ['eSituation.17'], system: 'ICD-10-CM' },
] as const;

export interface GeneratedFiles {
  /** Absolute path → contents. */
  files: Record<string, string>;
  summary: { release: string; elements: number; types: number; codes: number; vocabularies: number; vocabularyEntries: number };
}

/** The NEMSIS directory the server uses: NEMSIS_DIR, else ../shared/nemsis beside the checkout. */
export function nemsisDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['NEMSIS_DIR']?.trim();
  const dir = path.resolve(configured || path.resolve(import.meta.dirname, '../../shared/nemsis'));
  if (!existsSync(path.join(dir, 'EMSDataSet_v3.xsd'))) {
    throw new Error(`No NEMSIS release at ${dir} (EMSDataSet_v3.xsd missing): set NEMSIS_DIR to the directory holding the NEMSIS 3.5.1 XSDs`);
  }
  return dir;
}

export function generateNemsisCodes(dir: string): GeneratedFiles {
  const release = releaseOf(dir);
  const xsdFiles = readdirSync(dir).filter((f) => f.endsWith('_v3.xsd')).sort();
  const schemas = xsdFiles.map((file) => ({ file, doc: parseXml(readFileSync(path.join(dir, file), 'utf8'), file) }));
  const xsdHash = createHash('sha256');
  for (const file of xsdFiles) xsdHash.update(file).update('\0').update(readFileSync(path.join(dir, file))).update('\0');

  // Named simple types of the whole set (EMS and DEM include the same commonTypes).
  const namedTypes = new Map<string, { file: string; node: Element }>();
  for (const { file, doc } of schemas) {
    for (const node of children(doc, 'simpleType')) {
      const name = node.getAttribute('name')!;
      const known = namedTypes.get(name);
      if (known && canonical(known.node) !== canonical(node)) throw new Error(`simpleType ${name} is defined differently in ${known.file} and ${file}`);
      namedTypes.set(name, { file, node });
    }
  }
  const enumerationOf = (node: Element, seen: string[] = []): [string, string][] => {
    const restriction = children(node, 'restriction')[0];
    if (restriction) {
      const own = children(restriction, 'enumeration').map((e): [string, string] => [e.getAttribute('value')!, documentation(e)]);
      if (own.length) return own;
      const base = restriction.getAttribute('base') ?? '';
      if (!base.startsWith('xs:') && namedTypes.has(base) && !seen.includes(base)) return enumerationOf(namedTypes.get(base)!.node, [...seen, base]);
      return [];
    }
    const union = children(node, 'union')[0];
    if (union) {
      return (union.getAttribute('memberTypes') ?? '').split(/\s+/).filter(Boolean)
        .flatMap((member) => (namedTypes.has(member) && !seen.includes(member) ? enumerationOf(namedTypes.get(member)!.node, [...seen, member]) : []));
    }
    return [];
  };

  const types = new Map<string, [string, string][]>();
  const elements = new Map<string, { name: string; type: string; nv?: string[]; pn?: string[] }>();
  const patternOnly = new Map<string, { name: string; node?: Element; attributes: { nv?: string[]; pn?: string[] } }>();
  for (const { file, doc } of schemas) {
    for (const element of descendants(doc, 'element')) {
      const id = element.getAttribute('name') ?? '';
      if (!ELEMENT_ID.test(id)) continue;
      const name = tacDoc(element, 'name') ?? id;
      const { typeName, node } = valueType(element, namedTypes);
      const codes = node ? enumerationOf(node) : [];
      const attributes = attributeCodes(element, enumerationOf, namedTypes);
      if (codes.length === 0) {
        patternOnly.set(id, node ? { name, node, attributes } : { name, attributes });
        continue;
      }
      const key = typeName ?? id;
      const known = types.get(key);
      if (known && JSON.stringify(known) !== JSON.stringify(codes)) throw new Error(`type ${key} of ${id} (${file}) has two different code lists`);
      types.set(key, codes);
      const entry = { name, type: key, ...attributes };
      const before = elements.get(id);
      if (before && JSON.stringify(before) !== JSON.stringify(entry)) throw new Error(`element ${id} is declared twice with different codes (${file})`);
      elements.set(id, entry);
    }
  }
  for (const [type, codes] of types) {
    const seen = new Set<string>();
    for (const [code, label] of codes) {
      if (seen.has(code)) throw new Error(`type ${type} lists code ${code} twice`);
      if (!label) throw new Error(`type ${type}: code ${code} has no label in its XSD annotation`);
      seen.add(code);
    }
  }

  const sortedElements = [...elements.entries()].sort(([a], [b]) => compareIds(a, b));
  const sortedTypes = [...types.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header = (what: string) => [
    `/**`,
    ` * GENERATED by \`npm run nemsis:codes\` (scripts/nemsis-codes.ts) from the NEMSIS ${release} ${what}.`,
    ` * Do not edit: test/shared/nemsis/generated.test.ts regenerates this file and fails on any difference.`,
    ` */`,
    `/* eslint-disable */`,
  ];
  const codeLists = [
    ...header('XSDs'),
    `/** The NEMSIS release these lists come from (the national Schematron's schemaVersion). */`,
    `export const NEMSIS_RELEASE = ${JSON.stringify(release)};`,
    `/** SHA-256 over the XSD files (name, NUL, bytes, NUL; files sorted by name): which XSD set made this file. */`,
    `export const NEMSIS_XSD_SHA256 = ${JSON.stringify(xsdHash.digest('hex'))};`,
    ``,
    `/** Enumerated XSD types: [code, label of its xs:annotation], in XSD order. Anonymous types are named by their element. */`,
    `export const NEMSIS_TYPES: Readonly<Record<string, readonly (readonly [code: string, label: string])[]>> = {`,
    ...sortedTypes.map(([type, codes]) => `  ${JSON.stringify(type)}: [${codes.map(([c, l]) => `[${JSON.stringify(c)}, ${JSON.stringify(l)}]`).join(', ')}],`),
    `};`,
    ``,
    `export interface NemsisElementCodes {`,
    `  /** The element's name in the NEMSIS data dictionary (nemsisTacDoc/name). */`,
    `  readonly name: string;`,
    `  /** Its value type, a key of NEMSIS_TYPES. */`,
    `  readonly type: string;`,
    `  /** The Not Values (NV attribute) it takes, e.g. 7701001 Not Applicable, 7701003 Not Recorded. */`,
    `  readonly nv?: readonly string[];`,
    `  /** The pertinent negatives (PN attribute) it takes. */`,
    `  readonly pn?: readonly string[];`,
    `}`,
    ``,
    `/** Every element whose value is a code (${sortedElements.length} elements), by NEMSIS element id. */`,
    `export const NEMSIS_ELEMENTS: Readonly<Record<string, NemsisElementCodes>> = {`,
    ...sortedElements.map(([id, e]) => `  ${JSON.stringify(id)}: ${objectLiteral(e)},`),
    `};`,
    ``,
    `/** The data-dictionary names of the elements whose value is not a code (${patternOnly.size}): for messages. */`,
    `export const NEMSIS_OTHER_ELEMENT_NAMES: Readonly<Record<string, string>> = {`,
    ...[...patternOnly.entries()].sort(([a], [b]) => compareIds(a, b)).map(([id, { name }]) => `  ${JSON.stringify(id)}: ${JSON.stringify(name)},`),
    `};`,
    ``,
    `/** The Not Values (NV) and pertinent negatives (PN) of the elements whose value is not a code, where they take any. */`,
    `export const NEMSIS_OTHER_ELEMENT_ATTRIBUTES: Readonly<Record<string, { readonly nv?: readonly string[]; readonly pn?: readonly string[] }>> = {`,
    ...[...patternOnly.entries()].filter(([, { attributes }]) => attributes.nv || attributes.pn).sort(([a], [b]) => compareIds(a, b))
      .map(([id, { attributes }]) => `  ${JSON.stringify(id)}: ${objectLiteral(attributes)},`),
    `};`,
    ``,
    `/** The attribute value types (NV, PN, CodeType): [code, label]. */`,
    `export const NEMSIS_ATTRIBUTE_TYPES: Readonly<Record<string, readonly (readonly [code: string, label: string])[]>> = {`,
    ...[...namedTypes.keys()].filter((n) => /^(NV|PN|CodeType)\./.test(n)).sort()
      .map((n) => `  ${JSON.stringify(n)}: [${enumerationOf(namedTypes.get(n)!.node).map(([c, l]) => `[${JSON.stringify(c)}, ${JSON.stringify(l)}]`).join(', ')}],`),
    `};`,
    ``,
  ].join('\n');

  // ---- vocabularies (Defined and Suggested Lists) ----
  const vocabularies = VOCABULARY_LISTS.map((list) => {
    for (const element of list.elements) {
      if (elements.has(element)) throw new Error(`${list.file} is declared for ${element}, but the XSD enumerates ${element}'s codes itself`);
      if (!patternOnly.has(element)) throw new Error(`${list.file} is declared for ${element}, which the XSDs do not have`);
    }
    const formats = list.elements.map((element) => valueFormat(patternOnly.get(element)!.node, namedTypes));
    if (new Set(formats.map((f) => JSON.stringify(f))).size !== 1) throw new Error(`${list.file} is declared for ${list.elements.join(', ')}, whose XSD value formats differ`);
    const file = path.join(dir, 'lists', list.file);
    if (!existsSync(file)) throw new Error(`NEMSIS list ${list.file} not found under ${path.join(dir, 'lists')}: the release directory must hold NEMSIS's DefinedLists and SuggestedLists (CSV)`);
    const rows = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as Record<string, string>[];
    const seen = new Set<string>();
    const entries = rows.map((row, n) => {
      const code = row['Value'] ?? '';
      const label = row['SuggestedLabel'] || row['SourceLabel'] || '';
      if (!code || !label) throw new Error(`${list.file} row ${n + 2}: a code and a label are needed, got ${JSON.stringify(row)}`);
      if (seen.has(code)) throw new Error(`${list.file} lists ${code} twice`);
      seen.add(code);
      const source = row['SourceLabel'] && row['SourceLabel'] !== label ? row['SourceLabel'] : '';
      const codeType = row['CodeType'] ?? '';
      return [code, label, source, row['Category'] ?? '', codeType] as const;
    });
    return { ...list, format: formats[0]!, entries };
  });
  const vocabularyModule = [
    ...header('Defined and Suggested Lists (lists/, CSV)'),
    `export const VOCABULARY_RELEASE = ${JSON.stringify(release)};`,
    ``,
    `export interface NemsisVocabulary {`,
    `  /** The elements the list is for. */`,
    `  readonly elements: readonly string[];`,
    `  /** The code system of its codes (an entry's own code type says otherwise where it differs). */`,
    `  readonly system: string;`,
    `  /** The NEMSIS list it comes from (lists/…csv). */`,
    `  readonly list: string;`,
    `  /** The XSD's own constraint on the elements' values (xs:pattern as a JavaScript source anchored at both ends, lengths, base type). */`,
    `  readonly format: { readonly base: string; readonly pattern?: string; readonly minLength?: number; readonly maxLength?: number };`,
    `  /** [code, NEMSIS suggested label, the code system's own label where it differs, category, code type where the list names one]. */`,
    `  readonly entries: readonly (readonly [code: string, label: string, sourceLabel: string, category: string, codeType: string])[];`,
    `}`,
    ``,
    `export const NEMSIS_VOCABULARIES = {`,
    ...vocabularies.flatMap((v) => [
      `  ${v.name}: {`,
      `    elements: ${JSON.stringify(v.elements)},`,
      `    system: ${JSON.stringify(v.system)},`,
      `    list: ${JSON.stringify(v.file)},`,
      `    format: ${objectLiteral(v.format)},`,
      `    entries: [`,
      ...v.entries.map((e) => `      ${JSON.stringify(e)},`),
      `    ],`,
      `  },`,
    ]),
    `} as const satisfies Record<string, NemsisVocabulary>;`,
    ``,
  ].join('\n');

  return {
    files: { [CODE_LISTS_FILE]: codeLists, [VOCABULARIES_FILE]: vocabularyModule, [SUBMISSION_CODES_FILE]: submissionCodes(dir, release) },
    summary: {
      release,
      elements: elements.size,
      types: types.size,
      codes: [...types.values()].reduce((n, c) => n + c.length, 0),
      vocabularies: vocabularies.length,
      vocabularyEntries: vocabularies.reduce((n, v) => n + v.entries.length, 0),
    },
  };
}

/**
 * The NEMSIS V3 web service's status codes (SubmitData, RetrieveStatus) and data schema codes,
 * with the documentation of each, from the simple types of the WSDL's schema: what a state's
 * answer means is read from the same release as the data, never typed by hand.
 */
function submissionCodes(dir: string, release: string): string {
  const file = path.join(dir, WSDL_FILE);
  if (!existsSync(file)) throw new Error(`${file} not found: the NEMSIS release directory must hold the submission web service's WSDL (${WSDL_FILE})`);
  const wsdl = parseXml(readFileSync(file, 'utf8'), WSDL_FILE);
  const enumerated: [string, [string, string][]][] = [];
  const bounds: [string, { maxExclusive?: number; minExclusive?: number }][] = [];
  for (const type of descendants(wsdl, 'simpleType')) {
    const name = type.getAttribute('name');
    const restriction = children(type, 'restriction')[0];
    if (!name || !restriction) continue;
    const codes = children(restriction, 'enumeration').map((e): [string, string] => [e.getAttribute('value')!, documentation(e)]);
    if (codes.length > 0) enumerated.push([name, codes]);
    const max = children(restriction, 'maxExclusive')[0]?.getAttribute('value');
    const min = children(restriction, 'minExclusive')[0]?.getAttribute('value');
    if (max || min) bounds.push([name, { ...(max ? { maxExclusive: Number(max) } : {}), ...(min ? { minExclusive: Number(min) } : {}) }]);
  }
  enumerated.sort(([a], [b]) => a.localeCompare(b));
  bounds.sort(([a], [b]) => a.localeCompare(b));
  return [
    `/**`,
    ` * GENERATED by \`npm run nemsis:codes\` (scripts/nemsis-codes.ts) from the NEMSIS ${release} submission web service (${WSDL_FILE}).`,
    ` * Do not edit: regenerate. test/shared/nemsis/generated.test.ts checks it matches the release.`,
    ` */`,
    ``,
    `/** Each enumerated simple type of the WSDL's schema: its codes with their documentation, in WSDL order. */`,
    `export const NEMSIS_WS_CODE_TYPES = {`,
    ...enumerated.flatMap(([name, codes]) => [`  ${name}: [`, ...codes.map((c) => `    ${JSON.stringify(c)},`), `  ],`]),
    `} as const satisfies Record<string, readonly (readonly [string, string])[]>;`,
    ``,
    `/** The ranges the WSDL leaves to states and vendors (CustomErrorCodes below -100, CustomSuccessCodes above 100). */`,
    `export const NEMSIS_WS_CODE_RANGES = {`,
    ...bounds.map(([name, bound]) => `  ${name}: ${objectLiteral(bound)},`),
    `} as const;`,
    ``,
  ].join('\n');
}

/** The release version: the national Schematron's schemaVersion (the XSDs carry none). */
function releaseOf(dir: string): string {
  const sch = path.join(dir, 'schematron', 'EMSDataSet.sch');
  if (!existsSync(sch)) throw new Error(`${sch} not found: the NEMSIS release directory must hold the national Schematron, whose schemaVersion names the release`);
  const version = /<sch:schema\b[^>]*\bschemaVersion="([^"]+)"/.exec(readFileSync(sch, 'utf8'))?.[1];
  if (!version) throw new Error(`${sch} has no schemaVersion attribute on sch:schema: cannot tell which NEMSIS release this is`);
  return version;
}

function parseXml(text: string, file: string): Element {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => { if (level !== 'warning') errors.push(message); } }).parseFromString(text, 'text/xml');
  if (errors.length || !doc.documentElement) throw new Error(`${file} is not well-formed XML: ${errors.join('; ')}`);
  return doc.documentElement;
}

function children(node: Element, localName: string): Element[] {
  const out: Element[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === 1 && (c as Element).namespaceURI === XS && (c as Element).localName === localName) out.push(c as Element);
  }
  return out;
}

function descendants(node: Element, localName: string): Element[] {
  return [...node.getElementsByTagNameNS(XS, localName)] as Element[];
}

function text(node: Element | undefined): string {
  return (node?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function documentation(node: Element): string {
  const annotation = children(node, 'annotation')[0];
  return annotation ? text(children(annotation, 'documentation')[0]) : '';
}

/** A field of the element's nemsisTacDoc (data dictionary) annotation. */
function tacDoc(element: Element, field: string): string | undefined {
  const annotation = children(element, 'annotation')[0];
  const doc = annotation ? children(annotation, 'documentation')[0] : undefined;
  const hit = doc?.getElementsByTagName(field)[0];
  return hit ? text(hit as Element) : undefined;
}

function canonical(node: Element): string {
  return node.toString().replace(/\s+/g, ' ');
}

/** The simple type holding an element's value: its type attribute, an inline type, or the base of its simple content. */
function valueType(element: Element, namedTypes: Map<string, { node: Element }>): { typeName?: string; node?: Element } {
  const named = (name: string | null) => (name && namedTypes.has(name) ? { typeName: name, node: namedTypes.get(name)!.node } : {});
  if (element.getAttribute('type')) return named(element.getAttribute('type'));
  const inline = children(element, 'simpleType')[0];
  if (inline) return { node: inline };
  const complex = children(element, 'complexType')[0];
  const content = complex && children(complex, 'simpleContent')[0];
  const derivation = content && (children(content, 'extension')[0] ?? children(content, 'restriction')[0]);
  if (!derivation) return {};
  const inner = children(derivation, 'simpleType')[0];
  if (inner) return { node: inner };
  return named(derivation.getAttribute('base'));
}

/** The NV and PN codes an element's attributes take. */
function attributeCodes(
  element: Element,
  enumerationOf: (node: Element) => [string, string][],
  namedTypes: Map<string, { node: Element }>,
): { nv?: string[]; pn?: string[] } {
  const complex = children(element, 'complexType')[0];
  const content = complex && children(complex, 'simpleContent')[0];
  const derivation = content && (children(content, 'extension')[0] ?? children(content, 'restriction')[0]);
  if (!derivation) return {};
  const out: { nv?: string[]; pn?: string[] } = {};
  for (const attribute of children(derivation, 'attribute')) {
    const name = attribute.getAttribute('name');
    if (name !== 'NV' && name !== 'PN') continue;
    const typeName = attribute.getAttribute('type');
    const node = typeName ? namedTypes.get(typeName)?.node : children(attribute, 'simpleType')[0];
    const codes = node ? enumerationOf(node).map(([code]) => code) : [];
    if (codes.length) out[name === 'NV' ? 'nv' : 'pn'] = codes;
  }
  return out;
}

/** `{ name: "x", codes: ["a", "b"] }`: one line, keys unquoted. */
function objectLiteral(value: Record<string, unknown>): string {
  const item = (v: unknown): string => (Array.isArray(v) ? `[${v.map(item).join(', ')}]` : JSON.stringify(v));
  return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${item(v)}`).join(', ')} }`;
}

/**
 * The XSD constraint of a value that is not enumerated, followed through named base types: the
 * pattern (XSD patterns match the whole value, hence the anchors), the lengths, the built-in base.
 */
function valueFormat(node: Element | undefined, namedTypes: Map<string, { node: Element }>): { base: string; pattern?: string; minLength?: number; maxLength?: number } {
  const out: { base: string; pattern?: string; minLength?: number; maxLength?: number } = { base: 'xs:string' };
  for (let at = node, depth = 0; at && depth < 10; depth++) {
    const restriction = children(at, 'restriction')[0];
    if (!restriction) break;
    const facet = (name: string) => children(restriction, name)[0]?.getAttribute('value') ?? undefined;
    const pattern = facet('pattern');
    if (pattern !== undefined && out.pattern === undefined) out.pattern = `^(?:${pattern})$`;
    const min = facet('minLength');
    const max = facet('maxLength');
    if (min !== undefined && out.minLength === undefined) out.minLength = Number(min);
    if (max !== undefined && out.maxLength === undefined) out.maxLength = Number(max);
    const base = restriction.getAttribute('base') ?? 'xs:string';
    if (base.startsWith('xs:')) {
      out.base = base;
      break;
    }
    at = namedTypes.get(base)?.node;
  }
  return out;
}

/** eAirway.01 < eAirway.02 < … by section, then number. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const dir = nemsisDir();
  const { files, summary } = generateNemsisCodes(dir);
  for (const [file, contents] of Object.entries(files)) writeFileSync(file, contents);
  console.log(
    `NEMSIS ${summary.release} (${dir}): ${summary.elements} elements with code lists (${summary.types} types, ${summary.codes} codes); ` +
      `${summary.vocabularies} vocabularies (${summary.vocabularyEntries} entries) → ${path.relative(process.cwd(), OUT_DIR)}/`,
  );
}
