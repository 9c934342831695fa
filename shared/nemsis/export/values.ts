/**
 * Turning ePCR field values into NEMSIS lexical values.
 *
 * Policy: codes and typed values the ePCR already stores in NEMSIS form (code strings, ICD-10,
 * RxNorm, SNOMED, ZIP) are written unchanged; if one is wrong, XSD validation names the element,
 * which is more useful than a silent drop. Only where the ePCR keeps a different representation
 * (postal state vs ANSI code, patient count vs a code, free-form phone) does the export convert,
 * and a value it cannot convert counts as "no value" (Not Recorded if required, else omitted).
 * Every function returns undefined for "no value".
 */
import { codeOf } from '../codes.ts';
import { ansiStateCode } from './ansi-state-codes.ts';

/** Trimmed text; blank strings count as no value, since `<x></x>` is never valid NEMSIS. */
export function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function texts(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => text(value) ?? []);
}

/**
 * NEMSIS DateTimeType needs seconds and an explicit ±hh:mm offset. The ePCR already guarantees the
 * offset (and allows omitting seconds), so the offset is kept as written and only ":00" is added
 * when seconds are missing. Anything else (a `Z` suffix, no offset) is written unchanged so that
 * validation rejects it rather than the export guessing a time zone.
 */
export function dateTime(value: string | undefined): string | undefined {
  const trimmed = text(value);
  if (!trimmed) return undefined;
  const withoutSeconds = /^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2})([+-][0-9]{2}:[0-9]{2})$/.exec(trimmed);
  return withoutSeconds ? `${withoutSeconds[1]}:00${withoutSeconds[2]}` : trimmed;
}

export function integer(value: number | undefined): string | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : String(value);
}

/** A decimal with at most `fractionDigits` places, never in exponent notation (xs:decimal has none). */
export function decimal(value: number | undefined, fractionDigits: number): string | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const fixed = value.toFixed(fractionDigits);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return trimmed === '-0' ? '0' : trimmed;
}

/** NEMSIS GPSLocation: "lat,long" in decimal degrees with at most 6 decimals. */
export function gpsLocation(point: { lat: number; lng: number } | undefined): string | undefined {
  if (!point) return undefined;
  const lat = decimal(point.lat, 6);
  const lng = decimal(point.lng, 6);
  return lat && lng ? `${lat},${lng}` : undefined;
}

export function stateCode(value: string | undefined): string | undefined {
  const trimmed = text(value);
  return trimmed ? ansiStateCode(trimmed) : undefined;
}

/** ANSI county code (5 digits). A county name cannot be looked up here, so it counts as no value. */
export function countyCode(value: string | undefined): string | undefined {
  const trimmed = text(value);
  return trimmed && /^[0-9]{5}$/.test(trimmed) ? trimmed : undefined;
}

/** NEMSIS cities are GNIS feature IDs (positive integers); a city name counts as no value. */
export function cityGnisCode(value: string | undefined): string | undefined {
  const trimmed = text(value);
  return trimmed && /^[1-9][0-9]*$/.test(trimmed) ? trimmed : undefined;
}

/**
 * NEMSIS PhoneNumber: "555-555-5555" (NANP) or "+" followed by 7-15 digits. Free-form input is
 * reduced to digits and re-formatted; anything that does not fit is no value.
 */
export function phoneNumber(value: string | undefined): string | undefined {
  const trimmed = text(value);
  if (!trimmed) return undefined;
  const digits = trimmed.replace(/[^0-9]/g, '');
  if (trimmed.startsWith('+')) return digits.length >= 7 && digits.length <= 15 ? `+${digits}` : undefined;
  const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  if (!/^[2-9][0-9]{2}[2-9][0-9]{6}$/.test(national)) return undefined;
  return `${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`;
}

const PATIENTS_NONE = codeOf('eScene.06', 'None');
const PATIENTS_SINGLE = codeOf('eScene.06', 'Single');
const PATIENTS_MULTIPLE = codeOf('eScene.06', 'Multiple');

/** eScene.06 is a code (None / Single / Multiple), not a count. */
export function patientsAtSceneCode(count: number | undefined): string | undefined {
  if (count === undefined || !Number.isFinite(count) || count < 0) return undefined;
  if (count === 0) return PATIENTS_NONE;
  return count === 1 ? PATIENTS_SINGLE : PATIENTS_MULTIPLE;
}
