import type { MigrationStrategies } from './migrations.ts';
import { UNIT_STATUSES } from './units.ts';
import { baseProperties, dateTimeProperty, refId } from './common.ts';

/**
 * One press of a status button on a unit's MDT, kept as a fact of its own: append-only, never
 * edited, never coalesced with the next one. The unit document only holds the latest status; these keep every step, each with the time it was recorded on the
 * device, so a unit that worked a whole call out of coverage still delivers en route, on scene,
 * transporting, at destination and available, in that order, each with its own time.
 */
export const unitStatusEventSchema = {
  title: 'unit_status_events',
  description: 'One unit status change (a button press on the MDT) with the time the device recorded it.',
  version: 0,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'unitId', 'status', 'recordedAt'],
  properties: {
    ...baseProperties,
    /** The unit's call sign, as incidents (`assignedUnitId`) and crew tokens name units. */
    unitId: refId,
    status: { type: 'string', enum: UNIT_STATUSES },
    /** Device clock when the button was pressed: the time the timeline, the ePCR and CAD get. Never used for ordering. */
    recordedAt: dateTimeProperty,
    /** The call the unit was working when the status was recorded (absent: none, or not known on the device). */
    incidentId: refId,
  },
} as const;

/** Version history (migrations.ts): 0: the first release; no migrations yet. */
export const unitStatusEventMigrationStrategies = {} as const satisfies MigrationStrategies;
