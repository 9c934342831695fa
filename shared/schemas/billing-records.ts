import { addedOptionalFields, encryptedMoreOnDevice, type MigrationStrategies } from './migrations.ts';
import { addressProperty, baseProperties, conflictHistoryProperty, refId, shortText } from './common.ts';

export const billingRecordSchema = {
  title: 'billing_records',
  description: 'What billing needs from one transport: service level, HCPCS codes, loaded miles, modifier.',
  version: 3,
  primaryKey: 'id',
  /** Stored AES-encrypted on devices (client/sync/database.ts): where the patient went, who pays, the diagnoses. */
  encrypted: ['pickupZip', 'dropoffAddress', 'payer', 'icd10', 'conflicts', 'pickupAddress', 'patientWeightLbs', 'transportReason', 'conditionCodes',
    'pcsOnFile', 'roundTripPurpose', 'stretcherPurpose', 'accidentCause', 'accidentDate', 'accidentState', 'patientSignature'],
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
    /** 837P 2310E pick-up location: the scene address of the report (eScene.15-.19). */
    pickupAddress: addressProperty,
    /** CR102 patient weight in pounds: recorded by the biller (the report has no weight yet). */
    patientWeightLbs: { type: 'number', minimum: 0, maximum: 2000 },
    /** CR104 ambulance transport reason: A nearest facility, B preferred physician, C near family, D specialist/specialty facility, E rehabilitation. */
    transportReason: { type: 'string', enum: ['A', 'B', 'C', 'D', 'E'] },
    /** CRC*07 ambulance certification condition codes (01 admitted, 04 moved by stretcher, 05 unconscious/shock, 06 emergency, 07 restrained, 08 hemorrhaging, 09 medically necessary, 12 bed/chair confined). */
    conditionCodes: { type: 'array', maxItems: 5, items: { type: 'string', enum: ['01', '04', '05', '06', '07', '08', '09', '12'] } },
    /** A physician certification statement (the ambulance certificate of medical necessity) is on file: 837P PWK*AM*AA. */
    pcsOnFile: { type: 'boolean' },
    /** CR109 / CR110: why a round trip, why a stretcher (free text the payer reads). */
    roundTripPurpose: shortText,
    stretcherPurpose: shortText,
    /** CLM11 related cause: AA auto accident, OA other accident, EM employment; with the accident's date (DTP*439) and state (CLM11-4, for AA). */
    accidentCause: { type: 'string', enum: ['AA', 'OA', 'EM'] },
    accidentDate: { type: 'string', maxLength: 10, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
    accidentState: { type: 'string', maxLength: 2 },
    /** CLM08-CLM10: who signed the billing release: the patient, a representative, the crew for a patient unable to sign (provider), or nobody yet. */
    patientSignature: { type: 'string', enum: ['signed', 'representative', 'provider', 'none'] },
    conflicts: conflictHistoryProperty,
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts). Only optional fields were added.
 * 2: pickupZip, dropoffAddress, payer, icd10 and conflicts stored encrypted on devices (issue 17). The document is unchanged.
 * 3: what an 837P ambulance claim needs beyond the codes (issue 16): pickupAddress, patientWeightLbs, transportReason,
 *    conditionCodes, pcsOnFile, roundTripPurpose, stretcherPurpose, accidentCause/Date/State, patientSignature. Only optional fields were added.
 */
export const billingRecordMigrationStrategies = {
  1: addedOptionalFields,
  2: encryptedMoreOnDevice,
  3: addedOptionalFields,
} as const satisfies MigrationStrategies;
