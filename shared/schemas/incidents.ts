import { addedOptionalFields, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, dateTimeProperty, geoPointProperty, refId, shortText } from './common.ts';

/** CAD status stamps kept as a timeline; the keys are the ePCR's `times` keys (NEMSIS eTimes). */
export const incidentTimelineProperty = {
  type: 'object',
  additionalProperties: false,
  properties: {
    psapCall: dateTimeProperty,
    dispatchNotified: dateTimeProperty,
    unitNotified: dateTimeProperty,
    dispatchAcknowledged: dateTimeProperty,
    unitEnRoute: dateTimeProperty,
    unitOnScene: dateTimeProperty,
    atPatient: dateTimeProperty,
    unitLeftScene: dateTimeProperty,
    atDestination: dateTimeProperty,
    transferOfCare: dateTimeProperty,
    backInService: dateTimeProperty,
    unitCanceled: dateTimeProperty,
  },
} as const;

export const incidentSchema = {
  title: 'incidents',
  description: 'A CAD incident (call for service) and its timeline.',
  version: 1,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'incidentNumber', 'status'],
  properties: {
    ...baseProperties,
    incidentNumber: { type: 'string', minLength: 1, maxLength: 50 },
    cadRecordId: shortText,
    type: shortText,
    complaint: shortText,
    priority: { type: 'string', maxLength: 20 },
    address: addressProperty,
    location: geoPointProperty,
    assignedUnitId: refId,
    status: { type: 'string', enum: ['new', 'dispatched', 'active', 'transporting', 'closed', 'cancelled'] },
    timeline: incidentTimelineProperty,
    transportCompleted: { type: 'boolean' },
    /** When dispatch closed or cancelled the call (docs/data-model.md, incident lifecycle). */
    closedAt: dateTimeProperty,
    /** Why dispatch closed or cancelled it, in the dispatcher's words (required by the console). */
    closeReason: shortText,
    /** Who closed or cancelled it, as the console names the signed-in person. */
    closedBy: shortText,
    notes: { type: 'string', maxLength: 5000 },
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts); closedAt, closeReason, closedBy (the incident lifecycle). Only optional fields were added.
 */
export const incidentMigrationStrategies = {
  1: addedOptionalFields,
} as const satisfies MigrationStrategies;
