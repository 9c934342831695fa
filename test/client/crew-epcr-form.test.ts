/**
 * The crew ePCR form's pure rules: which section a finalize problem belongs to and how it is
 * worded, the age from a date of birth, the vitals table's order and GCS total, and when a
 * report holds nothing typed (so it may be discarded).
 */
import { describe, expect, it } from 'vitest';
import { validateEpcrForFinalize } from '../../shared/domain/epcr-validation.ts';
import type { Epcr, Incident } from '../../shared/schemas/index.ts';
import { nothingTyped, prefillFromCall } from '../../client/apps/crew/report-content.ts';
import { ageFromBirth } from '../../client/apps/crew/sections/age.ts';
import { fieldMessage, pathName, pathOf, plainWords, sectionAnchorOf, SECTIONS, valueAt } from '../../client/apps/crew/sections/model.ts';
import { gcsTotal, latestFirst } from '../../client/apps/crew/sections/vital-signs.ts';

const empty = { id: 'e1', tenantId: 't', rev: '1-a', status: 'draft', unitId: 'M1' } as Epcr;

describe('crew ePCR form rules', () => {
  it('puts every problem the finalize check can raise in a section, in plain words', () => {
    const problems = [
      ...validateEpcrForFinalize(empty),
      ...validateEpcrForFinalize({ ...empty, disposition: { transportDisposition: '4230001' }, payment: { serviceLevel: 'x' } }),
    ];
    const anchors = new Set(SECTIONS.map(([a]) => a));
    for (const p of problems) {
      expect(anchors.has(sectionAnchorOf(p.path)!), p.path).toBe(true);
      const words = plainWords(p.message);
      expect(words.text, p.message).not.toMatch(/required to finalize|\(e[A-Z]/);
      expect(words.text).toMatch(/^[A-Z].*\.$/);
    }
    expect(sectionAnchorOf('vitals[v1].systolic')).toBe('vitals');
    expect(sectionAnchorOf('medications[m1].dose')).toBe('treatment');
    expect(sectionAnchorOf('scene.address.zip')).toBe('billing');
    expect(sectionAnchorOf('addendumOf')).toBeUndefined();
    expect(pathOf('vitals[v1].systolic')).toEqual(['vitals', { id: 'v1' }, 'systolic']);
    expect(pathName(pathOf('scene.address.zip'))).toBe('scene.address.zip');
    expect(valueAt({ vitals: [{ id: 'v0' }, { id: 'v1', systolic: 140 }] }, 'vitals[v1].systolic')).toBe(140);
    expect(valueAt({ patient: {} }, 'patient.address.zip')).toBeUndefined();
    expect(fieldMessage('Type of service requested (eResponse.05) is required to finalize'))
      .toBe('Type of service requested: needed to finalize. (NEMSIS eResponse.05)');
    expect(plainWords('Patient last name is required to finalize')).toEqual({ text: 'Patient last name: needed to finalize.' });
    expect(plainWords('Time unit notified by dispatch (2026-01-01T10:00:00-05:00) is before PSAP call (2026-01-01T11:00:00-05:00)').text)
      .toBe('Time unit notified by dispatch (10:00:00) is before PSAP call (11:00:00).');
  });

  it('counts the age on the day of the call, in years, months or days', () => {
    expect(ageFromBirth('1958-03-14', '2026-03-13T10:00:00-05:00')).toMatchObject({ age: 67, units: '2516009' });
    expect(ageFromBirth('1958-03-14', '2026-03-14T10:00:00-05:00')).toMatchObject({ age: 68, units: '2516009' });
    expect(ageFromBirth('2026-01-20', '2026-03-14T10:00:00-05:00')).toMatchObject({ age: 1, units: '2516007', words: '1 month' });
    expect(ageFromBirth('2026-03-01', '2026-03-14T10:00:00-05:00')).toMatchObject({ age: 13, units: '2516001' });
    expect(ageFromBirth('2027-01-01', '2026-03-14T10:00:00-05:00')).toBeUndefined();
    expect(ageFromBirth('1990-02-31', '2026-03-14T10:00:00-05:00')).toBeUndefined();
    expect(ageFromBirth('1990-02', undefined)).toBeUndefined();
  });

  it('lists vital sets latest first and totals the GCS only from all three parts', () => {
    const sets = [
      { id: 'a', takenAt: '2026-03-14T10:00:00-05:00', gcsEye: 4, gcsVerbal: 5, gcsMotor: 6 },
      { id: 'b', takenAt: '2026-03-14T10:10:00-05:00', gcsEye: 3, gcsVerbal: 4 },
      { id: 'c', takenAt: '2026-03-14T10:05:00-05:00' },
    ];
    expect(latestFirst(sets).map((r) => [r.vital.id, r.number])).toEqual([['b', 2], ['c', 3], ['a', 1]]);
    expect(gcsTotal(sets[0]!)).toBe(15);
    expect(gcsTotal(sets[1]!)).toBeUndefined();
  });

  it('offers discarding only a report that holds nothing but what was prefilled', () => {
    expect(nothingTyped(empty, undefined)).toBe(true);
    expect(nothingTyped({ ...empty, patient: {} }, undefined)).toBe(true);
    // Who wrote last is stamped by the device on every write: not something typed.
    expect(nothingTyped({ ...empty, lastEdit: { by: 'crew@tablet-1', device: 'tablet-1', at: '2026-03-14T10:00:00-05:00' } } as Epcr, undefined)).toBe(true);
    expect(nothingTyped({ ...empty, patient: { lastName: 'Reyes' } }, undefined)).toBe(false);
    expect(nothingTyped({ ...empty, response: { incidentNumber: '1' } }, undefined)).toBe(false);
    expect(nothingTyped({ ...empty, status: 'finalized' }, undefined)).toBe(false);
    const incident = { id: 'i1', tenantId: 't', rev: '1-a', incidentNumber: '2026-1', status: 'dispatched', complaint: 'fall', timeline: { unitNotified: '2026-03-14T10:00:00-05:00' } } as Incident;
    const prefill = prefillFromCall(incident, 'M1');
    const stub = { ...empty, incidentId: 'i1', ...prefill };
    expect(nothingTyped(stub, prefill)).toBe(true);
    // The server's stub names only the call sign: still nothing typed.
    expect(nothingTyped({ ...stub, response: { incidentNumber: '2026-1', callSign: 'M1' } }, prefill)).toBe(true);
    expect(nothingTyped({ ...stub, response: { ...stub.response, responseMode: '2223001' } }, prefill)).toBe(false);
    expect(nothingTyped({ ...stub, times: { ...stub.times, unitEnRoute: '2026-03-14T10:02:00-05:00' } }, prefill)).toBe(false);
  });
});
