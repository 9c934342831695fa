import { _, type Ajv, type ErrorObject, type KeywordCxt, type Name } from 'ajv';
import { createRequire } from 'node:module';
import { OFFSET_DATE_TIME_PATTERN } from '../../shared/schemas/common.ts';
import type { JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';

const require = createRequire(import.meta.url);
const { useFunc } = require('ajv/dist/compile/util') as { useFunc: (gen: KeywordCxt['gen'], f: unknown) => Name };

/**
 * Checks of the server's validators beyond what the collection schemas (shared with RxDB on the
 * devices, whose hashes are pinned) can say: a time must be a real one, and text must be storable
 * by both stores.
 */

const OFFSET_DATE_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,6})?)?[+-]([0-9]{2}):([0-9]{2})$/;

/**
 * Whether a date-time of the schemas' shape (`OFFSET_DATE_TIME_PATTERN`) names a real moment, as
 * xs:dateTime (NEMSIS) reads it: month 1–12, a day the month has (leap years counted), hour 0–23,
 * minute and second 0–59, an offset of at most ±14:00. The pattern alone accepted
 * `9999-99-99T99:99:99+99:99` (issue 17). ajv-formats' `date-time` is not used: it requires
 * seconds and accepts `Z`, both unlike the schemas.
 */
export function isRealOffsetDateTime(value: string): boolean {
  const m = OFFSET_DATE_TIME.exec(value);
  if (!m) return false;
  // Read field by field: this runs for every time of every pushed row (each GPS point), so it
  // allocates nothing beyond the match (a mapped array and a Date per call cost ≈ 2 µs a point).
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  if (day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || (m[6] !== undefined && Number(m[6]) > 59)) return false;
  const offsetHours = Number(m[7]);
  const offsetMinutes = Number(m[8]);
  return offsetMinutes <= 59 && offsetHours * 60 + offsetMinutes <= 14 * 60;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The `realDateTime` keyword the server's validators add beside every date-time pattern. */
export function useRealDateTimes(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: 'realDateTime',
    type: 'string',
    schemaType: 'boolean',
    error: { message: 'is not a real date and time (month 1-12, a day the month has, hour 0-23, minute and second 0-59, offset at most +/-14:00)' },
    code(cxt: KeywordCxt) {
      const check = useFunc(cxt.gen, isRealOffsetDateTime);
      cxt.fail(_`!${check}(${cxt.data})`);
    },
  });
}

/** A copy of a wire schema in which every date-time field (by its pattern) is also checked by `realDateTime`. */
export function withRealDateTimes(schema: JsonSchemaObject): JsonSchemaObject {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== 'object' || node === null) return node;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) copy[key] = visit(value);
    if (copy['pattern'] === OFFSET_DATE_TIME_PATTERN) copy['realDateTime'] = true;
    return copy;
  };
  return visit(schema) as JsonSchemaObject;
}

/** Strings PostgreSQL cannot hold in jsonb: U+0000, and UTF-16 surrogates that are not a pair. */
const SUSPECT = /[\u0000\ud800-\udfff]/;
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unstorable(text: string): string | undefined {
  // Nearly every string has neither: one quick test, and the exact one only for the rest.
  if (!SUSPECT.test(text)) return undefined;
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return undefined;
  return found === '\u0000'
    ? 'contains U+0000 (a NUL character), which cannot be stored; remove it'
    : `contains an unpaired UTF-16 surrogate (U+${found.charCodeAt(0).toString(16).toUpperCase()}), which is not text and cannot be stored; remove it`;
}

/**
 * The first string (or key) of a document that either store would refuse or mangle, as an ajv
 * error naming its field. PostgreSQL's jsonb refuses both (issue 19: one such document made every
 * filtered ePCR pull of its agency answer 500); SQLite stored them. Refused at push on both
 * stores, so both accept the same documents.
 */
export function unstorableTextError(doc: unknown): ErrorObject | undefined {
  // The common case, with no path built: only a document that has a suspect string is walked again.
  return hasSuspectText(doc, 0) ? locateUnstorableText(doc) : undefined;
}

/** Whether any string or key may be unstorable (a quick test; `locateUnstorableText` decides). */
function hasSuspectText(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return SUSPECT.test(value);
  if (typeof value !== 'object' || value === null) return false;
  // Validated documents nest a few levels; anything absurd is left to the exact walk.
  if (depth > 64) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (hasSuspectText(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (SUSPECT.test(key) || hasSuspectText((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function locateUnstorableText(doc: unknown): ErrorObject | undefined {
  const stack: [unknown, string][] = [[doc, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = unstorable(value);
      if (problem) return { keyword: 'storableText', instancePath: path, schemaPath: '#', params: {}, message: problem };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}/${i}`]);
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const problem = unstorable(key);
      if (problem) return { keyword: 'storableText', instancePath: path, schemaPath: '#', params: {}, message: `has a field name that ${problem}` };
      stack.push([item, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`]);
    }
  }
  return undefined;
}
