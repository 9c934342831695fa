/**
 * The 837P file of one claim (issue 16, item 7): the claim, its billing record and report, and
 * the agency's billing settings become the plain input of server/integrations/x12/claim-837p.ts.
 * Anything the file cannot be made without is named in a ClaimNotBillable error (the claim is not
 * sent, and stays a dead letter an admin retries once it is fixed); the made file is checked
 * against the implementation guide's structure before it leaves (validate-837p.ts).
 *
 * Deterministic per claim: control numbers and CLM01 derive from the claim id, so a resend after
 * a crash carries the same ISA13 and CLM01 as the first, which receivers drop as a duplicate.
 */
import { createHash } from 'node:crypto';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { WireDoc } from '../../../shared/schemas/index.ts';
import type { AgencyBillingSettings } from '../../agencies/billing-settings.ts';
import { postalStateCode } from '../../../shared/nemsis/export/ansi-state-codes.ts';
import { build837p, type Claim837Input, type Claim837Line, type X12Address } from '../../integrations/x12/claim-837p.ts';
import { validate837p } from '../../integrations/x12/validate-837p.ts';

export class ClaimNotBillable extends Error {
  constructor(readonly claimId: string, readonly problems: string[]) {
    super(`Claim ${claimId} was not sent: ${problems.join('; ')}. Fix these (agency billing settings: PUT the agency settings' "billing"; the billing record: the biller's worklist), then retry the dead letter.`);
    this.name = 'ClaimNotBillable';
  }
}

export interface ClaimFileSources {
  claim: WireDoc<'claims'>;
  billing: WireDoc<'billing_records'>;
  epcr: WireDoc<'epcrs'>;
  /** The claim a replacement/void corrects (its payer reference becomes REF*F8). */
  original?: WireDoc<'claims'>;
  agencyName: string;
  settings: AgencyBillingSettings | undefined;
  /** Now, with the agency's offset (YYYY-MM-DDTHH:MM…). */
  createdAt: string;
}

const SEX: Readonly<Record<string, 'M' | 'F' | 'U'>> = { [codeOf('ePatient.25', 'Male')]: 'M', [codeOf('ePatient.25', 'Female')]: 'F' };
/** ePayment.01 method → the claim filing indicator of the payer to bill when the record names none the settings know. */
const FILING_BY_METHOD: Readonly<Record<string, string>> = {
  [codeOf('ePayment.01', 'Medicare')]: 'MB', [codeOf('ePayment.01', 'Medicaid')]: 'MC',
  [codeOf('ePayment.01', 'Insurance')]: 'CI', [codeOf('ePayment.01', 'Workers Compensation')]: 'WC',
};

/** The charged lines: each line's own charge, else the fee schedule's (per transport, or per loaded mile on the mileage line). */
export function chargedLines(billing: WireDoc<'billing_records'>, lines: readonly { code: string; modifier?: string; units: number; chargeCents?: number }[],
  fees: Readonly<Record<string, number>>, problems: string[]): Claim837Line[] {
  return lines.map((line) => {
    let chargeCents = line.chargeCents;
    if (chargeCents === undefined) {
      const fee = fees[line.code];
      if (fee === undefined) problems.push(`the fee schedule has no charge for ${line.code}`);
      chargeCents = fee === undefined ? 0 : Math.round(line.code === billing.hcpcsMileage ? fee * line.units : fee);
    }
    return { hcpcs: line.code, modifiers: line.modifier ? [line.modifier] : [], chargeCents, units: line.units };
  });
}

export function claimFile(sources: ClaimFileSources): { file: string; lines: Claim837Line[] } {
  const { claim, billing, epcr, settings } = sources;
  const problems: string[] = [];
  if (!settings) throw new ClaimNotBillable(claim.id, ['the agency has no billing settings (billing provider NPI, taxonomy, tax id, submitter, clearinghouse, payers, fee schedule)']);
  const hash = createHash('sha256').update(claim.id).digest('hex');
  const city = (value: string | undefined, where: string): string => {
    const v = value?.trim() ?? '';
    if (/^[0-9]+$/.test(v)) {
      const name = settings.cityNames[v];
      if (!name) problems.push(`${where}: the city is GNIS code ${v}; add its name to the billing settings' cityNames`);
      return name ?? '';
    }
    if (!v) problems.push(`${where}: the city is missing`);
    return v;
  };
  const address = (a: { street?: string; city?: string; state?: string; zip?: string } | undefined, where: string): X12Address => {
    if (!a?.street) problems.push(`${where}: the street is missing`);
    if (!a?.zip) problems.push(`${where}: the ZIP code is missing`);
    const state = a?.state ? postalStateCode(a.state) : undefined;
    if (!state) problems.push(`${where}: the state is missing or not a state`);
    return { street: a?.street ?? '', city: city(a?.city, where), state: state ?? '', zip: a?.zip ?? '' };
  };
  const patient = epcr.patient ?? {};
  if (!patient.lastName) problems.push('the patient\'s last name is missing (ePatient.02)');
  // The patient is the insured here, and the guide then requires their address and demographics (2010BA N3/N4, DMG).
  if (!patient.address) problems.push('the patient\'s address is missing (ePatient.05-.09)');
  if (!patient.dateOfBirth) problems.push('the patient\'s date of birth is missing (ePatient.17)');
  const memberId = epcr.payment?.memberId;
  if (!memberId) problems.push('the patient\'s member id with the payer is missing (ePayment.19)');
  const payerName = billing.payer?.trim().toLowerCase();
  const filing = FILING_BY_METHOD[epcr.payment?.primaryMethod ?? ''];
  const payer = settings.payers.find((p) => p.name.toLowerCase() === payerName) ?? (filing ? settings.payers.find((p) => p.filingIndicator === filing) : undefined);
  if (!payer) problems.push(`no payer in the billing settings matches "${billing.payer ?? 'no payer'}"${filing ? ` or filing indicator ${filing}` : ''}`);
  const serviceDate = (epcr.times?.unitNotified ?? epcr.lockedAt)?.slice(0, 10);
  if (!serviceDate) problems.push('the date of service is missing (eTimes.03)');
  const diagnoses = billing.icd10 ?? [];
  if (diagnoses.length === 0) problems.push('no ICD-10-CM impression (eSituation.11) to put on the claim');
  if (!billing.conditionCodes?.length) problems.push('no ambulance certification condition code (conditionCodes)');
  const lines = chargedLines(billing, claim.lines ?? [], settings.feeSchedule, problems);
  if (lines.length === 0) problems.push('the claim has no lines (service level missing?)');
  for (const line of lines) if (line.modifiers.length === 0) problems.push(`line ${line.hcpcs} has no origin/destination modifier (pick-up and drop-off location types)`);
  const pickup = address(billing.pickupAddress ?? epcr.scene?.address, 'pick-up location');
  const dropoff = address(billing.dropoffAddress ?? epcr.disposition?.destinationAddress, 'drop-off location');
  const payerReference = sources.original?.payerResponse?.match(/^reference (.+)$/)?.[1];
  if (claim.frequencyCode !== '1' && !payerReference) problems.push('a replacement or void needs the payer\'s reference of the original claim');
  const accident = billing.accidentCause && billing.accidentDate
    ? { cause: billing.accidentCause, date: billing.accidentDate, ...(billing.accidentState ? { state: billing.accidentState } : {}) }
    : undefined;
  if (billing.accidentCause === 'AA' && !billing.accidentState) problems.push('an auto accident needs the state it happened in (accidentState)');
  if (problems.length > 0) throw new ClaimNotBillable(claim.id, problems);

  const input: Claim837Input = {
    control: {
      interchange: String(Number.parseInt(hash.slice(0, 8), 16) % 1_000_000_000).padStart(9, '0'),
      transactionSet: '0001',
      createdAt: { date: sources.createdAt.slice(0, 10), time: sources.createdAt.slice(11, 16).replace(':', '') },
      usage: settings.usage,
    },
    submitter: settings.submitter,
    receiver: settings.receiver,
    billingProvider: { name: settings.name ?? sources.agencyName, npi: settings.npi, taxonomy: settings.taxonomy, taxId: settings.taxId, address: settings.address },
    subscriber: {
      lastName: patient.lastName ?? '', ...(patient.firstName ? { firstName: patient.firstName } : {}), memberId: memberId ?? '',
      ...(patient.dateOfBirth ? { dateOfBirth: patient.dateOfBirth } : {}), sex: SEX[patient.sex ?? ''] ?? 'U',
      ...(patient.address ? { address: address(patient.address, 'patient address') } : {}),
    },
    payer: { name: payer!.name, id: payer!.payerId, filingIndicator: payer!.filingIndicator },
    claim: {
      patientControlNumber: hash.slice(0, 20).toUpperCase(),
      frequencyCode: claim.frequencyCode,
      placeOfService: billing.serviceLevel === 'FW' || billing.serviceLevel === 'RW' ? '42' : '41',
      ...(payerReference ? { payerClaimNumber: payerReference } : {}),
      serviceDate: serviceDate!,
      patientSignature: billing.patientSignature ?? 'none',
      ...(accident ? { accident } : {}),
      ambulance: {
        ...(billing.patientWeightLbs !== undefined ? { weightLbs: billing.patientWeightLbs } : {}),
        transportReason: billing.transportReason ?? 'A',
        miles: billing.loadedMiles ?? 0,
        ...(billing.roundTripPurpose ? { roundTripPurpose: billing.roundTripPurpose } : {}),
        ...(billing.stretcherPurpose ? { stretcherPurpose: billing.stretcherPurpose } : {}),
      },
      certification: { met: true, conditionCodes: billing.conditionCodes ?? [] },
      pcsOnFile: billing.pcsOnFile === true,
      diagnoses,
      pickup,
      dropoff: { ...dropoff, ...(epcr.disposition?.destinationName ? { name: epcr.disposition.destinationName } : {}) },
    },
    lines,
  };
  const file = build837p(input);
  // Never send what the receiver's front end would reject: a failure here is our bug, named in the dead letter.
  const structure = validate837p(file);
  if (structure.length > 0) throw new ClaimNotBillable(claim.id, structure.map((p) => `837P structure: ${p}`));
  return { file, lines };
}
