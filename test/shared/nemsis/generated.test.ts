/**
 * The committed code lists are the ones the NEMSIS release gives: regenerating them from the
 * XSDs and lists in NEMSIS_DIR (default ../shared/nemsis) must give the committed bytes. Fails
 * when the module was edited by hand, or the release changed without `npm run nemsis:codes`.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE_LISTS_FILE, generateNemsisCodes, nemsisDir, SUBMISSION_CODES_FILE, VOCABULARIES_FILE } from '../../../scripts/nemsis-codes.ts';
import { NEMSIS_ELEMENTS, NEMSIS_RELEASE, NEMSIS_TYPES } from '../../../shared/nemsis/code-lists.generated.ts';
import { codeLabel, codeList, codeOf } from '../../../shared/nemsis/codes.ts';
import { searchVocabulary, vocabularyLabel, vocabularyPattern } from '../../../shared/nemsis/vocabularies.ts';

const dir = nemsisDir();

describe('generated NEMSIS code lists', () => {
  const generated = generateNemsisCodes(dir);

  it('the committed modules are what `npm run nemsis:codes` makes from the release', () => {
    for (const [file, contents] of Object.entries(generated.files)) {
      const committed = readFileSync(file, 'utf8');
      expect(committed === contents, `${path.relative(process.cwd(), file)} differs from what the NEMSIS release in ${dir} gives: run \`npm run nemsis:codes\` (never edit it by hand)`).toBe(true);
    }
    expect(Object.keys(generated.files).sort()).toEqual([CODE_LISTS_FILE, VOCABULARIES_FILE, SUBMISSION_CODES_FILE].sort());
  });

  it('generating twice gives the same bytes', () => {
    expect(generateNemsisCodes(dir).files).toEqual(generated.files);
  });

  it('a hand-edited label is found: the regenerated module differs', () => {
    // The comparison above must be able to fail: an edit of one label in a copy is a difference.
    const edited = generated.files[CODE_LISTS_FILE]!.replace('"Abdominal Pain/Problems"', '"Chest pain"');
    expect(edited).not.toBe(generated.files[CODE_LISTS_FILE]);
  });

  it('holds the release, every enumerated element of the XSDs, and labels from their annotations', () => {
    expect(NEMSIS_RELEASE).toBe('3.5.1.250403CP1');
    expect(generated.summary.elements).toBe(Object.keys(NEMSIS_ELEMENTS).length);
    // Counted independently of the generator: every enumeration of a type some element uses is in some list.
    const all = readdirSync(dir).filter((f) => f.endsWith('_v3.xsd')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
    const listed = new Set(Object.values(NEMSIS_TYPES).flat().map(([code]) => code));
    const missing: string[] = [];
    for (const file of ['eDispatch_v3.xsd', 'eMedications_v3.xsd', 'eDisposition_v3.xsd', 'ePayment_v3.xsd', 'dPersonnel_v3.xsd']) {
      const xsd = readFileSync(path.join(dir, file), 'utf8');
      for (const [type, body] of xsd.matchAll(/<xs:simpleType name="([^"]+)">([\s\S]*?)<\/xs:simpleType>/g)) {
        // A type no element refers to (ePayment's AmbulanceTransportCode) has no element to list it under.
        if (!new RegExp(`(type|base)="${type}"`).test(all)) continue;
        for (const [, value] of body!.matchAll(/<xs:enumeration value="([^"]+)"/g)) if (!listed.has(value!)) missing.push(`${file} ${type}: ${value}`);
      }
    }
    expect(missing).toEqual([]);
    expect(codeLabel('eDispatch.01', '2301001')).toBe('Abdominal Pain/Problems');
    expect(codeOf('eMedications.04', 'Intranasal')).toBe('9927017');
    expect(codeLabel('eMedications.04', '9927029')).toBe('Nasotracheal Tube');
    expect(codeOf('eMedications.06', 'Milliliters (ml)')).toBe('3706025');
    expect(codeList('eProcedures.06')).toEqual([['9923001', 'No'], ['9923003', 'Yes']]);
    expect(NEMSIS_ELEMENTS['eDispatch.02']).toMatchObject({ name: 'EMD Performed', nv: ['7701001', '7701003'] });
  });

  it('names the labels there are when a code is asked for by a label the release lacks', () => {
    expect(() => codeOf('eDispatch.01', 'Chest pain')).toThrow(/eDispatch\.01 \(Dispatch Reason\) has no code labelled "Chest pain".*"Chest Pain \(Non-Traumatic\)"/);
    expect(() => codeList('eNarrative.01')).toThrow(/no code list for eNarrative\.01/);
  });

  it('vocabularies: searchable by name, code format from the XSD', () => {
    expect(vocabularyLabel('medication', '7242')).toBe('Naloxone (Narcan)');
    expect(searchVocabulary('medication', 'narcan')[0]?.code).toBe('7242');
    expect(searchVocabulary('impression', 'stemi').length).toBeGreaterThan(0);
    expect(vocabularyPattern('medication').test('7242')).toBe(true);
    expect(vocabularyPattern('medication').test('Naloxone')).toBe(false);
    expect(vocabularyPattern('impression').test('I21.9')).toBe(true);
    expect(vocabularyPattern('impression').test('chest pain')).toBe(false);
    expect(vocabularyPattern('procedure').test('268400002')).toBe(true);
  });

  it('a release without a version or with a changed code fails or differs, naming what to do', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'nemsis-release-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const file = path.join(copy, 'eDispatch_v3.xsd');
      writeFileSync(file, readFileSync(file, 'utf8').replace('<xs:documentation>Abdominal Pain/Problems</xs:documentation>', '<xs:documentation>Abdominal Pain</xs:documentation>'), { mode: 0o644 });
      const changed = generateNemsisCodes(copy).files[CODE_LISTS_FILE]!;
      expect(changed).toContain('["2301001", "Abdominal Pain"]');
      expect(changed).not.toBe(generated.files[CODE_LISTS_FILE]);
      const sch = path.join(copy, 'schematron', 'EMSDataSet.sch');
      writeFileSync(sch, readFileSync(sch, 'utf8').replace(/schemaVersion="[^"]+"/, ''));
      expect(() => generateNemsisCodes(copy)).toThrow(/no schemaVersion/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
