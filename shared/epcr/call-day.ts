/**
 * The day of a report's call, as the crew recorded it (`YYYY-MM-DD` in the report's own offset):
 * the first of the call's times in the order they happen, else the first vital set or medication.
 * Undefined for a report without any of them; each caller says what "today" is then (the tablet
 * its own clock, the server's finalize check the latest calendar day anywhere), so this stays pure.
 * One recipe for the tablet's date-of-birth check, the crew's history list and the server's
 * finalize check, so they judge one report by the same day.
 */
import type { Epcr } from '../schemas/index.ts';

export function callDay(epcr: Epcr): string | undefined {
  const t = epcr.times ?? {};
  const candidates = [
    t.psapCall, t.unitNotified, t.unitEnRoute, t.unitOnScene, t.atPatient, t.backInService,
    epcr.vitals?.[0]?.takenAt, epcr.medications?.[0]?.givenAt,
  ];
  const first = candidates.find((v): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v));
  return first?.slice(0, 10);
}
