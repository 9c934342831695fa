/**
 * The device's wall clock with its UTC offset (`2026-11-22T14:02:10-05:00`): how a person reads
 * the time, and the only form a time is stored in (NEMSIS and the server refuse a `Z` suffix).
 * Here, not in client/ui, because the sync library stamps `lastEdit.at` with it and must not
 * import the UI; client/ui/time.ts re-exports both.
 */

const pad = (n: number) => String(Math.abs(Math.trunc(n))).padStart(2, '0');

/** `±hh:mm` of the device's zone at `date`. */
export function localOffset(date = new Date()): string {
  const minutes = -date.getTimezoneOffset();
  return `${minutes < 0 ? '-' : '+'}${pad(minutes / 60)}:${pad(minutes % 60)}`;
}

/** `date` in the device's zone, with seconds and offset; never `Z`. */
export function offsetDateTime(date = new Date()): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${localOffset(date)}`;
}
