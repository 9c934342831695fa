/**
 * The coverage measure (server/nemsis/coverage.ts) reads the national elements from the XSDs'
 * own annotations and counts an element as exported only when the export gives it a value.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureCoverage, nationalElements, valuedElements } from '../../../server/nemsis/coverage.ts';
import { agency, overdoseEpcr } from './fixtures.ts';

const NEMSIS_DIR = process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/nemsis');

describe('NEMSIS national coverage measure', () => {
  it('finds the 145 national elements of the EMS data set, with their usage', () => {
    const national = nationalElements(NEMSIS_DIR);
    expect(national).toHaveLength(145);
    expect(national.find((e) => e.id === 'eArrest.01')).toEqual({ id: 'eArrest.01', name: 'Cardiac Arrest', usage: 'Required' });
    expect(national.find((e) => e.id === 'eTimes.03')?.usage).toBe('Mandatory');
    // eCrew is not national; eOther neither.
    expect(national.some((e) => e.id.startsWith('eCrew.') || e.id.startsWith('eOther.'))).toBe(false);
  });

  it('counts an element as exported only when it carries a value (nil Not Recorded is not one)', () => {
    const xml = '<eArrest><eArrest.01>3001001</eArrest.01>\n<eArrest.02 xsi:nil="true" NV="7701001"/><eArrest.03>\n</eArrest.03><eArrest.04>3004001</eArrest.04></eArrest>';
    expect([...valuedElements(xml)]).toEqual(['eArrest.01', 'eArrest.04']);
  });

  it('held needs a field of the schema, on the form needs that field among the form\'s inputs', () => {
    const coverage = measureCoverage({ nemsisDir: NEMSIS_DIR, formPaths: ['patient.age', 'vitals[].systolic'], reports: [overdoseEpcr()], agency });
    const row = (id: string) => coverage.rows.find((r) => r.id === id)!;
    expect(row('ePatient.15')).toMatchObject({ field: 'patient.age', held: true, onForm: true, exported: true });
    expect(row('eVitals.06')).toMatchObject({ field: 'vitals[].systolic', held: true, onForm: true });
    expect(row('eVitals.10')).toMatchObject({ held: true, onForm: false, exported: true });
    // Hospital outcome is held (entered by an admin or imported) but not on the crew's form here, and the reports given carry none.
    expect(row('eOutcome.01')).toMatchObject({ field: 'outcome.edDisposition', held: true, onForm: false, exported: false });
    expect(coverage.onForm).toBe(2);
  });
});
