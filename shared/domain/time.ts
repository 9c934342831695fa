/**
 * Times as both sides write them: the wall clock with its UTC offset
 * (`2026-11-22T14:02:10-05:00`), how a person reads the time and the only form a time is stored
 * in (NEMSIS and the server refuse a `Z` suffix). The device stamps its edits with the device's
 * zone; the server's hooks write in the zone of the report they act on.
 */

const pad = (n: number) => String(Math.abs(Math.trunc(n))).padStart(2, '0');

/** `±hh:mm` for minutes east of UTC. */
function offsetText(minutes: number): string {
  return `${minutes < 0 ? '-' : '+'}${pad(minutes / 60)}:${pad(minutes % 60)}`;
}

/** `±hh:mm` of this machine's zone at `date`. */
export function localOffset(date = new Date()): string {
  return offsetText(-date.getTimezoneOffset());
}

/**
 * `YYYY-MM-DDThh:mm:ss±hh:mm` of `date` at the given offset (minutes east of UTC; default this
 * machine's zone at that instant). Never `Z`.
 */
export function offsetDateTime(date = new Date(), offsetMinutes = -date.getTimezoneOffset()): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  return `${shifted.toISOString().slice(0, 19)}${offsetText(offsetMinutes)}`;
}

/**
 * Minutes east of UTC of an IANA time zone (`America/New_York`) at `date`, daylight saving
 * included (Intl's own zone data; a fixed offset would be wrong half the year).
 */
export function zoneOffsetMinutes(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wallAsUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wallAsUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
}

/** `date` on the wall clock of an IANA time zone, with that zone's offset at that instant (this machine's zone without one). */
export function zonedDateTime(date: Date, timeZone: string | undefined): string {
  return timeZone ? offsetDateTime(date, zoneOffsetMinutes(date, timeZone)) : offsetDateTime(date);
}

const OFFSET = /([+-])([0-9]{2}):([0-9]{2})$/;

/** Minutes east of UTC written at the end of an offset date-time, or undefined. */
export function offsetMinutesOf(value: string | undefined): number | undefined {
  const match = value ? OFFSET.exec(value) : null;
  if (!match) return undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}
