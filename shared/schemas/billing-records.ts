import { addedOptionalFields, encryptedMoreOnDevice, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, refId, shortText } from './common.ts';

export const billingRecordSchema = {
  title: 'billing_records',
  description: 'What billing needs from one transport: service level, HCPCS codes, loaded miles, modifier.',
  version: 2,
  primaryKey: 'id',
  /** Stored AES-encrypted on devices (client/sync/database.ts): where the patient went, who pays, the diagnoses. */
  encrypted: ['pickupZip', 'dropoffAddress', 'payer', 'icd10', 'conflicts'],
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'epcrId', 'status'],
  properties: {
    ...baseProperties,
    epcrId: refId,
    incidentId: refId,
    status: { type: 'string', enum: ['draft', 'ready', 'claimed', 'void'] },
    serviceLevel: { type: 'string', maxLength: 20 },
    hcpcsBase: { type: 'string', maxLength: 10 },
    hcpcsMileage: { type: 'string', maxLength: 10 },
    loadedMiles: { type: 'number', minimum: 0, maximum: 10000 },
    originType: { type: 'string', maxLength: 1 },
    destinationType: { type: 'string', maxLength: 1 },
    modifier: { type: 'string', maxLength: 2 },
    pickupZip: { type: 'string', maxLength: 10 },
    dropoffAddress: addressProperty,
    payer: shortText,
    icd10: { type: 'array', maxItems: 12, items: { type: 'string', maxLength: 10 } },
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: pickupZip, dropoffAddress, payer, icd10 and conflicts stored encrypted on devices (issue 17). The document is unchanged.
 */
export const billingRecordMigrationStrategies = {
  1: addedOptionalFields,
  2: encryptedMoreOnDevice,
} as const satisfies MigrationStrategies;
