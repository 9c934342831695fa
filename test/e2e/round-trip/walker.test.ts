/**
 * The round-trip walker's own rules, without a browser: paths, schema lookups, the values it
 * types and the values it expects a form to refuse.
 */
import { describe, expect, it } from 'vitest';
import { kindOf, parsePath, refusedValue, schemaAt, validValue, valueAt, type FoundInput } from './support.ts';

const input = (over: Partial<FoundInput>): FoundInput => ({
  tag: 'input', type: 'text', label: 'Field', integer: false, required: false, options: [], current: '', disabled: false, multiline: false,
  inputMode: '', selector: '#x', collection: 'epcrs', kind: 'text', ...over,
});

describe('round-trip walker', () => {
  it('reads a path with list items by id, as the server names it', () => {
    expect(parsePath('vitals[v1].systolic')).toEqual(['vitals', { id: 'v1' }, 'systolic']);
    const doc = { vitals: [{ id: 'v0', systolic: 1 }, { id: 'v1', systolic: 120 }], patient: { address: { zip: '19104' } } };
    expect(valueAt(doc, 'vitals[v1].systolic')).toBe(120);
    expect(valueAt(doc, 'patient.address.zip')).toBe('19104');
    expect(valueAt(doc, 'vitals[v9].systolic')).toBeUndefined();
  });

  it('finds the schema of a field, items included, and calls a multiline list "lines"', () => {
    expect(schemaAt('epcrs', 'vitals[v1].systolic')?.type).toBe('integer');
    expect(schemaAt('epcrs', 'history.allergies')?.type).toBe('array');
    expect(kindOf(input({ path: 'history.allergies', multiline: true }))).toBe('lines');
    expect(kindOf(input({ path: 'narrative.text', multiline: true }))).toBe('text');
  });

  it('types values the declaration allows: in range, within length, on pattern, two lines for a list', () => {
    const base = new Date('2026-12-01T15:00:00Z');
    for (let n = 0; n < 30; n++) {
      const gcs = validValue(input({ path: 'vitals[v1].gcsEye', kind: 'number', min: 1, max: 4, integer: true }), n, base);
      expect(gcs.expected).toBeGreaterThanOrEqual(1);
      expect(gcs.expected).toBeLessThanOrEqual(4);
      expect(Number.isInteger(gcs.expected)).toBe(true);
    }
    expect(validValue(input({ path: 'patient.address.zip', pattern: '^[0-9]{5}(-[0-9]{4})?$', maxLength: 10 }), 0, base).typed).toMatch(/^[0-9]{5}/);
    expect(validValue(input({ path: 'response.callSign', maxLength: 5 }), 3, base).typed.length).toBeLessThanOrEqual(5);
    expect(validValue(input({ path: 'history.allergies', multiline: true }), 0, base).expected).toHaveLength(2);
    const time = validValue(input({ path: 'times.psapCall', kind: 'time', type: 'datetime-local', label: 'Call received (UTC-05:00)' }), 2, base);
    expect(time).toMatchObject({ typed: '2026-12-01T10:02:00', expected: '2026-12-01T10:02:00-05:00' });
    expect(validValue(input({ path: 'patient.sex', kind: 'select', tag: 'select', options: ['', 'a', 'b'], current: 'a' }), 0, base).typed).toBe('b');
  });

  it('derives one value the form must refuse from the declaration and the schema', () => {
    expect(refusedValue(input({ path: 'vitals[v1].systolic', kind: 'number', max: 400 }), 1)?.typed).toBe('401');
    expect(refusedValue(input({ path: 'vitals[v1].systolic', kind: 'number', max: 400 }), 0)?.typed).toMatch(/O$/);
    expect(refusedValue(input({ path: 'patient.address.zip', pattern: '^[0-9]{5}$' }), 0)?.typed).not.toMatch(/^[0-9]{5}$/);
    expect(refusedValue(input({ path: 'narrative.text', maxLength: 20 }), 0)?.typed).toHaveLength(21);
    // No length declared on the input: the schema's limit (200 per list entry) still applies.
    const line = refusedValue(input({ path: 'history.allergies', multiline: true }), 0)!;
    expect(Math.max(...line.typed.split('\n').map((l) => l.length))).toBe(201);
    expect(refusedValue(input({ path: 'patient.sex', kind: 'select', tag: 'select' }), 0)).toBeUndefined();
    // A time field: past the latest time it declares (epoch ms), a time two days ahead.
    const latest = Date.now() + 5 * 60_000;
    const future = refusedValue(input({ path: 'vitals[v1].takenAt', kind: 'time', type: 'datetime-local', max: latest }), 0)!;
    expect(future.typed).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(Date.parse(`${future.typed}Z`)).toBeGreaterThan(latest + 86_400_000 - 14 * 3600_000);
    expect(refusedValue(input({ path: 'times.psapCall', kind: 'time', type: 'datetime-local' }), 0)).toBeUndefined();
  });
});
