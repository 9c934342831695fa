import { addedOptionalFields, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, geoPointProperty, refId } from './common.ts';
import { customerProperty, deploymentProperty, equipmentProperty } from './orders.ts';

export const ticketSchema = {
  title: 'tickets',
  description: 'A service ticket, e.g. the installation request made from a completed order.',
  version: 1,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'type', 'status'],
  properties: {
    ...baseProperties,
    type: { type: 'string', enum: ['installation_request', 'repair', 'inspection'] },
    status: { type: 'string', enum: ['open', 'in_progress', 'closed', 'cancelled'] },
    priority: { type: 'string', enum: ['p1', 'p2', 'p3', 'p4'] },
    orderId: refId,
    orderNumber: { type: 'string', maxLength: 50 },
    customer: customerProperty,
    serviceAddress: addressProperty,
    location: geoPointProperty,
    equipment: equipmentProperty,
    deployment: deploymentProperty,
    notes: { type: 'string', maxLength: 5000 },
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 */
export const ticketMigrationStrategies = {
  1: addedOptionalFields,
} as const satisfies MigrationStrategies;
