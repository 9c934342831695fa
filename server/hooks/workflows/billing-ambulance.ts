/**
 * What an 837P ambulance claim takes from the report beyond codes and miles (issue 16, item 7):
 * the pick-up address (2310E), the accident indicator of a collision (CLM11 AA with its date and
 * state), the ambulance certification condition codes (CRC*07) and the transport reason (CR104).
 * Derived when the billing record is made or refreshed from a report (a refresh takes them again,
 * so a correction belongs in the report or an addendum). Fields the report cannot give (weight, the
 * physician certification statement, the patient's signature, round-trip/stretcher purposes)
 * are the biller's and are never overwritten here.
 */
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { BillingRecord, Epcr } from '../../../shared/schemas/index.ts';
import { postalStateCode } from '../../../shared/nemsis/export/ansi-state-codes.ts';

export type AmbulanceClaimFieldName = 'pickupAddress' | 'accidentCause' | 'accidentDate' | 'accidentState' | 'conditionCodes' | 'transportReason';
type AmbulanceClaimFields = Pick<BillingRecord, AmbulanceClaimFieldName>;

/** eDispatch.01 reasons that mean a motor-vehicle collision. */
const COLLISION_DISPATCH = new Set([codeOf('eDispatch.01', 'Traffic/Transportation Incident'), codeOf('eDispatch.01', 'Automated Crash Notification')]);
/** ICD-10-CM V00–V89: land transport accidents (as an impression, the cause of the injury). */
const TRANSPORT_ACCIDENT = /^V[0-8][0-9]/;
const EMERGENT = new Set([codeOf('eResponse.23', 'Emergent (Immediate Response)'), codeOf('eResponse.23', 'Non-Emergent Upgraded to Emergent')]);
const INTERFACILITY = new Set(['Hospital-to-Hospital Transfer', 'Hospital to Non-Hospital Facility Transfer', 'Non-Hospital Facility to Non-Hospital Facility Transfer', 'Non-Hospital Facility to Hospital Transfer']
  .map((label) => codeOf('eResponse.05', label)));
const UNRESPONSIVE = codeOf('eVitals.26', 'Unresponsive');

export function ambulanceClaimFieldsFromEpcr(epcr: Epcr, serviceLevelName: string | undefined): Partial<AmbulanceClaimFields> {
  const out: Partial<AmbulanceClaimFields> = {};
  if (epcr.scene?.address) out.pickupAddress = epcr.scene.address;
  const impressions = [epcr.situation?.primaryImpression, ...(epcr.situation?.secondaryImpressions ?? [])];
  const collision = COLLISION_DISPATCH.has(epcr.dispatch?.reason ?? '') || impressions.some((code) => typeof code === 'string' && TRANSPORT_ACCIDENT.test(code));
  if (collision) {
    out.accidentCause = 'AA';
    // The local date of the call (times carry the agency's offset; their first 10 characters are its date).
    const date = (epcr.situation?.onset ?? epcr.times?.psapCall ?? epcr.times?.unitNotified)?.slice(0, 10);
    if (date) out.accidentDate = date;
    const state = epcr.scene?.address?.state ? postalStateCode(epcr.scene.address.state) : undefined;
    if (state) out.accidentState = state;
  }
  const interfacility = INTERFACILITY.has(epcr.response?.serviceType ?? '');
  type ConditionCode = NonNullable<BillingRecord['conditionCodes']>[number];
  const codes = new Set<ConditionCode>();
  if (interfacility) codes.add('09'); // the transfer was ordered as medically necessary; the PCS on file says why
  codes.add('04'); // an ambulance transport moves the patient by stretcher
  const unconscious = (epcr.vitals ?? []).some((v) => v.avpu === UNRESPONSIVE || (v.gcsEye !== undefined && v.gcsVerbal !== undefined && v.gcsMotor !== undefined && v.gcsEye + v.gcsVerbal + v.gcsMotor <= 8));
  if (unconscious) codes.add('05');
  if (EMERGENT.has(epcr.response?.responseMode ?? '') || serviceLevelName?.endsWith('EMERGENCY')) codes.add('06');
  out.conditionCodes = [...codes].slice(0, 5);
  out.transportReason = interfacility ? 'D' : 'A';
  return out;
}

/** A billing record without the fields this module derives (so a refresh takes them again). */
export function withoutDerivedAmbulanceFields<T extends Partial<AmbulanceClaimFields>>(record: T): Omit<T, AmbulanceClaimFieldName> {
  const { pickupAddress: _p, accidentCause: _c, accidentDate: _d, accidentState: _s, conditionCodes: _k, transportReason: _t, ...rest } = record;
  return rest;
}
