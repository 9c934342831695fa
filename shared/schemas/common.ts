/**
 * Building blocks shared by every collection schema. Each collection's schema is a plain
 * JSON-schema literal (`as const`) so that one object feeds RxDB on devices, ajv on the
 * server and the TypeScript types (through json-schema-to-ts).
 */

/** RFC 4122 version 4 only: NEMSIS rejects other versions in PatientCareReport/@UUID. */
export const UUID_V4_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

/** A date-time with an explicit ±hh:mm offset; NEMSIS rejects a `Z` suffix, so we do too. */
export const OFFSET_DATE_TIME_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?[+-][0-9]{2}:[0-9]{2}$';

export const idProperty = { type: 'string', maxLength: 36, pattern: UUID_V4_PATTERN } as const;
export const tenantIdProperty = { type: 'string', minLength: 1, maxLength: 64 } as const;
/**
 * Client-owned revision "<n>-<tag>": the device sets a new one on every write and the server
 * never rewrites it, so conflict detection compares it instead of server-touched fields.
 */
export const revProperty = { type: 'string', minLength: 3, maxLength: 64, pattern: '^[0-9]+-[0-9A-Za-z_.:]+$' } as const;
export const dateTimeProperty = { type: 'string', maxLength: 40, pattern: OFFSET_DATE_TIME_PATTERN } as const;
export const shortText = { type: 'string', maxLength: 200 } as const;
export const longText = { type: 'string', maxLength: 20000 } as const;
export const refId = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const addressProperty = {
  type: 'object',
  additionalProperties: false,
  properties: {
    street: shortText,
    apartment: shortText,
    city: shortText,
    state: { type: 'string', maxLength: 2 },
    zip: { type: 'string', maxLength: 10, pattern: '^[0-9]{5}(-[0-9]{4})?$' },
    county: shortText,
    crossStreet: shortText,
  },
} as const;

export const geoPointProperty = {
  type: 'object',
  additionalProperties: false,
  required: ['lat', 'lng'],
  properties: {
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lng: { type: 'number', minimum: -180, maximum: 180 },
  },
} as const;

/**
 * Values that lost a same-field conflict. Merges never drop a value: the loser lands here,
 * with the revisions involved and who wrote each value when (from each side's `lastEdit`), so a
 * person can see both, choose or combine them, and mark the conflict resolved (`resolvedAt`):
 * an ordinary edit that syncs, after which no device shows it as open.
 */
export const conflictHistoryProperty = {
  type: 'array',
  maxItems: 500,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'keptRev', 'lostRev'],
    properties: {
      /** Derived from path and both revisions (shared/merge/conflicts.ts), so every device names an entry alike. */
      id: { type: 'string', maxLength: 64 },
      path: { type: 'string', maxLength: 300 },
      keptRev: { type: 'string', maxLength: 64 },
      lostRev: { type: 'string', maxLength: 64 },
      lostValueJson: { type: 'string', maxLength: 20000 },
      keptValueJson: { type: 'string', maxLength: 20000 },
      keptBy: { type: 'string', maxLength: 200 },
      keptAt: { type: 'string', maxLength: 40 },
      lostBy: { type: 'string', maxLength: 200 },
      lostAt: { type: 'string', maxLength: 40 },
      /** Free text: the field now holds both texts, marked, until a person resolves it. */
      bothKept: { type: 'boolean' },
      resolvedAt: { type: 'string', maxLength: 40 },
      resolvedBy: { type: 'string', maxLength: 200 },
    },
  },
} as const;

/**
 * Who made a document's latest edit on a device, and when by that device's clock. Stamped by
 * the device's writer on every write (client/sync/writes.ts); only shown to people (who wrote a
 * conflicting value), never used to order changes.
 */
export const lastEditProperty = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'at'],
  properties: {
    by: { type: 'string', maxLength: 200 },
    device: { type: 'string', maxLength: 200 },
    at: { type: 'string', maxLength: 40 },
  },
} as const;

/** Properties every collection has besides `_deleted`, which RxDB and the wire add. */
export const baseProperties = {
  id: idProperty,
  tenantId: tenantIdProperty,
  rev: revProperty,
} as const;

export const BASE_REQUIRED = ['id', 'tenantId', 'rev'] as const;
