/**
 * The mark of a field's value the server notes on each national warning (finalizeWarnings[].foundOn)
 * and the crew form compares with what the field holds now: the same value gives the same mark on
 * the server and on the device (whatever order an object's keys are in), a changed value another.
 */
import { describe, expect, it } from 'vitest';
import { fieldValueMark, valueAt } from '../../../shared/epcr/field-value.ts';

const report = {
  patient: { lastName: 'Reyes' },
  medications: [{ id: 'm1', medication: '7242', dose: 2, route: { code: '9927009', text: 'IV' } }],
};

describe('the mark of the value a warning was found on', () => {
  it('reads a field by its path name, list items by id', () => {
    expect(valueAt(report, 'medications[m1].dose')).toBe(2);
    expect(valueAt(report, 'medications[m2].dose')).toBeUndefined();
    expect(valueAt(report, 'patient.firstName')).toBeUndefined();
  });

  it('is the same for the same value, keys in any order, and differs when the value changes', () => {
    const reordered = { medications: [{ route: { text: 'IV', code: '9927009' }, dose: 2, medication: '7242', id: 'm1' }] };
    expect(fieldValueMark(reordered, 'medications[m1].route')).toBe(fieldValueMark(report, 'medications[m1].route'));
    expect(fieldValueMark(report, 'medications[m1].dose')).not.toBe(fieldValueMark({ medications: [{ id: 'm1', dose: 4 }] }, 'medications[m1].dose'));
    expect(fieldValueMark(report, 'medications[m1].dose')).not.toBe(fieldValueMark(report, 'medications[m1].route'));
    // Absent and blank-by-absence are one value: a field the crew then fills changes the mark.
    expect(fieldValueMark(report, 'patient.firstName')).toBe(fieldValueMark({}, 'patient.firstName'));
    expect(fieldValueMark({ patient: { firstName: 'Dana' } }, 'patient.firstName')).not.toBe(fieldValueMark(report, 'patient.firstName'));
    expect(fieldValueMark(report, 'patient.lastName')).toMatch(/^[0-9a-f]{16}$/);
  });
});
