/**
 * An agency's billing settings (`billing` in its agency settings, set by its admin with
 * `PUT ADMIN.putAgency`): who bills (the billing provider's NPI, taxonomy, tax id and address),
 * who sends and receives the 837P (submitter and clearinghouse ids), which payers it bills and
 * under which payer id, and its fee schedule (a charge per HCPCS code: per transport for a base
 * rate, per loaded mile for mileage). Claims are made from these when they are submitted, never
 * from server-wide variables, so two agencies on one server bill under their own NPIs.
 */
import { isValidNpi } from '../integrations/x12/npi.ts';
import { postalStateCode } from '../../shared/nemsis/export/ansi-state-codes.ts';

export interface BillingAddress {
  street: string;
  /** City name (X12 N401), not its GNIS code. */
  city: string;
  /** USPS abbreviation (an ANSI code is converted when saved). */
  state: string;
  /** 5 or 9 digits; payers want the ZIP+4 of the billing provider. */
  zip: string;
}

export interface BillingPayer {
  /** The name the billing record's payer is matched against (case-insensitive), e.g. "Medicare Part B". */
  name: string;
  /** The payer id the clearinghouse routes by (2010BB NM109). */
  payerId: string;
  /** SBR09 claim filing indicator: MB Medicare Part B, MC Medicaid, CI commercial, WC workers' comp, BL Blue Cross, HM HMO, … */
  filingIndicator: string;
}

export interface AgencyBillingSettings {
  /** Billing provider name (2010AA NM103); the agency's name when absent. */
  name?: string;
  /** Billing provider NPI (10 digits with a valid check digit). */
  npi: string;
  /** Provider taxonomy (PRV03), e.g. 3416L0300X Ambulance, Land Transport. */
  taxonomy: string;
  /** Employer identification number (REF*EI), 9 digits. */
  taxId: string;
  address: BillingAddress;
  submitter: { id: string; name: string; contactName: string; phone: string };
  receiver: { id: string; name: string };
  payers: BillingPayer[];
  /** Cents per HCPCS code: per transport for base rates (A0427 …), per loaded mile for mileage (A0425 …). */
  feeSchedule: Record<string, number>;
  /** GNIS city code → city name, for report addresses that hold the NEMSIS code where the claim needs the name. */
  cityNames: Record<string, string>;
  /** ISA15: T while the clearinghouse is testing the agency, P (default) in production. */
  usage: 'P' | 'T';
  /**
   * A transport claim with no patient or representative signature and no crew attestation:
   * `hold` (default: made `held`, not sent, until a biller releases it) or `send` (sent with
   * CLM10 "no signature"; for an agency whose payers accept that, and for tests of other rules).
   */
  unsignedClaims?: 'hold' | 'send';
}

const TAXONOMY = /^[0-9]{3}[0-9A-Z]{6}X$/;
const HCPCS = /^[A-V][0-9]{4}$/;
const FILING = new Set(['11', '12', '13', '14', '15', '16', '17', 'AM', 'BL', 'CH', 'CI', 'DS', 'FI', 'HM', 'LM', 'MA', 'MB', 'MC', 'OF', 'TV', 'VA', 'WC', 'ZZ']);
const X12_ID = /^[A-Za-z0-9 ]{2,15}$/;

/** Checks `billing` of a PUT body; problems are pushed with their path, the settings returned when there were none. */
export function parseBillingSettings(value: unknown, problems: string[]): AgencyBillingSettings | undefined {
  if (value === undefined || value === null) return undefined;
  const before = problems.length;
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const b = obj(value);
  const str = (where: Record<string, unknown>, key: string, path: string, min: number, max: number, pattern?: RegExp, what?: string): string => {
    const v = where[key];
    if (typeof v !== 'string' || v.trim().length < min || v.trim().length > max) {
      problems.push(`${path} is required: text of ${min} to ${max} characters${what ? ` (${what})` : ''}`);
      return '';
    }
    if (pattern && !pattern.test(v.trim())) problems.push(`${path} "${v.trim().slice(0, 40)}" is not ${what}`);
    return v.trim();
  };
  const known = new Set(['name', 'npi', 'taxonomy', 'taxId', 'address', 'submitter', 'receiver', 'payers', 'feeSchedule', 'cityNames', 'usage', 'unsignedClaims']);
  for (const key of Object.keys(b)) if (!known.has(key)) problems.push(`billing.${key} is not a billing setting (known: ${[...known].join(', ')})`);

  const name = b['name'] === undefined ? undefined : str(b, 'name', 'billing.name', 2, 60);
  const npi = str(b, 'npi', 'billing.npi', 10, 10);
  if (npi && !isValidNpi(npi)) problems.push(`billing.npi ${npi} is not a National Provider Identifier: its check digit is wrong (check the number on the NPPES registry)`);
  const taxonomy = str(b, 'taxonomy', 'billing.taxonomy', 10, 10, TAXONOMY, 'a provider taxonomy code like 3416L0300X');
  const taxId = str(b, 'taxId', 'billing.taxId', 9, 10, /^[0-9]{2}-?[0-9]{7}$/, 'a 9-digit employer identification number').replace('-', '');
  const a = obj(b['address']);
  const stateGiven = str(a, 'state', 'billing.address.state', 2, 2);
  const state = stateGiven ? postalStateCode(stateGiven) : undefined;
  if (stateGiven && !state) problems.push(`billing.address.state "${stateGiven}" is not a state`);
  const address: BillingAddress = {
    street: str(a, 'street', 'billing.address.street', 2, 55),
    city: str(a, 'city', 'billing.address.city', 2, 30, /^[^0-9]+$/, 'a city name'),
    state: state ?? '',
    zip: str(a, 'zip', 'billing.address.zip', 5, 10, /^[0-9]{5}(-?[0-9]{4})?$/, 'a ZIP code').replace('-', ''),
  };
  const s = obj(b['submitter']);
  const submitter = {
    id: str(s, 'id', 'billing.submitter.id', 2, 15, X12_ID, 'the submitter id the clearinghouse gave the agency (2-15 letters/digits)'),
    name: str(s, 'name', 'billing.submitter.name', 2, 60),
    contactName: str(s, 'contactName', 'billing.submitter.contactName', 2, 60),
    phone: str(s, 'phone', 'billing.submitter.phone', 10, 14, /^[0-9 ()+-]{10,14}$/, 'a phone number'),
  };
  const r = obj(b['receiver']);
  const receiver = {
    id: str(r, 'id', 'billing.receiver.id', 2, 15, X12_ID, 'the clearinghouse\'s receiver id (2-15 letters/digits)'),
    name: str(r, 'name', 'billing.receiver.name', 2, 60),
  };
  const payers: BillingPayer[] = [];
  if (!Array.isArray(b['payers']) || b['payers'].length === 0 || b['payers'].length > 100) problems.push('billing.payers must list 1 to 100 payers ({ name, payerId, filingIndicator })');
  else b['payers'].forEach((raw: unknown, i: number) => {
    const p = obj(raw);
    const path = `billing.payers[${i}]`;
    const payer = {
      name: str(p, 'name', `${path}.name`, 2, 60),
      payerId: str(p, 'payerId', `${path}.payerId`, 2, 80, /^[A-Za-z0-9]+$/, 'a payer id (letters and digits)'),
      filingIndicator: str(p, 'filingIndicator', `${path}.filingIndicator`, 2, 2),
    };
    if (payer.filingIndicator && !FILING.has(payer.filingIndicator)) problems.push(`${path}.filingIndicator "${payer.filingIndicator}" is not an X12 claim filing indicator code (${[...FILING].join(', ')})`);
    payers.push(payer);
  });
  const feeSchedule: Record<string, number> = {};
  const fees = obj(b['feeSchedule']);
  if (Object.keys(fees).length === 0) problems.push('billing.feeSchedule must give a charge in cents per HCPCS code, e.g. { "A0427": 85000, "A0425": 1500 }');
  for (const [code, cents] of Object.entries(fees)) {
    if (!HCPCS.test(code)) problems.push(`billing.feeSchedule: "${code.slice(0, 20)}" is not a HCPCS code`);
    else if (typeof cents !== 'number' || !Number.isInteger(cents) || cents < 0 || cents > 10_000_000) problems.push(`billing.feeSchedule.${code} must be a whole number of cents (0 to 10000000)`);
    else feeSchedule[code] = cents;
  }
  const cityNames: Record<string, string> = {};
  for (const [gnis, cityName] of Object.entries(obj(b['cityNames']))) {
    if (!/^[1-9][0-9]{0,9}$/.test(gnis) || typeof cityName !== 'string' || cityName.trim().length < 2 || cityName.length > 30) problems.push(`billing.cityNames: "${gnis.slice(0, 12)}" must map a GNIS code to a city name of 2 to 30 characters`);
    else cityNames[gnis] = cityName.trim();
  }
  const usage = b['usage'] ?? 'P';
  if (usage !== 'P' && usage !== 'T') problems.push('billing.usage must be P (production) or T (test)');
  if (problems.length > before) return undefined;
  const unsignedClaims = b['unsignedClaims'];
  if (unsignedClaims !== undefined && unsignedClaims !== 'hold' && unsignedClaims !== 'send') problems.push('billing.unsignedClaims must be hold or send');
  return {
    ...(name ? { name } : {}), npi, taxonomy, taxId, address, submitter, receiver, payers, feeSchedule, cityNames, usage: usage as 'P' | 'T',
    ...(unsignedClaims === 'hold' || unsignedClaims === 'send' ? { unsignedClaims } : {}),
  };
}
