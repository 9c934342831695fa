/**
 * Every code option in every app is a valid code for its NEMSIS element, with the XSD's own
 * label: the apps' option sources are enumerated here (a new pick-list must be added), each
 * option is checked against the generated module (itself checked against the XSDs by
 * test/shared/nemsis/generated.test.ts), and each crew field's codes are checked to reach the
 * element named for it in the NEMSIS export, so a list declared for the wrong element fails.
 * The crew form's hand-typed lists had 31 of 107 options wrong (issue 16).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PICK_LISTS, pickList, pertinentNegativeList, PROCEDURE_ATTEMPTS, type PickListPath } from '../../client/apps/crew/codes.ts';
import { DISPATCH_PRIORITY_ELEMENT, dispatchPriorityOptions } from '../../client/ui/dispatch-priority.ts';
import { finishedEpcr } from '../../server/demo/epcrs.ts';
import { buildEmsDataSetXml } from '../../shared/nemsis/export/emsdataset.ts';
import { codedFieldProblems, PERTINENT_NEGATIVE_FIELDS } from '../../shared/epcr/coded-fields.ts';
import { NEMSIS_ATTRIBUTE_TYPES } from '../../shared/nemsis/code-lists.generated.ts';
import { codeLabel, codeList, type CodeOption } from '../../shared/nemsis/codes.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { agency, overdoseEpcr } from '../server/nemsis/fixtures.ts';

const xsdDir = process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../../shared/nemsis');

/** Every pick-list the apps render: app, field, the element it stands for, the options it offers. */
const APP_OPTION_SOURCES: readonly { app: string; field: string; element: string; options: readonly CodeOption[] }[] = [
  ...(Object.entries(PICK_LISTS) as [PickListPath, string][]).map(([field, element]) => ({ app: 'crew', field, element, options: pickList(field) })),
  { app: 'dispatch', field: 'incident priority', element: DISPATCH_PRIORITY_ELEMENT, options: dispatchPriorityOptions() },
];

describe('app pick-lists against the NEMSIS code lists', () => {
  it('every option of every app is a code of its element, labelled as the XSD labels it', () => {
    const wrong: string[] = [];
    for (const { app, field, element, options } of APP_OPTION_SOURCES) {
      expect(options.length, `${app} ${field}`).toBeGreaterThan(0);
      for (const [code, label] of options) {
        const xsdLabel = codeLabel(element, code);
        if (xsdLabel === undefined) wrong.push(`${app} ${field}: ${code} "${label}" is not a code of ${element}`);
        else if (xsdLabel !== label) wrong.push(`${app} ${field}: ${code} is "${xsdLabel}" in the XSD, offered as "${label}"`);
      }
    }
    expect(wrong).toEqual([]);
    console.log(`app pick-lists: ${APP_OPTION_SOURCES.length} pick-lists, ${APP_OPTION_SOURCES.reduce((n, s) => n + s.options.length, 0)} options, all from the generated module`);
  });

  it('each crew pick-list offers all its element\'s codes, and its codes reach that element in the export', () => {
    const problems: string[] = [];
    for (const [field, element] of Object.entries(PICK_LISTS) as [PickListPath, string][]) {
      expect(pickList(field).map(([c]) => c), field).toEqual(codeList(element).map(([c]) => c));
      // The last code of the list (the first is often a default a fixture already holds).
      const [code] = pickList(field).at(-1)!;
      const epcr = withValue(overdoseEpcr(), field, code);
      const xml = buildEmsDataSetXml(epcr, agency);
      const values = [...xml.matchAll(new RegExp(`<${element.replace('.', '\\.')}(?:\\s[^>]*)?>([^<]*)</`, 'g'))].map((m) => m[1]);
      if (!values.includes(code)) problems.push(`${field}: picked ${code}, the export's ${element} holds ${JSON.stringify(values)}`);
    }
    expect(problems).toEqual([]);
  });

  it('each pertinent-negative field offers its element\'s PN codes with their XSD labels, and the export writes the one picked as that element\'s PN', () => {
    const problems: string[] = [];
    const labels = new Map(Object.entries(NEMSIS_ATTRIBUTE_TYPES).filter(([type]) => type.startsWith('PN.')).flatMap(([, codes]) => codes));
    for (const [field, element] of Object.entries(PERTINENT_NEGATIVE_FIELDS)) {
      const options = pertinentNegativeList(pathOfGeneral(field));
      expect(options.length, field).toBeGreaterThan(0);
      for (const [code, label] of options) if (labels.get(code) !== label) problems.push(`${field}: ${code} "${label}" is "${labels.get(code)}" in the XSD`);
      const [code] = options.at(-1)!;
      // A "none" PN stands where the list is empty (the finalize check refuses both at once).
      const base = overdoseEpcr();
      const xml = buildEmsDataSetXml(withValue({ ...base, history: { ...base.history, allergies: [] } }, field as PickListPath, code), agency);
      if (!new RegExp(`<${element.replace('.', '\\.')} [^>]*PN="${code}"`).test(xml)) problems.push(`${field}: picked PN ${code}, the export's ${element} does not carry it`);
    }
    expect(problems).toEqual([]);
  });

  it('eProcedures.05 attempts are limited as NumberOfProcedureAttempts is', () => {
    const xsd = readFileSync(path.join(xsdDir, 'eProcedures_v3.xsd'), 'utf8');
    const start = xsd.indexOf('<xs:simpleType name="NumberOfProcedureAttempts">');
    const body = xsd.slice(start, xsd.indexOf('</xs:simpleType>', start));
    expect(PROCEDURE_ATTEMPTS.min).toBe(Number(/minInclusive value="(\d+)"/.exec(body)?.[1]));
    expect(PROCEDURE_ATTEMPTS.max).toBe(Number(/maxInclusive value="(\d+)"/.exec(body)?.[1]));
  });

  it('no code is typed by hand: no 7-digit NEMSIS code literal in client/, server/ or shared/ outside the generated module', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const typed: string[] = [];
    const files = ['client', 'server', 'shared'].flatMap((dir) => walk(path.join(root, dir)))
      .filter((f) => /\.(ts|tsx)$/.test(f) && !f.endsWith('.generated.ts'));
    for (const file of files) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, n) => {
        // NEMSIS code-list values are 7 digits (2301001, 9923003); a quoted one is a hand-typed code.
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) return; // a comment may name a code
        if (/['"`](?:[1-9][0-9]{6})['"`]/.test(line)) typed.push(`${path.relative(root, file)}:${n + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(typed, 'take codes from shared/nemsis/codes.ts (codeList, codeOf) instead').toEqual([]);
  });

  it('the demo report holds codes of its fields\' elements', () => {
    expect(codedFieldProblems(finishedEpcr('demo', new Date('2026-01-01T12:00:00Z')) as unknown as Epcr)).toEqual([]);
  });
});

/** The report with `code` at a pick-list field (a list item's field set on every item; one item made if none). */
function withValue(epcr: Epcr, field: PickListPath, code: string): Epcr {
  const doc = structuredClone(epcr) as Record<string, unknown>;
  // A field ending in `[]` holds a list of codes.
  const many = field.endsWith('[]');
  const value = many ? [code] : code;
  const [, list, key] = /^(\w+)\[\]\.(\w+)(?:\[\])?$/.exec(field) ?? [];
  if (list && key) {
    // A list the fixture does not have (the crew) gets one item.
    const items = (doc[list] as Record<string, unknown>[] | undefined) ?? (doc[list] = [{ id: `${list}-1` }]) as Record<string, unknown>[];
    if (!items.length) throw new Error(`the fixture has no ${list} to set ${key} on`);
    for (const item of items) item[key] = value;
    return doc as Epcr;
  }
  const [section, leaf] = field.replace(/\[\]$/, '').split('.') as [string, string];
  doc[section] = { ...(doc[section] as object | undefined), [leaf]: value };
  return doc as Epcr;
}

/** `medications[].pertinentNegative` as a form path (`['medications', {id:'m1'}, 'pertinentNegative']`). */
function pathOfGeneral(field: string): (string | { id: string })[] {
  return field.split('.').flatMap((part) => (part.endsWith('[]') ? [part.slice(0, -2), { id: 'm1' }] : [part]));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
