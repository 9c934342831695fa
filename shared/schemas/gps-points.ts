import type { MigrationStrategies } from './migrations.ts';
import { baseProperties, dateTimeProperty, refId } from './common.ts';

/** Immutable, append-only position fixes; merge never has to reconcile two versions of one. */
export const gpsPointSchema = {
  title: 'gps_points',
  description: 'One position fix from a vehicle MDT or a technician phone.',
  version: 0,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'sourceType', 'sourceId', 'lat', 'lng', 'recordedAt'],
  properties: {
    ...baseProperties,
    sourceType: { type: 'string', enum: ['unit', 'technician'] },
    sourceId: refId,
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lng: { type: 'number', minimum: -180, maximum: 180 },
    accuracyM: { type: 'number', minimum: 0, maximum: 100000 },
    speedMps: { type: 'number', minimum: 0, maximum: 400 },
    heading: { type: 'number', minimum: 0, maximum: 360 },
    /** Device clock: informational only, never used for ordering. */
    recordedAt: dateTimeProperty,
  },
} as const;

/** Version history (migrations.ts): 0: the first release; no migrations yet. */
export const gpsPointMigrationStrategies = {} as const satisfies MigrationStrategies;
