/**
 * The range of times a crew can document: a time field refuses a time in the future and one
 * absurdly long before the call, the typos a paramedic makes on a tablet (a wrong day, month or
 * year), while no real time of a call is refused.
 *
 * - Future: every time in a report is of something that has happened, so a time later than now is
 *   a wrong date. A few minutes of slack (FUTURE_SLACK_MS) cover clocks that differ between the
 *   devices of one call (the MDT's stamp, this tablet's "Now"). The server checks the same at
 *   finalize against its own clock, with the national Schematron's hour (nemSch_e056).
 * - Past: measured from the call (CAD's PSAP call or unit-notified time; the report's own when it
 *   has no call; the moment of typing when it has neither), so a report finished days later is not
 *   refused. Times of the call itself (eTimes, vitals, medications, procedures) may lie a few hours
 *   before it on an interfacility transfer (care at the sending facility) and a call rarely runs a
 *   day: 7 days cannot refuse a real one and still catches a wrong month or year. The patient's
 *   history (symptom onset, last known well, last oral intake) can lie weeks before the call: a
 *   year, which still catches a wrong year.
 */

export const FUTURE_SLACK_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
export const CALL_TIME_DAYS = 7;
export const HISTORY_TIME_DAYS = 366;

/** Fields whose time is the patient's history, not the call's: a longer reach into the past. */
const HISTORY_PATHS = new Set(['situation.onset', 'situation.lastKnownWell', 'history.lastOralIntake']);

export interface TimeRange {
  /** Epoch ms: the earliest time the field takes. */
  earliest: number;
  /** In words, for the message: "7 days before the call (Dec 6, 14:02)". */
  earliestText: string;
}

/** The range for the field at `pathName`, from the call's time (an offset date-time) if known. */
export function timeRangeFor(pathName: string, callTime: string | undefined, now = Date.now()): TimeRange {
  const parsed = callTime ? Date.parse(callTime) : Number.NaN;
  const anchor = Number.isNaN(parsed) ? now : parsed;
  const days = HISTORY_PATHS.has(pathName) ? HISTORY_TIME_DAYS : CALL_TIME_DAYS;
  const from = Number.isNaN(parsed) ? 'now' : `the call (${shortDate(anchor)})`;
  return { earliest: anchor - days * DAY_MS, earliestText: `${days === HISTORY_TIME_DAYS ? 'a year' : `${days} days`} before ${from}` };
}

/** The latest time a field takes now: the device's clock plus the slack. */
export function latestTime(now = Date.now()): number {
  return now + FUTURE_SLACK_MS;
}

/** Why `value` (an offset date-time) is out of range, in a paramedic's words; undefined when it is in. */
export function timeRangeProblem(value: string, range: TimeRange | undefined, now = Date.now()): string | undefined {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  if (at > latestTime(now)) return `This time is in the future (it is now ${shortDate(now)}). Check the date.`;
  if (range && at < range.earliest) return `This time is more than ${range.earliestText}. Check the date.`;
  return undefined;
}

function shortDate(ms: number): string {
  return new Date(ms).toLocaleString('en-US', { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}
