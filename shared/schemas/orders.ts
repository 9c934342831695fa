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

/** What was sold, as the order system lists it (`items` of its `order.completed` event). */
export const orderItemsProperty = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      sku: { type: 'string', maxLength: 64 },
      description: shortText,
      quantity: { type: 'integer', minimum: 1, maximum: 100000 },
      serial: { type: 'string', maxLength: 64 },
    },
  },
} as const;

/** Order statuses: `completed` (sold) starts the ticket; `closed` is the server's once the ticket is closed. */
export const ORDER_STATUSES = ['open', 'completed', 'closed', 'cancelled'] as const;

export const orderSchema = {
  title: 'orders',
  description: 'A sales order for an installation at a customer site.',
  version: 2,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'orderNumber', 'status'],
  properties: {
    ...baseProperties,
    orderNumber: { type: 'string', minLength: 1, maxLength: 50 },
    status: { type: 'string', enum: ORDER_STATUSES },
    priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
    customer: customerProperty,
    serviceAddress: addressProperty,
    location: geoPointProperty,
    equipment: equipmentProperty,
    deployment: deploymentProperty,
    items: orderItemsProperty,
    /** Where the order came from: `office` (typed by hand) or `order-system` (the signed intake). */
    source: { type: 'string', enum: ['office', 'order-system'] },
    /** SHA-256 (hex) of the order system's event this order was made from: a replay with another body is refused. Server-owned. */
    intakeDigest: { type: 'string', pattern: '^[0-9a-f]{64}$', maxLength: 64 },
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: issue 20, orders arrive: `items`, `source`, `intakeDigest`, and the status `closed` (the ticket was closed). Optional fields and a loosened enum.
 */
export const orderMigrationStrategies = {
  1: addedOptionalFields,
  2: addedOptionalFields,
} as const satisfies MigrationStrategies;
