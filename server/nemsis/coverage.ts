/**
 * How much of NEMSIS's national data set the product covers (issue 16, item 3), measured, not
 * claimed: for each of the elements the EMS XSDs mark National = Yes (`<national>Yes</national>`
 * in the element's nemsisTacDoc annotation, the same annotation the code-list generator reads),
 *
 * - held: the ePCR has a field for it (shared/nemsis/form-fields.ts names the field, and the field
 *   is in the ePCR schema);
 * - on the form: the crew form renders an input declaring that field (found in Chromium by
 *   test/e2e/nemsis-coverage.test.ts, which hands the paths in);
 * - exported: the NEMSIS export writes it with a value (not nil) for at least one of the reports
 *   given (the test fixtures modelled on the official samples and the issue's calls).
 *
 * docs/nemsis-coverage.md is this report, written by that test (NEMSIS_COVERAGE_WRITE=1) and
 * compared by it otherwise, so the figures quoted in the docs are the ones measured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { fieldPathOf } from '../../shared/nemsis/form-fields.ts';
import { epcrSchema } from '../../shared/schemas/epcrs.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { buildEmsDataSetXml, type NemsisAgency } from '../../shared/nemsis/export/emsdataset.ts';

const XS = 'http://www.w3.org/2001/XMLSchema';
const ELEMENT_ID = /^e[A-Z][A-Za-z]*\.[0-9]{2}$/;

export interface NationalElement {
  id: string;
  /** Its name in the data dictionary (nemsisTacDoc/name). */
  name: string;
  /** Mandatory | Required | Recommended | Optional (nemsisTacDoc/usage). */
  usage: string;
}

/** The EMS data set's national elements, in data-set order (the e*_v3.xsd files of the release). */
export function nationalElements(nemsisDir: string): NationalElement[] {
  const found = new Map<string, NationalElement>();
  const files = readdirSync(nemsisDir).filter((f) => /^e[A-Z][A-Za-z]*_v3\.xsd$/.test(f)).sort();
  for (const file of files) {
    const doc = new DOMParser().parseFromString(readFileSync(path.join(nemsisDir, file), 'utf8'), 'text/xml');
    const elements = doc.getElementsByTagNameNS(XS, 'element');
    for (let i = 0; i < elements.length; i++) {
      const element = elements.item(i) as Element;
      const id = element.getAttribute('name') ?? '';
      if (!ELEMENT_ID.test(id)) continue;
      // The element's own annotation (xs:element > xs:annotation > xs:documentation > nemsisTacDoc).
      const annotation = [...childElements(element)].find((c) => c.localName === 'annotation');
      const tacDoc = annotation && [...childElements(annotation)].flatMap((d) => [...childElements(d)]).find((c) => c.localName === 'nemsisTacDoc');
      if (!tacDoc) continue;
      const field = (name: string) => [...childElements(tacDoc)].find((c) => c.localName === name)?.textContent?.trim() ?? '';
      if (field('national') !== 'Yes') continue;
      found.set(id, { id, name: field('name'), usage: field('usage') });
    }
  }
  return [...found.values()].sort((a, b) => compareIds(a.id, b.id));
}

function* childElements(node: Element): Generator<Element> {
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.nodeType === 1) yield child as Element;
}

function compareIds(a: string, b: string): number {
  const [sa, na] = a.split('.') as [string, string];
  const [sb, nb] = b.split('.') as [string, string];
  return sa === sb ? Number(na) - Number(nb) : sa < sb ? -1 : 1;
}

type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode };

/** Whether the ePCR schema has the field at a general path (`vitals[].systolic`). */
export function schemaHasField(general: string): boolean {
  let node: SchemaNode | undefined = epcrSchema as unknown as SchemaNode;
  for (const part of general.replace(/\[[^\]]*\]/g, '.[]').split('.').filter(Boolean)) {
    node = part === '[]' ? node?.items : node?.properties?.[part];
    if (!node) return false;
  }
  return true;
}

/** The elements an EMSDataSet document carries with a value (not nil, not empty). */
export function valuedElements(xml: string): Set<string> {
  return new Set([...xml.matchAll(/<(e[A-Z][A-Za-z]+\.\d{2})(?: [^>]*[^/])?>\s*[^<\s][^<]*</g)].map((m) => m[1]!));
}

export interface CoverageRow extends NationalElement {
  /** The ePCR field holding it (general path), when the report has one. */
  field?: string;
  held: boolean;
  onForm: boolean;
  exported: boolean;
}

export interface Coverage {
  rows: CoverageRow[];
  total: number;
  held: number;
  onForm: number;
  exported: number;
}

/**
 * The coverage of the national elements: `formPaths` are the general paths of the crew form's
 * inputs (`vitals[].systolic`), `reports` the reports whose exports show what is written.
 */
export function measureCoverage(input: { nemsisDir: string; formPaths: Iterable<string>; reports: readonly Epcr[]; agency: NemsisAgency }): Coverage {
  const formPaths = new Set(input.formPaths);
  const written = new Set<string>();
  for (const report of input.reports) for (const element of valuedElements(buildEmsDataSetXml(report, input.agency))) written.add(element);
  const rows = nationalElements(input.nemsisDir).map((element): CoverageRow => {
    const field = fieldPathOf(element.id);
    const held = field !== undefined && schemaHasField(field);
    return { ...element, ...(field ? { field } : {}), held, onForm: held && formPaths.has(field), exported: written.has(element.id) };
  });
  const count = (key: 'held' | 'onForm' | 'exported') => rows.filter((r) => r[key]).length;
  return { rows, total: rows.length, held: count('held'), onForm: count('onForm'), exported: count('exported') };
}

/** The report as docs/nemsis-coverage.md holds it. */
export function renderCoverage(coverage: Coverage): string {
  const mark = (yes: boolean) => (yes ? 'yes' : '—');
  const missing = (key: 'held' | 'onForm' | 'exported') => coverage.rows.filter((r) => !r[key]).map((r) => r.id);
  return [
    '# NEMSIS national elements: coverage',
    '',
    'GENERATED by `npm run nemsis:coverage` (test/e2e/nemsis-coverage.test.ts, server/nemsis/coverage.ts); that test fails when',
    'this file no longer matches what it measures. Do not edit by hand.',
    '',
    `Of the **${coverage.total}** elements the NEMSIS 3.5.1 EMS XSDs mark National = Yes:`,
    '',
    `- **${coverage.held}** can be held by the ePCR (a field of the schema, named in shared/nemsis/form-fields.ts);`,
    `- **${coverage.onForm}** can be reached from the crew form (an input declaring that field, found in Chromium);`,
    `- **${coverage.exported}** are written with a value by the export (for at least one of the test reports: test/server/nemsis/fixtures.ts).`,
    '',
    `Not held (${missing('held').length}): ${missing('held').join(', ') || 'none'}.`,
    '',
    `Not on the form (${missing('onForm').length}): ${missing('onForm').join(', ') || 'none'}.`,
    '',
    `Never written with a value (${missing('exported').length}): ${missing('exported').join(', ') || 'none'}.`,
    '',
    '| element | name | usage | ePCR field | held | on the form | exported |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...coverage.rows.map((r) => `| ${r.id} | ${r.name} | ${r.usage} | ${r.field ? `\`${r.field}\`` : ''} | ${mark(r.held)} | ${mark(r.onForm)} | ${mark(r.exported)} |`),
    '',
  ].join('\n');
}
