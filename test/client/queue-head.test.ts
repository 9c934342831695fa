/**
 * Replaying a person's newer edit over their own queued change (client/sync/queue-head.ts):
 * what the newer edit changed wins, everything else of the queued change stays.
 */
import { describe, expect, it } from 'vitest';
import { applyEdits } from '../../client/sync/queue-head.ts';
import { revisionNumber } from '../../shared/revision.ts';

describe('applyEdits', () => {
  const base = { id: 'r1', rev: '4-tab.aaaaaa', patient: { lastName: 'Quintavalle' }, vitals: [{ id: 'v1', pulse: 80 }], _deleted: false };
  const queued = { ...base, rev: '5-tab.bbbbbb', patient: { lastName: 'Quintavalle', firstName: 'Phil' }, narrative: 'Found seated.' };

  it('keeps the queued change and applies the newer edit over it', () => {
    const edited = { ...base, rev: '5-tab.cccccc', patient: { lastName: 'Quintavalle', dateOfBirth: '1951-03-09' } };
    const result = applyEdits(base, edited, queued);
    expect(result['patient']).toEqual({ lastName: 'Quintavalle', firstName: 'Phil', dateOfBirth: '1951-03-09' });
    expect(result['narrative']).toBe('Found seated.');
    expect(revisionNumber(String(result['rev']))).toBe(6);
  });

  it('the newer edit wins where both changed a value (a person\'s later keystroke), arrays taken whole', () => {
    const edited = { ...base, rev: '5-tab.dddddd', patient: { lastName: 'Quintavalle', firstName: 'Philomena' }, vitals: [{ id: 'v1', pulse: 88 }] };
    const result = applyEdits(base, edited, queued);
    expect(result['patient']).toEqual({ lastName: 'Quintavalle', firstName: 'Philomena' });
    expect(result['vitals']).toEqual([{ id: 'v1', pulse: 88 }]);
  });

  it('a value the newer edit removed is removed; conflict histories of both are kept once', () => {
    const entry = { id: 'c1', path: 'patient.sex' };
    const edited = { ...base, rev: '5-tab.eeeeee', patient: {}, conflicts: [entry] };
    const result = applyEdits(base, edited, { ...queued, conflicts: [entry, { id: 'c2', path: 'narrative' }] });
    expect(result['patient']).toEqual({ firstName: 'Phil' });
    expect(result['conflicts']).toEqual([entry, { id: 'c2', path: 'narrative' }]);
  });
});
