/**
 * The billing record of one transport, computed from its ePCR (ems-domain §4): CMS service level
 * → HCPCS base and mileage codes, loaded miles rounded the way Medicare wants them, the
 * origin/destination modifier and the pickup ZIP. The pure functions are exported for tests.
 */
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { BillingRecord, Epcr, WireDoc } from '../../../shared/schemas/index.ts';
import { TRANSPORTED_BY_THIS_UNIT } from '../../../shared/domain/epcr-validation.ts';
import type { EffectContext } from '../types.ts';
import { billingRecordId, compact, writeDoc, type Draft } from './support.ts';
import { patientSignatureStatus, type PatientSignatureStatus } from '../../../shared/domain/signatures.ts';
import { ambulanceClaimFieldsFromEpcr, withoutDerivedAmbulanceFields, type AmbulanceClaimFieldName } from './billing-ambulance.ts';

export interface ServiceLevel {
  /** Short name stored in the billing record (fits its 20 characters). */
  name: string;
  hcpcsBase: string;
  /** Absent for paramedic intercept: the intercepting ALS unit does not transport, the transporting unit bills mileage. */
  hcpcsMileage?: string;
}

/** A table keyed by an element's codes, written by their XSD labels (a label the release lacks fails at load). */
function byLabel<T>(element: string, rows: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  return Object.fromEntries(Object.entries(rows).map(([label, value]) => [codeOf(element, label), value]));
}

/** ePayment.50 → HCPCS. PI/ALS2/SCT/FW/RW carry no separate emergency designation. */
export const SERVICE_LEVELS: Readonly<Record<string, ServiceLevel>> = byLabel('ePayment.50', {
  'ALS, Level 1': { name: 'ALS1', hcpcsBase: 'A0426', hcpcsMileage: 'A0425' },
  'ALS, Level 1 Emergency': { name: 'ALS1-EMERGENCY', hcpcsBase: 'A0427', hcpcsMileage: 'A0425' },
  'ALS, Level 2': { name: 'ALS2', hcpcsBase: 'A0433', hcpcsMileage: 'A0425' },
  'BLS': { name: 'BLS', hcpcsBase: 'A0428', hcpcsMileage: 'A0425' },
  'BLS, Emergency': { name: 'BLS-EMERGENCY', hcpcsBase: 'A0429', hcpcsMileage: 'A0425' },
  'Fixed Wing (Airplane)': { name: 'FW', hcpcsBase: 'A0430', hcpcsMileage: 'A0435' },
  'Paramedic Intercept': { name: 'PI', hcpcsBase: 'A0432' },
  'Specialty Care Transport': { name: 'SCT', hcpcsBase: 'A0434', hcpcsMileage: 'A0425' },
  'Rotary Wing (Helicopter)': { name: 'RW', hcpcsBase: 'A0431', hcpcsMileage: 'A0436' },
});

/**
 * Loaded miles as billed: rounded UP to the next tenth below 100 miles (1.43 → 1.5), UP to the
 * next whole mile from 100 miles on (100.2 → 101). Values already on the grid stay as they are.
 */
export function roundLoadedMiles(miles: number | undefined): number | undefined {
  if (miles === undefined || !Number.isFinite(miles) || miles < 0) return undefined;
  const up = (value: number) => {
    const nearest = Math.round(value);
    // 1.4 * 10 is 14.000000000000002 in binary floating point: that is 14, not 15.
    return Math.abs(value - nearest) < 1e-6 ? nearest : Math.ceil(value);
  };
  if (miles < 100) {
    const tenths = up(miles * 10);
    return tenths >= 1000 ? 100 : tenths / 10;
  }
  return up(miles);
}

/**
 * Origin letter from eScene.09 (ICD-10-CM Y92 place of occurrence) where it says what the place
 * is; otherwise S (scene of the emergency), which is what a 911 pickup is.
 */
export function originTypeFor(sceneLocationType: string | undefined, serviceType?: string): string {
  const code = sceneLocationType?.trim().toUpperCase() ?? '';
  // A transfer out of a hospital (eResponse.05) starts at a hospital even when no place of occurrence was recorded.
  if (code === '' && serviceType && HOSPITAL_ORIGIN_SERVICES.has(serviceType)) return 'H';
  if (/^Y92\.0/.test(code)) return 'R'; // private residence
  if (/^Y92\.12/.test(code)) return 'N'; // nursing home
  if (/^Y92\.1/.test(code)) return 'E'; // other residential / custodial institution
  if (/^Y92\.23/.test(code)) return 'H'; // hospital
  if (code === 'Y92.531') return 'P'; // health care provider office
  if (/^Y92\.53/.test(code)) return 'D'; // other ambulatory health services
  return 'S';
}

const HOSPITAL_ORIGIN_SERVICES: ReadonlySet<string> = new Set([
  codeOf('eResponse.05', 'Hospital-to-Hospital Transfer'), codeOf('eResponse.05', 'Hospital to Non-Hospital Facility Transfer'),
]);

/** Destination letter from eDisposition.21 (type of destination); undefined where no letter fits. */
const DESTINATION_TYPES: Readonly<Record<string, string>> = byLabel('eDisposition.21', {
  'Home': 'R',
  'Hospital-Emergency Department': 'H',
  'Hospital-Non-Emergency Department Bed': 'H',
  'Clinic': 'P',
  'Other EMS Responder (air)': 'I', // transfer site between modes of ambulance transport
  'Police/Jail': 'E', // custodial facility
  'Urgent Care': 'D',
  'Freestanding Emergency Department': 'H',
  'Dialysis Center': 'J', // free-standing ESRD facility
  'Diagnostic Services': 'D',
  'Assisted Living Facility': 'E',
  'Nursing Home': 'E', // not skilled
  'Other Recurring Care Center': 'D',
  'Physical Rehabilitation Facility': 'D',
  'Skilled Nursing Facility': 'N',
});

export function destinationTypeFor(destinationType: string | undefined): string | undefined {
  return destinationType ? DESTINATION_TYPES[destinationType.trim()] : undefined;
}

const ICD10 = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;
/** The payer a claim names for an ePayment.01 method, when no insurance company was recorded. */
const PAYMENT_METHODS: Readonly<Record<string, string>> = byLabel('ePayment.01', {
  'Insurance': 'Insurance', 'Medicaid': 'Medicaid', 'Medicare': 'Medicare', 'Not Billed (for any reason)': 'Not Billed',
  'Self Pay': 'Self Pay', 'Workers Compensation': 'Workers Compensation', 'Payment by Facility': 'Facility',
});

export type BillingFields = Pick<BillingRecord,
  'serviceLevel' | 'hcpcsBase' | 'hcpcsMileage' | 'loadedMiles' | 'originType' | 'destinationType' | 'modifier' |
  'pickupZip' | 'dropoffAddress' | 'payer' | 'icd10' | AmbulanceClaimFieldName>;

/** Everything billing takes from the report; fields the report does not have stay absent. */
export function billingFieldsFromEpcr(epcr: Epcr): BillingFields {
  const level = epcr.payment?.serviceLevel ? SERVICE_LEVELS[epcr.payment.serviceLevel] : undefined;
  const originType = originTypeFor(epcr.scene?.locationType, epcr.response?.serviceType);
  const destinationType = destinationTypeFor(epcr.disposition?.destinationType);
  const icd10 = [epcr.situation?.primaryImpression, ...(epcr.situation?.secondaryImpressions ?? [])]
    .filter((code): code is string => typeof code === 'string' && ICD10.test(code))
    .slice(0, 12);
  return compact({
    serviceLevel: level?.name,
    hcpcsBase: level?.hcpcsBase,
    hcpcsMileage: level?.hcpcsMileage,
    loadedMiles: roundLoadedMiles(epcr.disposition?.loadedMiles),
    originType,
    destinationType,
    modifier: destinationType ? `${originType}${destinationType}` : undefined,
    pickupZip: epcr.scene?.address?.zip,
    dropoffAddress: epcr.disposition?.destinationAddress,
    payer: epcr.payment?.insuranceCompany ?? (epcr.payment?.primaryMethod ? PAYMENT_METHODS[epcr.payment.primaryMethod] : undefined),
    icd10: icd10.length > 0 ? icd10 : undefined,
    ...ambulanceClaimFieldsFromEpcr(epcr, level?.name),
  });
}

/** What a claim cannot be made without; empty means the record can be `ready`. */
export function missingForClaim(fields: BillingFields): string[] {
  const missing: string[] = [];
  if (!fields.hcpcsBase) missing.push('serviceLevel');
  if (fields.hcpcsMileage && fields.loadedMiles === undefined) missing.push('loadedMiles');
  if (!fields.modifier) missing.push('modifier (destination type)');
  if (!fields.pickupZip) missing.push('pickupZip');
  if (!fields.conditionCodes?.length) missing.push('conditionCodes (ambulance certification)');
  return missing;
}

/** `ready` once the report is locked and nothing a claim needs is missing; `draft` before. */
export function billingStatusFor(epcr: Epcr, fields: BillingFields): 'draft' | 'ready' {
  return epcr.lockedAt && missingForClaim(fields).length === 0 ? 'ready' : 'draft';
}

/**
 * Creates the billing record of a report if it has none (id: billing/tenant/epcr, so whichever
 * workflow comes first creates it and the other finds it). With `refreshDraft`, a record still
 * in `draft` (made at transport, before the report was finished) is brought up to date from the
 * report; `ready`, `claimed` and `void` records are never touched here.
 */
/**
 * The billing record's patient signature from the report's signatures (shared/domain/signatures.ts):
 * a signature or attestation on the report is what billing has; with none, what the biller
 * recorded (a paper form) stays.
 */
function signatureFromReport(epcr: Epcr): { patientSignature?: PatientSignatureStatus } {
  const status = patientSignatureStatus(epcr);
  return status === 'none' ? {} : { patientSignature: status };
}

export async function ensureBillingRecord(
  ctx: EffectContext,
  epcr: WireDoc<'epcrs'>,
  options: { refreshDraft: boolean },
): Promise<WireDoc<'billing_records'> | undefined> {
  const id = billingRecordId(ctx.tenantId, epcr.id);
  await writeDoc(ctx, 'billing_records', id, (current) => {
    const fields = billingFieldsFromEpcr(epcr);
    const status = billingStatusFor(epcr, fields);
    if (!current) {
      const created: Draft<'billing_records'> = {
        id, tenantId: ctx.tenantId, epcrId: epcr.id, ...(epcr.incidentId ? { incidentId: epcr.incidentId } : {}),
        status, ...fields, ...signatureFromReport(epcr), _deleted: false,
      };
      return created;
    }
    if (current._deleted || current.status !== 'draft' || !options.refreshDraft) return undefined;
    const { serviceLevel: _s, hcpcsBase: _b, hcpcsMileage: _m, loadedMiles: _l, originType: _o, destinationType: _d, modifier: _x,
      pickupZip: _z, dropoffAddress: _a, payer: _p, icd10: _i, ...rest } = current;
    // What the biller records (weight, PCS, signature, purposes) stays; what comes from the report is taken again.
    const kept = withoutDerivedAmbulanceFields(rest);
    return { ...kept, ...fields, ...signatureFromReport(epcr), status };
  });
  return (await ctx.getDocument('billing_records', id)) as WireDoc<'billing_records'> | undefined;
}

/**
 * The billing record for a report that was just locked: created when this unit transported the
 * patient (or updated from the report when transport-completed already made a draft one).
 * Reports without a transport by this unit get none.
 */
export async function billingForLockedReport(ctx: EffectContext, epcr: WireDoc<'epcrs'>): Promise<WireDoc<'billing_records'> | undefined> {
  const transported = TRANSPORTED_BY_THIS_UNIT.has(epcr.disposition?.transportDisposition ?? '');
  const existing = await ctx.getDocument('billing_records', billingRecordId(ctx.tenantId, epcr.id));
  if (!transported && !existing) {
    ctx.log.info({ epcrId: epcr.id }, 'report has no transport by this unit; no billing record');
    return undefined;
  }
  return ensureBillingRecord(ctx, epcr, { refreshDraft: true });
}
