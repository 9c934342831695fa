/**
 * The conflicts panel offers the versions people wrote. A narrative edited on two tablets is kept
 * as both texts between markers; when a later merge (another tablet, the server, a queue replay)
 * records that marked text as one side of a conflict, the panel must not offer it as a third
 * "version" (seen in Chromium: three values for a two-tablet edit).
 */
import { describe, expect, it } from 'vitest';
import { candidatesOf } from '../../client/apps/crew/conflict-candidates.ts';
import { BOTH_VERSIONS_END, BOTH_VERSIONS_SPLIT, BOTH_VERSIONS_START, type ConflictEntry } from '../../shared/merge/index.ts';

const A = 'Found seated in the kitchen. Crushing chest pain for 40 minutes.';
const B = 'Found seated in the kitchen. Pale and diaphoretic, 324 mg aspirin given.';
const MARKED = `${BOTH_VERSIONS_START}written by crew@tablet-a\n${A}\n${BOTH_VERSIONS_SPLIT}written by crew@tablet-b\n${B}\n${BOTH_VERSIONS_END}`;
const entry = (kept: string, lost: string, extra: Partial<ConflictEntry> = {}): ConflictEntry => ({
  path: 'narrative.text', keptRev: '3-a', lostRev: '3-b', keptValueJson: JSON.stringify(kept), lostValueJson: JSON.stringify(lost), ...extra,
});

describe('conflicts panel: the values offered', () => {
  it('offers the two written versions, not the marked text a later merge recorded as a side', () => {
    const values = candidatesOf([
      entry(A, B, { bothKept: true, keptBy: 'crew@tablet-a', lostBy: 'crew@tablet-b' }),
      entry(MARKED, A, { keptRev: '4-m', lostRev: '3-a' }),
    ]).map((c) => c.value);
    expect(values.sort()).toEqual([A, B].sort());
  });

  it('still offers a marked text when hiding it would leave fewer than two values to choose from', () => {
    const values = candidatesOf([entry(MARKED, A)]).map((c) => c.value);
    expect(values).toEqual([MARKED, A]);
  });

  it('keeps who wrote each value and when, first seen', () => {
    const [first] = candidatesOf([entry(A, B, { keptBy: 'crew@tablet-a', keptAt: '2026-12-06T13:45:02-05:00' })]);
    expect(first).toMatchObject({ value: A, by: 'crew@tablet-a', at: '2026-12-06T13:45:02-05:00' });
  });
});
