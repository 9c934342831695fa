/**
 * One ambulance claim as an ASC X12 837P (005010X222A1) interchange: ISA/GS/ST envelope, BHT,
 * 1000A submitter, 1000B receiver, 2000A/2010AA billing provider (NPI, taxonomy PRV, tax id),
 * 2000B/2010BA subscriber (the patient), 2010BB payer, 2300 claim (CLM with place of service
 * 41 ambulance-land or 42 ambulance-air/water and the frequency code, accident date, PCS
 * paperwork, CR1 ambulance transport, CRC ambulance certification, HI diagnoses), 2310E pick-up
 * and 2310F drop-off locations, 2400 lines (SV1 with HCPCS and the origin/destination modifier,
 * charge, units, service date) and SE/GE/IEA with their counts.
 *
 * The input is plain data (claim-input.ts makes it from the documents); this file only knows the
 * implementation guide. Why hand-written: no X12 library is reachable from this project's package
 * registry lists (node-x12 is not among them; the one X12 package there, @stedi/x12-tools, is
 * undocumented), and the segments an ambulance claim needs are few. validate-837p.ts checks the
 * output against the guide's structure; the claim workflow refuses to send a file that fails it.
 */
import { COMPONENT, digits, fixed, money, render, REPETITION, x12Decimal, x12Text, type Segment } from './syntax.ts';

export interface X12Address {
  street: string;
  city: string;
  /** USPS state abbreviation. */
  state: string;
  zip: string;
}

export type PatientSignature = 'signed' | 'representative' | 'provider' | 'none';

export interface Claim837Line {
  /** HCPCS Level II code (A0427, A0425, …). */
  hcpcs: string;
  /** Two-letter origin/destination modifier first, then any others (QM, QN, GM, …); at most 4. */
  modifiers: string[];
  chargeCents: number;
  /** 1 for a base rate; loaded miles (to 0.1) on a mileage line. */
  units: number;
}

export interface Claim837Input {
  control: {
    /** ISA13, 9 digits; the same claim file keeps the same number, so a resend is recognised as a duplicate. */
    interchange: string;
    /** ST02, 4–9 characters. */
    transactionSet: string;
    /** When the file was made, in the agency's local time (ISA09/ISA10, GS04/GS05, BHT04/BHT05). */
    createdAt: { date: string; time: string };
    /** ISA15: P production, T test. */
    usage: 'P' | 'T';
  };
  submitter: { id: string; name: string; contactName: string; phone: string };
  receiver: { id: string; name: string };
  billingProvider: { name: string; npi: string; taxonomy: string; taxId: string; address: X12Address };
  subscriber: { lastName: string; firstName?: string; memberId: string; dateOfBirth?: string; sex: 'M' | 'F' | 'U'; address?: X12Address; groupNumber?: string };
  payer: { name: string; id: string; filingIndicator: string };
  claim: {
    /** CLM01, at most 20 characters; the clearinghouse's 277CA answers with it. */
    patientControlNumber: string;
    frequencyCode: '1' | '7' | '8';
    placeOfService: '41' | '42';
    /** The payer's claim number of the claim a replacement/void corrects (REF*F8). */
    payerClaimNumber?: string;
    serviceDate: string;
    patientSignature: PatientSignature;
    accident?: { cause: 'AA' | 'OA' | 'EM'; date: string; state?: string };
    ambulance: { weightLbs?: number; transportReason: 'A' | 'B' | 'C' | 'D' | 'E'; miles: number; roundTripPurpose?: string; stretcherPurpose?: string };
    /** CRC*07: whether the ambulance certification conditions are met, and which (01, 04, 05, 06, 07, 08, 09, 12). */
    certification: { met: boolean; conditionCodes: string[] };
    /** A physician certification statement (the ambulance CMN) is on file at the provider: PWK*AM*AA. */
    pcsOnFile: boolean;
    /** ICD-10-CM, principal first, with or without the dot. */
    diagnoses: string[];
    pickup: X12Address;
    dropoff: X12Address & { name?: string };
  };
  lines: Claim837Line[];
}

const yymmdd = (date: string) => date.replace(/-/g, '').slice(2);
const ccyymmdd = (date: string) => date.replace(/-/g, '');

/** The whole interchange, one segment per line (segment terminator `~` then a newline, which receivers ignore). */
export function build837p(input: Claim837Input): string {
  const { control, claim } = input;
  const isa: Segment = ['ISA', '00', fixed('', 10), '00', fixed('', 10), 'ZZ', fixed(x12Text(input.submitter.id, 15), 15), 'ZZ', fixed(x12Text(input.receiver.id, 15), 15),
    yymmdd(control.createdAt.date), control.createdAt.time, REPETITION, '00501', control.interchange, '0', control.usage, COMPONENT];
  const gs: Segment = ['GS', 'HC', x12Text(input.submitter.id, 15), x12Text(input.receiver.id, 15), ccyymmdd(control.createdAt.date), control.createdAt.time,
    groupControlNumber(control.interchange), 'X', '005010X222A1'];
  const body = transactionSet(input);
  const st: Segment = ['ST', '837', control.transactionSet, '005010X222A1'];
  const se: Segment = ['SE', String(body.length + 2), control.transactionSet];
  const ge: Segment = ['GE', '1', groupControlNumber(control.interchange)];
  const iea: Segment = ['IEA', '1', control.interchange];
  return [isa, gs, st, ...body, se, ge, iea].map(render).join('\n') + '\n';
}

/** GS06: the interchange number without leading zeros (1–9 digits). */
function groupControlNumber(interchange: string): string {
  return String(Number(interchange));
}

function addressSegments(address: X12Address): Segment[] {
  return [
    ['N3', x12Text(address.street, 55)],
    ['N4', x12Text(address.city, 30), x12Text(address.state, 2), digits(address.zip).slice(0, 9)],
  ];
}

function transactionSet(input: Claim837Input): Segment[] {
  const { claim, billingProvider: bp, subscriber: sub, payer } = input;
  const out: Segment[] = [];
  out.push(['BHT', '0019', '00', x12Text(claim.patientControlNumber, 30), ccyymmdd(input.control.createdAt.date), input.control.createdAt.time, 'CH']);
  // 1000A submitter, 1000B receiver.
  out.push(['NM1', '41', '2', x12Text(input.submitter.name, 60), '', '', '', '', '46', x12Text(input.submitter.id, 80)]);
  out.push(['PER', 'IC', x12Text(input.submitter.contactName, 60), 'TE', digits(input.submitter.phone)]);
  out.push(['NM1', '40', '2', x12Text(input.receiver.name, 60), '', '', '', '', '46', x12Text(input.receiver.id, 80)]);
  // 2000A billing provider: the agency, by NPI; PRV carries its taxonomy (3416L0300X land ambulance).
  out.push(['HL', '1', '', '20', '1']);
  out.push(['PRV', 'BI', 'PXC', x12Text(bp.taxonomy, 10)]);
  out.push(['NM1', '85', '2', x12Text(bp.name, 60), '', '', '', '', 'XX', bp.npi]);
  out.push(...addressSegments(bp.address));
  out.push(['REF', 'EI', digits(bp.taxId)]);
  // 2000B subscriber (the patient is the insured: SBR02 18 self, no 2000C loop).
  out.push(['HL', '2', '1', '22', '0']);
  out.push(['SBR', 'P', '18', x12Text(sub.groupNumber, 50), '', '', '', '', '', payer.filingIndicator]);
  out.push(['NM1', 'IL', '1', x12Text(sub.lastName, 60), x12Text(sub.firstName, 35), '', '', '', 'MI', x12Text(sub.memberId, 80)]);
  if (sub.address) out.push(...addressSegments(sub.address));
  if (sub.dateOfBirth) out.push(['DMG', 'D8', ccyymmdd(sub.dateOfBirth), sub.sex]);
  out.push(['NM1', 'PR', '2', x12Text(payer.name, 60), '', '', '', '', 'PI', x12Text(payer.id, 80)]);
  // 2300 claim.
  const total = input.lines.reduce((sum, line) => sum + line.chargeCents, 0);
  const signature = SIGNATURE[claim.patientSignature];
  const related = claim.accident ? [claim.accident.cause, '', '', claim.accident.cause === 'AA' ? x12Text(claim.accident.state, 2) : ''].join(COMPONENT).replace(/:+$/, '') : '';
  out.push(['CLM', x12Text(claim.patientControlNumber, 20), money(total), '', '', [claim.placeOfService, 'B', claim.frequencyCode].join(COMPONENT),
    'Y', 'A', signature.assignment, signature.release, signature.source, related]);
  if (claim.accident) out.push(['DTP', '439', 'D8', ccyymmdd(claim.accident.date)]);
  if (claim.pcsOnFile) out.push(['PWK', 'AM', 'AA']);
  if (claim.payerClaimNumber && claim.frequencyCode !== '1') out.push(['REF', 'F8', x12Text(claim.payerClaimNumber, 50)]);
  const amb = claim.ambulance;
  out.push(['CR1', amb.weightLbs !== undefined ? 'LB' : '', amb.weightLbs !== undefined ? x12Decimal(Math.round(amb.weightLbs)) : '', '', amb.transportReason, 'DH', x12Decimal(amb.miles),
    '', '', x12Text(amb.roundTripPurpose, 80), x12Text(amb.stretcherPurpose, 80)]);
  out.push(['CRC', '07', claim.certification.met ? 'Y' : 'N', ...claim.certification.conditionCodes.slice(0, 5)]);
  out.push(['HI', ...claim.diagnoses.slice(0, 12).map((code, i) => `${i === 0 ? 'ABK' : 'ABF'}${COMPONENT}${code.replace('.', '').toUpperCase()}`)]);
  // 2310E ambulance pick-up location, 2310F ambulance drop-off location.
  out.push(['NM1', 'PW', '2']);
  out.push(...addressSegments(claim.pickup));
  out.push(['NM1', '45', '2', x12Text(claim.dropoff.name, 60)]);
  out.push(...addressSegments(claim.dropoff));
  // 2400 service lines: each points at the principal diagnosis (and the next three, when there are).
  const pointers = claim.diagnoses.slice(0, 4).map((_, i) => String(i + 1)).join(COMPONENT);
  input.lines.forEach((line, i) => {
    out.push(['LX', String(i + 1)]);
    out.push(['SV1', ['HC', line.hcpcs, ...line.modifiers.slice(0, 4)].join(COMPONENT), money(line.chargeCents), 'UN', x12Decimal(line.units), '', '', pointers]);
    out.push(['DTP', '472', 'D8', ccyymmdd(claim.serviceDate)]);
  });
  return out;
}

/**
 * CLM08 benefits assignment, CLM09 release of information, CLM10 patient signature source. A
 * patient (or representative) signature authorises both; where the patient could not sign and the
 * crew documented why, the provider signs for the patient (42 CFR 424.36(b)): CLM10 P; without
 * any signature, benefits are not assigned and the release is "informed consent" only.
 */
const SIGNATURE: Record<PatientSignature, { assignment: string; release: string; source: string }> = {
  signed: { assignment: 'Y', release: 'Y', source: '' },
  representative: { assignment: 'Y', release: 'Y', source: '' },
  provider: { assignment: 'Y', release: 'I', source: 'P' },
  none: { assignment: 'N', release: 'I', source: '' },
};
