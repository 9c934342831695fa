import { describe, expect, it } from 'vitest';
import { localOffset, offsetDateTime, offsetMinutesOf } from '../../../shared/domain/time.ts';

describe('offset date-times: one way to write a time, on the device and on the server', () => {
  const instant = new Date('2026-11-22T19:02:10.500Z');

  it('writes the wall clock at a given offset, never Z', () => {
    expect(offsetDateTime(instant, -300)).toBe('2026-11-22T14:02:10-05:00');
    expect(offsetDateTime(instant, 330)).toBe('2026-11-23T00:32:10+05:30');
    expect(offsetDateTime(instant, 0)).toBe('2026-11-22T19:02:10+00:00');
    expect(offsetDateTime(instant, -570)).toBe('2026-11-22T09:32:10-09:30');
  });

  it('by default writes this machine\'s zone, as the device\'s clock reads', () => {
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${instant.getFullYear()}-${pad(instant.getMonth() + 1)}-${pad(instant.getDate())}T${pad(instant.getHours())}:${pad(instant.getMinutes())}:${pad(instant.getSeconds())}`;
    expect(offsetDateTime(instant)).toBe(local + localOffset(instant));
  });

  it('reads the offset back', () => {
    expect(offsetMinutesOf('2026-11-22T14:02:10-05:00')).toBe(-300);
    expect(offsetMinutesOf(offsetDateTime(instant, 330))).toBe(330);
    expect(offsetMinutesOf('2026-11-22T14:02:10Z')).toBeUndefined();
  });
});
