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

/** The longest dispatcher note, in characters. */
export const DISPATCH_NOTE_MAX = 1000;

export const dispatchNotesProperty = {
  type: 'array',
  maxItems: 200,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'text'],
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 64 },
      text: { type: 'string', minLength: 1, maxLength: DISPATCH_NOTE_MAX },
      /** Who wrote it, as the console names the signed-in person. */
      by: shortText,
      /** The writing console's clock: shown beside it, never used for order (the history's server time is). */
      at: dateTimeProperty,
    },
  },
} as const;

/** The kinds of entry the server records in an incident's history (docs/data-model.md, "Call history"). */
export const INCIDENT_HISTORY_KINDS = ['received', 'assigned', 'status', 'acknowledged', 'unit-status', 'note', 'notes-read', 'edited'] as const;

/**
 * The call's history as the server recorded it: one entry per thing that happened, stamped with
 * the server's clock when the change that said so was committed (`at`), which is what the
 * console's timers count from. Written by the incident-history workflow only (server-owned).
 */
export const incidentHistoryProperty = {
  type: 'array',
  maxItems: 1000,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'at', 'kind'],
    properties: {
      /** Derived from the change that caused it (collection, sequence, kind): a re-run adds nothing. */
      id: { type: 'string', minLength: 1, maxLength: 100 },
      /** Server clock at the commit of the change. */
      at: dateTimeProperty,
      kind: { type: 'string', enum: INCIDENT_HISTORY_KINDS },
      /** The call's status (status), or the unit's (unit-status). */
      status: { type: 'string', maxLength: 30 },
      /** The unit (call sign) the entry is about. */
      unitId: refId,
      /** How an acknowledgement was given: the MDT's acknowledge button, or a status that implies it (en_route, …). */
      via: { type: 'string', maxLength: 30 },
      /** A note's text, a closing reason, or the fields an edit changed. */
      text: { type: 'string', maxLength: 1000 },
      /** The note an entry is about (note, notes-read). */
      noteId: { type: 'string', maxLength: 64 },
      /** The device's own time for what it reported (a status press): shown, never used for order. */
      deviceAt: dateTimeProperty,
      /** Who: the signed-in person or system that wrote the change. */
      by: shortText,
    },
  },
} as const;

export const incidentSchema = {
  title: 'incidents',
  description: 'A CAD incident (call for service) and its timeline.',
  version: 4,
  primaryKey: 'id',
  /**
   * Stored AES-encrypted on devices (client/sync/database.ts), as the ePCR's PHI: where the
   * patient is, what the caller said, what dispatch and the crew wrote, and the copies of merged-
   * away values. Apps select incidents by status, assignedUnitId and incidentNumber only.
   */
  encrypted: ['complaint', 'address', 'location', 'notes', 'closeReason', 'conflicts', 'dispatchNotes', 'history'],
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
    /** The capability the call needs of a unit (e.g. ALS, BLS: units' `capability`); dispatch's unit recommendation matches it. */
    requiredCapability: { type: 'string', maxLength: 20 },
    /** Notes dispatch sends the crew, one item each (merged by id, so two consoles adding notes at once both keep theirs). */
    dispatchNotes: dispatchNotesProperty,
    /** What happened to the call, as the server recorded it (incident-history workflow); devices never write it. */
    history: incidentHistoryProperty,
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts); closedAt, closeReason, closedBy (the incident lifecycle). Only optional fields were added.
 * 2: complaint, address, location, notes, closeReason and conflicts stored encrypted on devices (issue 17). The document is unchanged.
 * 3: the timeline keeps the staging and at-home stamps (unitArrivedStaging, unitBackAtHome; issue 16: every CAD status
 *    mapped). Only optional fields were added.
 * 4: requiredCapability, dispatchNotes and the server-recorded history (issue 20: dispatch work); the two lists stored
 *    encrypted on devices. Only optional fields were added.
 */
export const incidentMigrationStrategies = {
  1: addedOptionalFields,
  2: encryptedMoreOnDevice,
  3: addedOptionalFields,
  4: addedOptionalFields,
} as const satisfies MigrationStrategies;
