import { addedOptionalFields, encryptedMoreOnDevice, type MigrationStrategies } from './migrations.ts';
import { baseProperties, conflictHistoryProperty, dateTimeProperty, refId, shortText } from './common.ts';

export const claimSchema = {
  title: 'claims',
  description: 'An 837P-shaped ambulance claim for one billing record (original, replacement or void).',
  version: 3,
  primaryKey: 'id',
  /** Stored AES-encrypted on devices (client/sync/database.ts): the billed services and what the payer answered. */
  encrypted: ['lines', 'payerResponse', 'conflicts'],
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'billingRecordId', 'epcrId', 'status', 'frequencyCode'],
  properties: {
    ...baseProperties,
    billingRecordId: refId,
    epcrId: refId,
    /**
     * `held`: made but not sent, because billing lacks what the payer requires (no patient or
     * representative signature and no crew attestation, issue 18); `holdReason` says what. A biller
     * releases it by setting `draft` once the signature is on file; the claim is then submitted.
     */
    status: { type: 'string', enum: ['draft', 'held', 'submitted', 'accepted', 'rejected', 'void'] },
    holdReason: shortText,
    /** X12 claim frequency: 1 original, 7 replacement, 8 void. */
    frequencyCode: { type: 'string', enum: ['1', '7', '8'] },
    correctionOf: refId,
    lines: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'units'],
        properties: {
          code: { type: 'string', maxLength: 10 },
          modifier: { type: 'string', maxLength: 2 },
          units: { type: 'number', minimum: 0 },
          chargeCents: { type: 'integer', minimum: 0 },
        },
      },
    },
    submittedAt: dateTimeProperty,
    payerResponse: shortText,
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: lines, payerResponse and conflicts stored encrypted on devices (issue 17). The document is unchanged.
 * 3: status `held` and `holdReason` (issue 18: no billing signature). Only a value and an optional field were added.
 */
export const claimMigrationStrategies = {
  1: addedOptionalFields,
  2: encryptedMoreOnDevice,
  3: addedOptionalFields,
} as const satisfies MigrationStrategies;
