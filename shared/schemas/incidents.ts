import { addedOptionalFields, encryptedMoreOnDevice, type MigrationStrategies } from './migrations.ts';
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
    unitBackAtHome: dateTimeProperty, // eTimes.15 (status "at home")
    unitArrivedStaging: dateTimeProperty, // eTimes.17 (status "staged")
  },
} as const;

/**
 * How far along a call is, in order: a unit may still be working a call in one of these, and a
 * crew or a status only ever moves a call forward along them. Closed and cancelled are dispatch's
 * and come after any of them (docs/data-model.md, "Incident lifecycle").
 */
export const INCIDENT_PROGRESS = ['new', 'dispatched', 'active', 'transporting'] as const;

/** The progress statuses a crew (or its unit's status) may move its call to; the earlier ones are dispatch's. */
export const CREW_INCIDENT_STATUSES = ['active', 'transporting'] as const satisfies readonly (typeof INCIDENT_PROGRESS)[number][];

/** The statuses before `status` in INCIDENT_PROGRESS (none for a status not in it). */
export function progressBefore(status: string): readonly (typeof INCIDENT_PROGRESS)[number][] {
  const at = (INCIDENT_PROGRESS as readonly string[]).indexOf(status);
  return at < 0 ? [] : INCIDENT_PROGRESS.slice(0, at);
}

export const incidentSchema = {
  title: 'incidents',
  description: 'A CAD incident (call for service) and its timeline.',
  version: 3,
  primaryKey: 'id',
  /**
   * Stored AES-encrypted on devices (client/sync/database.ts), as the ePCR's PHI: where the
   * patient is, what the caller said, what dispatch and the crew wrote, and the copies of merged-
   * away values. Apps select incidents by status, assignedUnitId and incidentNumber only.
   */
  encrypted: ['complaint', 'address', 'location', 'notes', 'closeReason', 'conflicts'],
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
 * 2: complaint, address, location, notes, closeReason and conflicts stored encrypted on devices (issue 17). The document is unchanged.
 * 3: the timeline keeps the staging and at-home stamps (unitArrivedStaging, unitBackAtHome; issue 16: every CAD status
 *    mapped). Only optional fields were added.
 */
export const incidentMigrationStrategies = {
  1: addedOptionalFields,
  2: encryptedMoreOnDevice,
  3: addedOptionalFields,
} as const satisfies MigrationStrategies;
