import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ChildSpec, childSpecs, isGroup } from '../../../shared/nemsis/export/element-order.ts';
import { group, leaf } from '../../../shared/nemsis/export/nemsis-tree.ts';
import { escapeAttribute, serializeXml } from '../../../shared/nemsis/export/xml-writer.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const xsdDir = process.env.NEMSIS_DIR ?? path.resolve(repoRoot, '../shared/nemsis');

const SECTIONS = [
  'eRecord', 'eResponse', 'eDispatch', 'eCrew', 'eTimes', 'ePatient', 'ePayment', 'eScene', 'eSituation', 'eInjury', 'eArrest',
  'eHistory', 'eNarrative', 'eVitals', 'eProtocols', 'eMedications', 'eProcedures', 'eDisposition', 'eOutcome', 'eOther',
];
/** The XSD's name of a section's type where it differs from the section's (eCrew_v3.xsd declares `eCrews`). */
const TYPE_NAME: Readonly<Record<string, string>> = { eCrew: 'eCrews' };
/** National usage "Required" although the XSD gives minOccurs 0; the table marks them required on purpose. */
const REQUIRED_DESPITE_MIN_OCCURS_0 = new Set(['ePatient.13', 'ePatient.25']);

interface XsdElement {
  name: string;
  minOccurs: string;
  maxOccurs: string;
  nillable: boolean;
}

/** Every xs:element under `scopeXPath`, in document order, with its occurrence attributes. */
function xsdElements(file: string, scopeXPath: string): XsdElement[] {
  const wanted = ['name', 'minOccurs', 'maxOccurs', 'nillable'].map((name) => `local-name()='${name}'`).join(' or ');
  const output = execFileSync('xmllint', ['--xpath', `${scopeXPath}//*[local-name()='element']/@*[${wanted}]`, path.join(xsdDir, file)], { encoding: 'utf8' });
  const elements: XsdElement[] = [];
  // Every xs:element in these XSDs starts with its name attribute, so a name opens a new record.
  for (const [, attribute, value = ''] of output.matchAll(/(\w+)="([^"]*)"/g)) {
    if (attribute === 'name') elements.push({ name: value, minOccurs: '1', maxOccurs: '1', nillable: false });
    const current = elements.at(-1);
    if (!current) continue;
    if (attribute === 'minOccurs') current.minOccurs = value;
    if (attribute === 'maxOccurs') current.maxOccurs = value;
    if (attribute === 'nillable') current.nillable = value === 'true';
  }
  return elements;
}

/** The table flattened depth-first, which is the document order of the XSD's nested declarations. */
function flattenTable(parent: string, stopAt: ReadonlySet<string>): ChildSpec[] {
  return (childSpecs(parent) ?? []).flatMap((spec) => [spec, ...(isGroup(spec.name) && !stopAt.has(spec.name) ? flattenTable(spec.name, stopAt) : [])]);
}

function expectTableMatchesXsd(table: ChildSpec[], xsd: XsdElement[]): void {
  expect(table.map((spec) => spec.name)).toEqual(xsd.map((element) => element.name));
  for (const [index, element] of xsd.entries()) {
    const spec = table[index]!;
    const expectedPresence =
      element.minOccurs === '0' && !REQUIRED_DESPITE_MIN_OCCURS_0.has(element.name)
        ? 'optional'
        : element.nillable || isGroup(element.name)
          ? 'required'
          : 'mandatory';
    expect({ name: spec.name, presence: spec.presence, repeatable: spec.repeatable }).toEqual({
      name: element.name,
      presence: expectedPresence,
      repeatable: element.maxOccurs === 'unbounded',
    });
  }
}

describe('element-order tables', () => {
  it.each(SECTIONS)('%s matches its XSD in order, presence and repetition', (section) => {
    const xsd = xsdElements(`${section}_v3.xsd`, `//*[local-name()='complexType'][@name='${TYPE_NAME[section] ?? section}']`);
    expectTableMatchesXsd(flattenTable(section, new Set()), xsd);
  });

  it('the EMSDataSet root, header and PatientCareReport match EMSDataSet_v3.xsd', () => {
    const xsd = xsdElements('EMSDataSet_v3.xsd', `//*[local-name()='element'][@name='EMSDataSet']`);
    expectTableMatchesXsd(flattenTable('EMSDataSet', new Set(SECTIONS)), xsd);
  });
});

describe('group()', () => {
  it('puts children in schema order whatever order the mapping lists them in', () => {
    const built = group('eTimes', [
      leaf('eTimes.13', '2024-01-01T10:00:00-05:00'),
      leaf('eTimes.03', '2024-01-01T09:00:00-05:00'),
      leaf('eTimes.02', '2024-01-01T08:59:00-05:00'),
    ]);
    expect(built.children?.map((child) => child.name)).toEqual([
      'eTimes.01', 'eTimes.02', 'eTimes.03', 'eTimes.05', 'eTimes.06', 'eTimes.07', 'eTimes.09', 'eTimes.11', 'eTimes.12', 'eTimes.13',
    ]);
  });

  it('builds a missing required group with its required children Not Recorded', () => {
    const built = group('eVitals', []);
    expect(serializeXml(built)).toContain('<eVitals.CardiacRhythmGroup>\n      <eVitals.03 xsi:nil="true" NV="7701003"/>');
  });

  it('rejects children that are not in the schema, repeats of single elements and missing mandatory values', () => {
    expect(() => group('eTimes', [leaf('eVitals.01', 'x'), leaf('eTimes.03', 'y'), leaf('eTimes.13', 'z')])).toThrow(/eVitals\.01 is not a child of eTimes/);
    expect(() => group('eTimes', [leaf('eTimes.03', 'y'), leaf('eTimes.03', 'y'), leaf('eTimes.13', 'z')])).toThrow(/eTimes\.03 may occur only once/);
    expect(() => group('eTimes', [leaf('eTimes.03', 'y')])).toThrow(/eTimes\.13 .*Mandatory/);
    expect(() => group('eLabs', [])).toThrow(/No schema order for eLabs/);
  });
});

describe('xml-writer', () => {
  it('escapes attribute values so they survive attribute-value normalization', () => {
    expect(escapeAttribute('a"b\'c<d>&e\tf\ng\rh')).toBe('a&quot;b&apos;c&lt;d&gt;&amp;e&#9;f&#10;g&#13;h');
  });

  it('refuses names that are not XML names', () => {
    expect(() => serializeXml({ name: 'bad name' })).toThrow(/Invalid XML name/);
    expect(() => serializeXml({ name: 'ok', attributes: { 'x"y': 'v' } })).toThrow(/Invalid XML name/);
  });
});
