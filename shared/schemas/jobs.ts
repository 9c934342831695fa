import { addedOptionalFields, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, dateTimeProperty, geoPointProperty, refId } from './common.ts';
import { customerProperty } from './orders.ts';
import { jobAttachmentsProperty } from './attachments.ts';

/** `left_site`: the technician left before finishing (to fetch a part, say); the job is still theirs and still open. */
export const JOB_STATUSES = ['unassigned', 'assigned', 'en_route', 'on_site', 'left_site', 'completed', 'offline'] as const;
/** Statuses during which the technician's phone reports its position (and only these). */
export const ACTIVE_JOB_STATUSES = ['en_route', 'on_site'] as const;
export const CHECKLIST_RESULTS = ['done', 'not_done', 'not_applicable'] as const;

const itemId = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** The job type's checklist, copied from the agency's data when the job is made; the technician records each result. */
export const checklistProperty = {
  type: 'array',
  maxItems: 50,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'label'],
    properties: { id: itemId, label: { type: 'string', minLength: 1, maxLength: 200 }, result: { type: 'string', enum: CHECKLIST_RESULTS } },
  },
} as const;

/** Parts and materials used on the job, each with its serial when it has one. */
export const partsProperty = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: itemId,
      name: { type: 'string', maxLength: 200 },
      serial: { type: 'string', maxLength: 64 },
      quantity: { type: 'integer', minimum: 1, maximum: 10000 },
    },
  },
} as const;

/** Time on site: one entry per visit, arrival and departure as the phone recorded them (offset date-times). */
export const visitsProperty = {
  type: 'array',
  maxItems: 50,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'arrivedAt'],
    properties: { id: itemId, arrivedAt: dateTimeProperty, departedAt: dateTimeProperty },
  },
} as const;

export const jobSchema = {
  title: 'jobs',
  description: 'A field job worked by one technician.',
  version: 4,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'status'],
  properties: {
    ...baseProperties,
    kind: { type: 'string', enum: ['installation', 'repair', 'inspection'] },
    status: { type: 'string', enum: JOB_STATUSES },
    statusAt: dateTimeProperty,
    ticketId: refId,
    orderId: refId,
    orderNumber: { type: 'string', maxLength: 50 },
    assigneeId: refId,
    customer: customerProperty,
    serviceAddress: addressProperty,
    location: geoPointProperty,
    /** The geocoder's name for the place `location` was found at, when the order came without coordinates (server-set). */
    geocodedAs: { type: 'string', maxLength: 500 },
    /** Why the server left the job unassigned (e.g. its address could not be placed on the map), for the office. */
    unassignedReason: { type: 'string', maxLength: 500 },
    equipmentSerials: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 64 } },
    ticketNotes: { type: 'string', maxLength: 5000 },
    notes: { type: 'string', maxLength: 5000 },
    checklist: checklistProperty,
    parts: partsProperty,
    visits: visitsProperty,
    /** Why a completed job was reopened (the technician says so when reopening). */
    reopenReason: { type: 'string', maxLength: 500 },
    reopenedAt: dateTimeProperty,
    /** Before/after photos and the customer's signature (attachments.ts; docs/protocol.md "Attachments"). */
    attachments: jobAttachmentsProperty,
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: `attachments`: before/after photos and the customer's signature (issue 18). Only optional fields were added.
 * 3: issue 20, the technician's job screen: `checklist`, `parts`, `visits`, `reopenReason`, `reopenedAt`, and the status `left_site`. Optional fields and a loosened enum.
 * 4: issue 20, orders without coordinates are geocoded: `geocodedAs`, `unassignedReason`. Only optional fields were added.
 */
export const jobMigrationStrategies = {
  1: addedOptionalFields,
  2: addedOptionalFields,
  3: addedOptionalFields,
  4: addedOptionalFields,
} as const satisfies MigrationStrategies;
