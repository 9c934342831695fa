import { addedOptionalFields, type MigrationStrategies } from './migrations.ts';
import { baseProperties, conflictHistoryProperty, dateTimeProperty, geoPointProperty, refId, shortText } from './common.ts';

export const UNIT_STATUSES = [
  'out_of_service', 'available', 'dispatched', 'acknowledged', 'en_route', 'staged', 'on_scene',
  'transporting', 'at_destination', 'at_home', 'cancelled',
] as const;

/**
 * Statuses in which a unit works no call: going to one ends the unit's part in its current call,
 * and "available" after one of them is not "back in service" (docs/data-model.md, "Incident lifecycle").
 */
export const UNIT_FREE_STATUSES: ReadonlySet<string> = new Set<(typeof UNIT_STATUSES)[number]>(['available', 'at_home', 'out_of_service']);

export const unitSchema = {
  title: 'units',
  description: 'A vehicle (ambulance) with its crew, CAD status and last known position.',
  version: 2,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'callSign', 'status'],
  properties: {
    ...baseProperties,
    callSign: { type: 'string', minLength: 1, maxLength: 30 },
    capability: { type: 'string', maxLength: 20 },
    status: { type: 'string', enum: UNIT_STATUSES },
    statusAt: dateTimeProperty,
    currentIncidentId: refId,
    assignmentAcknowledgedAt: dateTimeProperty,
    lastPosition: geoPointProperty,
    lastPositionAt: dateTimeProperty,
    crewNames: { type: 'array', maxItems: 10, items: shortText },
    /** The dispatcher notes (incident `dispatchNotes` ids) of the current call the crew marked read on its MDT. */
    readNoteIds: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 64 } },
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: readNoteIds (the crew marks dispatcher notes read; issue 20). Only an optional field was added.
 */
export const unitMigrationStrategies = {
  1: addedOptionalFields,
  2: addedOptionalFields,
} as const satisfies MigrationStrategies;
