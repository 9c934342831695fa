/**
 * What an ePCR must contain before it can be locked, as field-level problems the crew can act
 * on (`path` is the ePCR field to fix). Pure: no I/O, no clock; the finalize workflow calls it on
 * the stored report inside the write that either locks it or sends it back to draft.
 *
 * Covered:
 * - NEMSIS 3.5.1 Mandatory elements (no NOT value allowed; the export cannot be made without
 *   them, ems-domain §1.4): eResponse.05/.07/.13/.14/.23, eDispatch.01, eTimes.03, eTimes.13,
 *   eDisposition.27.
 * - When the crew made patient contact: patient name, date of birth or age (with units), chief
 *   complaint, at least one set of vitals with a measurement, transport disposition.
 * - When this unit transported: destination, destination type, arrival at destination, and what
 *   billing needs (CMS service level, loaded miles, pickup ZIP) (ems-domain §4).
 * - Every coded field holds a code of its NEMSIS element (shared/epcr/coded-fields.ts: the XSD's
 *   enumeration, or the form of an ICD-10-CM/RxNorm/SNOMED CT code), and the CAD/crew times must not run backwards (national Schematron time rules).
 * - No recorded time in the future (beyond the Schematron's hour of slack) and no date of birth
 *   after the day of the call; the clock is the caller's (`context.now`), so this stays pure.
 * - An addendum needs a reason and must amend a locked report.
 * - A refusal (eDisposition.28 refused care, eDisposition.30 refused transport) needs its statement
 *   and the patient's and a witness's signatures, or a crew member's signed attestation of why
 *   not (signatures.ts); every signature's NEMSIS codes (eOther.12–.15) are codes of the XSD.
 */
import { callDay } from '../epcr/call-day.ts';
import { codedFieldProblems, codeProblemWords } from '../epcr/coded-fields.ts';
import { codeOf, codesOf } from '../nemsis/codes.ts';
import { formFieldOf } from '../nemsis/form-fields.ts';
import { holdsBothVersions, openConflicts } from '../merge/index.ts';
import { crewAttestation, isRefusal, patientSignature, witnessSignature } from './signatures.ts';
import { isCodeOf } from '../nemsis/codes.ts';
import { listedAttachments } from '../schemas/attachments.ts';
import type { Epcr } from '../schemas/index.ts';

export interface FinalizeProblem {
  /** Dotted path of the ePCR field to fix, e.g. `patient.lastName`. */
  path: string;
  message: string;
}

export interface FinalizeContext {
  /** For an addendum: the report it amends, as stored (undefined when not found). */
  original?: Epcr | undefined;
  /** The server's clock (epoch ms), for times in the future; without it they are not checked. */
  now?: number | undefined;
}

/**
 * How far past the server's clock a recorded time may lie: the national Schematron's own slack
 * (nemSch_e056: eTimes.13 "should not be in the future", current time + PT1H). Applied to every
 * time of the report, since none can be of something that has not happened; the device refuses
 * a typed time past its own clock + 5 minutes (client/ui/time-range.ts), so this catches stamps
 * from a device whose clock is off, and times written by an older app.
 */
export const FUTURE_TIME_SLACK_MS = 3_600_000;

/** eDisposition.27 values meaning no patient was seen: no patient section, no vitals needed (codes by their XSD labels). */
export const NO_PATIENT_UNIT_DISPOSITIONS: ReadonlySet<string> = new Set(codesOf('eDisposition.27', [
  'Cancelled on Scene', 'Cancelled Prior to Arrival at Scene', 'No Patient Contact', 'No Patient Found', 'Non-Patient Incident (Not Otherwise Listed)',
]));
export const PATIENT_CONTACT_MADE = codeOf('eDisposition.27', 'Patient Contact Made');

/** eDisposition.30 values where this unit carried the patient (so a destination and billing apply). */
export const TRANSPORTED_BY_THIS_UNIT: ReadonlySet<string> = new Set(codesOf('eDisposition.30', [
  'Transport by This EMS Unit (This Crew Only)', 'Transport by This EMS Unit, with a Member of Another Crew',
]));

/** ePayment.50 Paramedic Intercept: the intercepting unit did not transport, so no mileage is billed. */
const PARAMEDIC_INTERCEPT = codeOf('ePayment.50', 'Paramedic Intercept');

/** eTimes in the order they happen; each must not be earlier than any recorded one before it. */
const TIME_ORDER: readonly (readonly [keyof NonNullable<Epcr['times']>, string])[] = [
  ['psapCall', 'PSAP call'],
  ['dispatchNotified', 'dispatch notified'],
  ['unitNotified', 'unit notified by dispatch'],
  ['dispatchAcknowledged', 'dispatch acknowledged'],
  ['unitEnRoute', 'unit en route'],
  ['unitOnScene', 'unit arrived on scene'],
  ['atPatient', 'arrived at patient'],
  ['unitLeftScene', 'unit left scene'],
  ['atDestination', 'patient arrived at destination'],
  ['transferOfCare', 'destination transfer of care'],
  ['backInService', 'unit back in service'],
];

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

export function validateEpcrForFinalize(epcr: Epcr, context: FinalizeContext = {}): FinalizeProblem[] {
  const problems: FinalizeProblem[] = [];
  const need = (path: string, value: unknown, message: string) => {
    if (blank(value)) problems.push({ path, message });
  };

  // Nothing locks while a value written on another device is waiting for the crew's choice (issue 14, defect 5).
  problems.push(...conflictProblems(epcr));
  if (epcr.addendumOf !== undefined) return validateAddendum(epcr, context, need, problems);

  const response = epcr.response ?? {};
  need('response.serviceType', response.serviceType, 'Type of service requested (eResponse.05) is required to finalize');
  need('response.unitCapability', response.unitCapability, 'Unit transport and equipment capability (eResponse.07) is required to finalize');
  need('response.vehicleNumber', response.vehicleNumber, 'EMS vehicle (unit) number (eResponse.13) is required to finalize');
  need('response.callSign', response.callSign, 'EMS unit call sign (eResponse.14) is required to finalize');
  need('response.responseMode', response.responseMode, 'Response mode to scene (eResponse.23) is required to finalize');
  need('dispatch.reason', epcr.dispatch?.reason, 'Dispatch reason (eDispatch.01) is required to finalize');

  const times = epcr.times ?? {};
  need('times.unitNotified', times.unitNotified, 'Time the unit was notified by dispatch (eTimes.03) is required to finalize');
  need('times.backInService', times.backInService, 'Time the unit was back in service (eTimes.13) is required to finalize');

  const disposition = epcr.disposition ?? {};
  const unitDisposition = disposition.unitDisposition;
  need('disposition.unitDisposition', unitDisposition, 'Unit disposition (eDisposition.27) is required to finalize');

  // Unless the disposition says no patient was seen, the patient part must be documented.
  const patientSeen = !NO_PATIENT_UNIT_DISPOSITIONS.has(unitDisposition ?? '');
  if (patientSeen) {
    const patient = epcr.patient ?? {};
    need('patient.lastName', patient.lastName, 'Patient last name is required to finalize');
    need('patient.firstName', patient.firstName, 'Patient first name is required to finalize');
    if (blank(patient.dateOfBirth) && patient.age === undefined) {
      problems.push({ path: 'patient.dateOfBirth', message: 'Patient date of birth or age is required to finalize' });
    }
    if (patient.age !== undefined) need('patient.ageUnits', patient.ageUnits, 'Units of the patient age (years, months, ...) are required with the age');
    need('situation.chiefComplaint', epcr.situation?.chiefComplaint, 'Chief complaint is required to finalize');
    const measured = (epcr.vitals ?? []).some((vital) => Object.entries(vital).some(([key, value]) => key !== 'id' && key !== 'takenAt' && value !== undefined));
    if (!measured) problems.push({ path: 'vitals', message: 'At least one set of vital signs is required to finalize when a patient was seen' });
    need('disposition.transportDisposition', disposition.transportDisposition, 'Transport disposition (eDisposition.30) is required when the crew made patient contact');
  }

  const transportDisposition = disposition.transportDisposition;
  if (TRANSPORTED_BY_THIS_UNIT.has(transportDisposition ?? '')) {
    if (blank(disposition.destinationName) && blank(disposition.destinationCode)) {
      problems.push({ path: 'disposition.destinationName', message: 'Destination is required when this unit transported the patient' });
    }
    need('disposition.destinationType', disposition.destinationType, 'Type of destination (eDisposition.21) is required when this unit transported the patient');
    need('times.atDestination', times.atDestination, 'Time the patient arrived at the destination (eTimes.11) is required when this unit transported the patient');
    need('payment.serviceLevel', epcr.payment?.serviceLevel, 'CMS service level (ePayment.50) is required to bill the transport');
    if (disposition.loadedMiles === undefined && epcr.payment?.serviceLevel !== PARAMEDIC_INTERCEPT) problems.push({ path: 'disposition.loadedMiles', message: 'Loaded miles are required to bill the transport' });
    need('scene.address.zip', epcr.scene?.address?.zip, 'Pickup (scene) ZIP code is required to bill the transport');
  }
  checkCodes(epcr, problems);
  checkSignatures(epcr, problems);
  checkTimeOrder(times, problems);
  checkNotInFuture(epcr, context.now, problems);
  return problems;
}

function validateAddendum(
  epcr: Epcr,
  context: FinalizeContext,
  need: (path: string, value: unknown, message: string) => void,
  problems: FinalizeProblem[],
): FinalizeProblem[] {
  need('addendumReason', epcr.addendumReason, 'The reason for the addendum is required to finalize it');
  if (!context.original) {
    problems.push({ path: 'addendumOf', message: 'The report this addendum amends was not found' });
  } else if (!context.original.lockedAt) {
    problems.push({ path: 'addendumOf', message: 'Only a locked report can be amended; finalize the original report instead' });
  }
  checkCodes(epcr, problems);
  checkTimeOrder(epcr.times ?? {}, problems);
  checkNotInFuture(epcr, context.now, problems);
  return problems;
}

/**
 * Every coded field holds a code of its NEMSIS element (enumerated by the XSD, or of the form the
 * element's code system takes): a value an older app wrote as free text, or a CAD's own text,
 * would fail the XSD or the national Schematron at export.
 */
function checkCodes(epcr: Epcr, problems: FinalizeProblem[]): void {
  for (const found of codedFieldProblems(epcr)) {
    // Said with the form's own label for the field, as the export check says its problems (epcr-export-check.ts).
    const field = formFieldOf(epcr, found.element, undefined, found.values[0]);
    const message = field?.path === found.path ? `${field.label}: ${codeProblemWords(found)}` : found.message;
    problems.push({ path: found.path, message });
  }
}

function checkTimeOrder(times: NonNullable<Epcr['times']>, problems: FinalizeProblem[]): void {
  let latest: { at: number; label: string; value: string } | undefined;
  for (const [key, label] of TIME_ORDER) {
    const value = times[key];
    if (blank(value)) continue;
    const at = Date.parse(value!);
    if (Number.isNaN(at)) continue;
    if (latest && at < latest.at) {
      problems.push({ path: `times.${key}`, message: `Time ${label} (${value}) is before ${latest.label} (${latest.value})` });
      continue;
    }
    latest = { at, label, value: value! };
  }
}

/** Every recorded time of the report, by the path the form names it with. */
function recordedTimes(epcr: Epcr): [string, string][] {
  const out: [string, string][] = [];
  const add = (path: string, value: string | undefined) => {
    if (!blank(value)) out.push([path, value!]);
  };
  for (const [key, value] of Object.entries(epcr.times ?? {})) add(`times.${key}`, value as string | undefined);
  add('situation.onset', epcr.situation?.onset);
  add('situation.lastKnownWell', epcr.situation?.lastKnownWell);
  add('history.lastOralIntake', epcr.history?.lastOralIntake);
  for (const v of epcr.vitals ?? []) add(`vitals[${v.id}].takenAt`, v.takenAt);
  for (const m of epcr.medications ?? []) add(`medications[${m.id}].givenAt`, m.givenAt);
  for (const p of epcr.procedures ?? []) add(`procedures[${p.id}].performedAt`, p.performedAt);
  return out;
}

/** Times after the server's clock (plus the Schematron's hour), and a birth after the call's day. */
function checkNotInFuture(epcr: Epcr, now: number | undefined, problems: FinalizeProblem[]): void {
  if (now === undefined) return;
  for (const [path, value] of recordedTimes(epcr)) {
    const at = Date.parse(value);
    if (!Number.isNaN(at) && at > now + FUTURE_TIME_SLACK_MS) {
      problems.push({ path, message: `This time (${value}) is in the future: check the date` });
    }
  }
  const dob = epcr.patient?.dateOfBirth;
  if (!blank(dob)) {
    // A date without a zone: compared with the call's day as the crew recorded it (the tablet's
    // recipe), or with the latest calendar day anywhere now (UTC+14) for a report without times.
    const day = callDay(epcr) ?? new Date(now + 14 * 3_600_000).toISOString().slice(0, 10);
    if (dob! > day) problems.push({ path: 'patient.dateOfBirth', message: `Date of birth ${dob} is after the day of the call (${day}): check the year` });
  }
}

/**
 * Open conflicts (two devices wrote one field; shared/merge keeps the losing value) and free text
 * still holding two marked versions: each must be chosen or combined before the report locks, so
 * no value is locked away unseen and no merge marker reaches the export.
 */
export function conflictProblems(epcr: Epcr): FinalizeProblem[] {
  const problems: FinalizeProblem[] = [];
  const seen = new Set<string>();
  for (const entry of openConflicts(epcr)) {
    if (seen.has(entry.path)) continue;
    seen.add(entry.path);
    problems.push({ path: entry.path, message: 'Two different values were written here on two devices: choose one or combine them under "Conflicts to resolve" before finalizing' });
  }
  if (!seen.has('narrative.text') && holdsBothVersions(epcr.narrative?.text)) {
    problems.push({ path: 'narrative.text', message: 'The narrative still holds two versions between <<<<<<< and >>>>>>> markers: keep one or combine them before finalizing' });
  }
  return problems;
}

/** The refusal rule, and the NEMSIS codes of every signature (eOther.12–.15). */
function checkSignatures(epcr: Epcr, problems: FinalizeProblem[]): void {
  if (isRefusal(epcr)) {
    if (blank(epcr.refusal?.statement)) problems.push({ path: 'refusal.statement', message: 'A refusal needs its statement: what the patient was told of the risks of refusing' });
    if (!crewAttestation(epcr)) {
      if (!patientSignature(epcr)) problems.push({ path: 'attachments', message: 'A refusal needs the patient\'s signature, or a crew member\'s signed attestation of why the patient could not sign' });
      if (!witnessSignature(epcr)) problems.push({ path: 'attachments', message: 'A refusal needs a witness\'s signature, or a crew member\'s signed attestation of why none could be had' });
    }
  }
  for (const attachment of listedAttachments(epcr as Record<string, unknown>)) {
    const where = `attachments[${attachment.sha256}]`;
    const signature = attachment.signature;
    const wrong = (element: string, value: string | undefined, field: string) => {
      if (value !== undefined && !isCodeOf(element, value)) problems.push({ path: `${where}.signature.${field}`, message: `"${value}" is not a code of ${element}` });
    };
    if (signature) {
      wrong('eOther.12', signature.signerType, 'signerType');
      for (const reason of signature.reasons ?? []) wrong('eOther.13', reason, 'reasons');
      wrong('eOther.14', signature.representativeType, 'representativeType');
      wrong('eOther.15', signature.status, 'status');
    }
    if (attachment.attestation && !isCodeOf('eOther.15', attachment.attestation.status)) {
      problems.push({ path: `${where}.attestation.status`, message: `"${attachment.attestation.status}" is not a code of eOther.15 (why the patient did not sign)` });
    }
  }
}
