/**
 * Times on documents always carry an explicit offset (`2026-11-22T14:02:10-05:00`): NEMSIS and
 * the server refuse a `Z` suffix. These helpers make and read such strings.
 */

import { localOffset, offsetDateTime } from '../../shared/domain/time.ts';

/** Made in shared/domain (the server's hooks write times the same way). */
export { localOffset, offsetDateTime };

const PATTERN = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.\d{1,6})?)?([+-]\d{2}:\d{2})$/;

export function isOffsetDateTime(value: string): boolean {
  return PATTERN.test(value);
}

/**
 * The wall-clock part for `<input type="datetime-local" step="1">` (`YYYY-MM-DDTHH:MM:SS`): with
 * its seconds, so the field shows the time the record holds (`09:43:21`, not `09:43`).
 */
export function toLocalInput(value: string | undefined): string {
  const m = value ? PATTERN.exec(value) : null;
  return m ? `${m[1]}T${m[2]}:${m[3] ?? '00'}` : '';
}

/** The offset part of a stored time, or the device's. */
export function offsetOf(value: string | undefined): string {
  const m = value ? PATTERN.exec(value) : null;
  return m ? m[4]! : localOffset();
}

/** A `datetime-local` value plus an offset back to a stored time. */
export function fromLocalInput(value: string, offset: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) || !/^[+-]\d{2}:\d{2}$/.test(offset)) return undefined;
  return `${value.length === 16 ? value + ':00' : value}${offset}`;
}

export function epochOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** `14:02` (the time as recorded, in its own offset). */
export function clockOf(value: string | undefined): string {
  const m = value ? PATTERN.exec(value) : null;
  return m ? m[2]! : '';
}

export function ago(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
