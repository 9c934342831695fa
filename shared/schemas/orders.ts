import { addedOptionalFields, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, geoPointProperty, shortText } from './common.ts';

export const customerProperty = {
  type: 'object',
  additionalProperties: false,
  properties: { name: shortText, phone: { type: 'string', maxLength: 30 }, email: shortText },
} as const;

export const equipmentProperty = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['serial'],
    properties: { serial: { type: 'string', minLength: 1, maxLength: 64 }, model: shortText },
  },
} as const;

/** Free-form deployment settings (string values only) carried from order to ticket to job. */
export const deploymentProperty = {
  type: 'object',
  maxProperties: 50,
  additionalProperties: { type: 'string', maxLength: 500 },
} as const;

export const orderSchema = {
  title: 'orders',
  description: 'A sales order for an installation at a customer site.',
  version: 1,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'orderNumber', 'status'],
  properties: {
    ...baseProperties,
    orderNumber: { type: 'string', minLength: 1, maxLength: 50 },
    status: { type: 'string', enum: ['open', 'completed', 'cancelled'] },
    priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
    customer: customerProperty,
    serviceAddress: addressProperty,
    location: geoPointProperty,
    equipment: equipmentProperty,
    deployment: deploymentProperty,
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 */
export const orderMigrationStrategies = {
  1: addedOptionalFields,
} as const satisfies MigrationStrategies;
