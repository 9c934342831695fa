import { describe, expect, it } from 'vitest';
import { isRevision, mergedRevision, nextRevision, revisionNumber } from '../../shared/revision.ts';
import { revProperty } from '../../shared/schemas/common.ts';

const schemaPattern = new RegExp(revProperty.pattern);

describe('revisionNumber', () => {
  it('reads the counter in front of the tag', () => {
    expect(revisionNumber('1-abc')).toBe(1);
    expect(revisionNumber('42-dev7:x.Y_z')).toBe(42);
  });

  it('refuses strings that are not revisions', () => {
    for (const bad of ['', 'abc', '-abc', '3-', '3-a b', 'x-1', `1-${'a'.repeat(64)}`]) {
      expect(() => revisionNumber(bad), bad).toThrow(/revision/);
    }
  });
});

describe('nextRevision', () => {
  it('starts a new document at 1 and counts up from the previous revision', () => {
    expect(nextRevision(undefined, 'tab1.k3')).toBe('1-tab1.k3');
    expect(nextRevision('1-tab1.k3', 'tab2.q9')).toBe('2-tab2.q9');
    expect(nextRevision('99-x', 'y')).toBe('100-y');
  });

  it('refuses a tag that would make the revision invalid', () => {
    expect(() => nextRevision('1-a', '')).toThrow();
    expect(() => nextRevision('1-a', 'has space')).toThrow();
    expect(() => nextRevision('1-a', 'a'.repeat(63))).toThrow(/longer/);
    expect(() => nextRevision('broken', 'ok')).toThrow(/malformed/);
  });

  it('produces revisions the schema accepts', () => {
    const rev = nextRevision('7-a', 'device_1:Xy.9');
    expect(isRevision(rev)).toBe(true);
    expect(rev).toMatch(schemaPattern);
  });
});

describe('mergedRevision', () => {
  it('is one above the larger input counter', () => {
    expect(revisionNumber(mergedRevision('3-a', '7-b'))).toBe(8);
    expect(revisionNumber(mergedRevision('9-a', '2-b'))).toBe(10);
  });

  it('is the same for the same inputs, so every party merging them agrees', () => {
    expect(mergedRevision('3-tabA.x1', '4-tabB.y2')).toBe(mergedRevision('3-tabA.x1', '4-tabB.y2'));
  });

  it('differs when any input differs, including the roles of master and incoming', () => {
    const revs = new Set([
      mergedRevision('3-a', '4-b'),
      mergedRevision('4-b', '3-a'),
      mergedRevision('3-a', '4-c'),
      mergedRevision('3-z', '4-b'),
    ]);
    expect(revs.size).toBe(4);
  });

  it('stays within the schema for the longest inputs', () => {
    const long = `${'9'.repeat(15)}-${'t'.repeat(48)}`;
    const rev = mergedRevision(long, '1-a');
    expect(rev.length).toBeLessThanOrEqual(revProperty.maxLength);
    expect(rev).toMatch(schemaPattern);
    expect(rev).toMatch(/^1000000000000000-m[0-9a-z]+$/);
  });
});
