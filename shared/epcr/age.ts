/**
 * A patient's age from the date of birth, in the units NEMSIS asks for (ePatient.15/.16): years
 * from one year on, months under a year, days under a month. Counted on the day of the call
 * (the age a report states is the age at the incident), or today for a report without times.
 * The crew form shows and stores it (client/apps/crew/sections/patient.tsx); the NEMSIS export
 * derives it the same way when a report has a date of birth and no age.
 */
import { codeOf } from '../nemsis/codes.ts';

/** The ePatient.16 codes the age is given in (by their XSD labels: one source for the codes). */
const AGE_UNIT = { years: codeOf('ePatient.16', 'Years'), months: codeOf('ePatient.16', 'Months'), days: codeOf('ePatient.16', 'Days') } as const;

export interface Age { age: number; units: string; words: string }

/** `YYYY-MM-DD` of a stored time (the date as the crew recorded it), or of `now` on this device. */
export function dayOf(value: string | undefined, now: Date): [number, number, number] {
  const m = value ? /^(\d{4})-(\d{2})-(\d{2})/.exec(value) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [now.getFullYear(), now.getMonth() + 1, now.getDate()];
}

export function ageFromBirth(dateOfBirth: string | undefined, on: string | undefined, now = new Date()): Age | undefined {
  const m = dateOfBirth ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth) : null;
  if (!m) return undefined;
  const [by, bm, bd] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const born = new Date(Date.UTC(by, bm - 1, bd));
  if (born.getUTCMonth() !== bm - 1 || born.getUTCDate() !== bd) return undefined; // 1990-02-31
  const [y, mo, d] = dayOf(on, now);
  let months = (y - by) * 12 + (mo - bm);
  if (d < bd) months -= 1;
  if (months < 0) return undefined; // born after the call: a typo, no age to offer
  if (months >= 12) {
    const years = Math.floor(months / 12);
    return years > 150 ? undefined : { age: years, units: AGE_UNIT.years, words: `${years} year${years === 1 ? '' : 's'}` };
  }
  if (months >= 1) return { age: months, units: AGE_UNIT.months, words: `${months} month${months === 1 ? '' : 's'}` };
  const days = Math.round((Date.UTC(y, mo - 1, d) - born.getTime()) / 86_400_000);
  return { age: days, units: AGE_UNIT.days, words: `${days} day${days === 1 ? '' : 's'}` };
}
