import { addedOptionalFields, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, dateTimeProperty, geoPointProperty, refId } from './common.ts';
import { customerProperty } from './orders.ts';
import { jobAttachmentsProperty } from './attachments.ts';

export const JOB_STATUSES = ['unassigned', 'assigned', 'en_route', 'on_site', 'completed', 'offline'] as const;

export const jobSchema = {
  title: 'jobs',
  description: 'A field job worked by one technician.',
  version: 2,
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
    equipmentSerials: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 64 } },
    ticketNotes: { type: 'string', maxLength: 5000 },
    notes: { type: 'string', maxLength: 5000 },
    /** Before/after photos and the customer's signature (attachments.ts; docs/protocol.md "Attachments"). */
    attachments: jobAttachmentsProperty,
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: `attachments`: before/after photos and the customer's signature (issue 18). Only optional fields were added.
 */
export const jobMigrationStrategies = {
  1: addedOptionalFields,
  2: addedOptionalFields,
} as const satisfies MigrationStrategies;
