import { describe, expect, it } from 'vitest';
import { dateOfBirthProblem } from '../../client/apps/crew/sections/age.ts';
import { callDay } from '../../shared/epcr/call-day.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { validateEpcrForFinalize } from '../../shared/domain/epcr-validation.ts';

describe('the call\'s day: one recipe for the tablet and the server', () => {
  it('is the first of the call\'s times as the crew recorded it, else the first vital set', () => {
    expect(callDay({ times: { psapCall: '2024-10-07T23:50:00-04:00', unitNotified: '2024-10-08T00:01:00-04:00' } } as Epcr)).toBe('2024-10-07');
    expect(callDay({ times: { unitEnRoute: '2024-10-07T20:00:00-04:00' } } as Epcr)).toBe('2024-10-07');
    expect(callDay({ vitals: [{ id: 'v1', takenAt: '2024-10-06T20:00:00-04:00' }] } as Epcr)).toBe('2024-10-06');
    expect(callDay({} as Epcr)).toBeUndefined();
  });

  it('makes the tablet and the server refuse the same birth after the call when only the en-route time is recorded', () => {
    // A report whose crew recorded en route on 2024-10-07 but no PSAP/notified time; the server runs a month later.
    const epcr = { times: { unitEnRoute: '2024-10-07T20:00:00-04:00' }, patient: { dateOfBirth: '2024-10-09' } } as unknown as Epcr;
    const tablet = dateOfBirthProblem('2024-10-09', callDay(epcr), new Date('2024-11-07T12:00:00Z'));
    const server = validateEpcrForFinalize(epcr, { now: Date.parse('2024-11-07T12:00:00Z') }).filter((p) => p.path === 'patient.dateOfBirth');
    expect(tablet).toContain('after the day of the call (2024-10-07)');
    expect(server.map((p) => p.message)).toEqual(['Date of birth 2024-10-09 is after the day of the call (2024-10-07): check the year']);
  });
});
