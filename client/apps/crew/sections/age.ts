/**
 * A patient's age from the date of birth, in the units NEMSIS asks for (ePatient.15/.16): years
 * from one year on, months under a year, days under a month. Counted on the day of the call
 * (the age a report states is the age at the incident), or today for a report without times.
 */
import { dayOf } from '../../../../shared/epcr/age.ts';

/** The age a date of birth gives on the day of the call (shared with the NEMSIS export, which derives ePatient.15/.16 the same way). */
export { ageFromBirth, type Age } from '../../../../shared/epcr/age.ts';

/** The day the report's call happened (`YYYY-MM-DD`), shared with the server's finalize check; undefined means today. */
export { callDay } from '../../../../shared/epcr/call-day.ts';

/**
 * Why a date of birth (`YYYY-MM-DD`) is refused: a day that does not exist (1990-02-31), a birth
 * after the day of the call (or after today, for a report without times: a newborn delivered on
 * the call is born that day, never later), or more than 150 years before it (the oldest age the
 * form takes). Undefined when it is a possible date of birth.
 */
export function dateOfBirthProblem(dateOfBirth: string, on: string | undefined, now = new Date()): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth);
  if (!m) return undefined; // the pattern's message says how to write it
  const [by, bm, bd] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const born = new Date(Date.UTC(by, bm - 1, bd));
  if (born.getUTCFullYear() !== by || born.getUTCMonth() !== bm - 1 || born.getUTCDate() !== bd) return `There is no ${dateOfBirth}. Check the day and month.`;
  const [y, mo, d] = dayOf(on, now);
  const [ty, tmo, td] = dayOf(undefined, now);
  const callDate = Date.UTC(y, mo - 1, d);
  const today = Date.UTC(ty, tmo - 1, td);
  if (born.getTime() > today) return 'This date of birth is in the future. Check the year.';
  if (born.getTime() > callDate) return `This date of birth is after the day of the call (${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}). Check the year.`;
  if (y - by > 150) return 'This date of birth is more than 150 years ago. Check the year.';
  return undefined;
}
