/**
 * NEMSIS 3.5.1 EMSDataSet export of one ePCR (one Header, one PatientCareReport).
 *
 * The mapping below only says which ePCR value feeds which element. Schema order, Not Recorded
 * fill-ins for required elements and omission of empty optional ones come from element-order.ts
 * via group(); lexical conversions and their policy live in values.ts.
 */
import packageJson from '../../../package.json' with { type: 'json' };
import { codeOf } from '../codes.ts';
import type { Epcr } from '../../schemas/index.ts';
import { TRANSPORTED_BY_THIS_UNIT } from '../../domain/epcr-validation.ts';
import { ageFromBirth } from '../../epcr/age.ts';
import { callDay } from '../../epcr/call-day.ts';
import { group, leaf, leaves, NEMSIS_NAMESPACE, optionalGroup, orNotApplicable, withPertinentNegative, XSI_NAMESPACE } from './nemsis-tree.ts';
import { eArrest } from './sections/arrest.ts';
import { eCrew } from './sections/crew.ts';
import { eInjury } from './sections/injury.ts';
import { eOther, type ExportFiles } from './sections/other.ts';
import { eOutcome } from './sections/outcome.ts';
import { eProtocols } from './sections/protocols.ts';
import {
  cityGnisCode, countyCode, dateTime, decimal, gpsLocation, integer, patientsAtSceneCode, phoneNumber, stateCode, text, texts,
} from './values.ts';
import { serializeXml, type XmlElement } from './xml-writer.ts';

export type { ExportFiles } from './sections/other.ts';

export interface NemsisAgency {
  /** dAgency.01 EMS Agency Unique State ID. */
  stateId: string;
  /** dAgency.02 EMS Agency Number; also the fallback for eResponse.01. */
  agencyNumber: string;
  /** dAgency.04: two-digit ANSI state code (a USPS abbreviation is converted). */
  stateCode: string;
  /** eRecord.02-.04; default to this project, since it is the software writing the record. */
  softwareCreator?: string;
  softwareName?: string;
  softwareVersion?: string;
}

/** Thrown when the ePCR lacks values NEMSIS allows no NOT value for; `missing` lists them. */
export class NemsisExportError extends Error {
  constructor(
    message: string,
    readonly missing: readonly string[],
  ) {
    super(message);
    this.name = 'NemsisExportError';
  }
}

const DEFAULT_SOFTWARE = { creator: 'fieldsync', name: 'fieldsync', version: packageJson.version } as const;
const PCR_NUMBER_MAX_LENGTH = 50;
/** eSituation.03 "Chief (Primary)": the ePCR's one complaint field is the chief complaint. */
const COMPLAINT_TYPE_CHIEF = codeOf('eSituation.03', 'Chief (Primary)');
/** eHistory.06 takes RxNorm codes or Z88.x; other allergy codes (SNOMED) belong in eHistory.07. */
const MEDICATION_ALLERGY_CODE = /^(Z88\.[0-9]|[a-zA-Z0-9]{2,7})$/;

type Address = NonNullable<NonNullable<Epcr['scene']>['address']>;
type Vital = NonNullable<Epcr['vitals']>[number];
type Medication = NonNullable<Epcr['medications']>[number];
type Procedure = NonNullable<Epcr['procedures']>[number];

/**
 * Collects Mandatory elements that have no value so the caller hears about all of them at once;
 * the placeholder it returns keeps the tree buildable until the error is thrown.
 */
class MandatoryValues {
  readonly missing: string[] = [];

  leaf(name: string, source: string, value: string | undefined): XmlElement {
    if (value !== undefined) return { name, text: value };
    this.missing.push(`${name} (${source})`);
    return { name, text: '' };
  }
}

/** `files`: the bytes of the report's signatures and of the photos it sends (eOther), by SHA-256. */
export function buildEmsDataSetXml(epcr: Epcr, agency: NemsisAgency, files?: ExportFiles): string {
  const mandatory = new MandatoryValues();
  const header = group('Header', [demographicGroup(agency, mandatory), patientCareReport(epcr, agency, mandatory, files)]);
  if (mandatory.missing.length > 0) {
    throw new NemsisExportError(
      `Cannot export ePCR ${epcr.id} to NEMSIS: mandatory elements have no value: ${mandatory.missing.join(', ')}. ` +
        'NEMSIS allows no "Not Recorded" for these; fill them in and export again.',
      mandatory.missing,
    );
  }
  const root = group('EMSDataSet', [header], { xmlns: NEMSIS_NAMESPACE, 'xmlns:xsi': XSI_NAMESPACE });
  return serializeXml(root);
}

function demographicGroup(agency: NemsisAgency, mandatory: MandatoryValues): XmlElement {
  return group('DemographicGroup', [
    mandatory.leaf('dAgency.01', 'agency.stateId', text(agency.stateId)),
    mandatory.leaf('dAgency.02', 'agency.agencyNumber', text(agency.agencyNumber)),
    mandatory.leaf('dAgency.04', 'agency.stateCode as a 2-digit ANSI code or USPS abbreviation', stateCode(agency.stateCode)),
  ]);
}

function patientCareReport(epcr: Epcr, agency: NemsisAgency, mandatory: MandatoryValues, files: ExportFiles | undefined): XmlElement {
  return group(
    'PatientCareReport',
    [
      eRecord(epcr, agency, mandatory),
      eResponse(epcr, agency, mandatory),
      eDispatch(epcr, mandatory),
      eCrew(epcr),
      eTimes(epcr, mandatory),
      ePatient(epcr),
      ePayment(epcr),
      eScene(epcr),
      eSituation(epcr),
      eInjury(epcr),
      eArrest(epcr),
      eHistory(epcr),
      optionalGroup('eNarrative', [leaf('eNarrative.01', text(epcr.narrative?.text))]),
      group('eVitals', (epcr.vitals ?? []).map(vitalGroup)),
      eProtocols(epcr),
      group('eMedications', (epcr.medications ?? []).map(medicationGroup)),
      group('eProcedures', (epcr.procedures ?? []).map(procedureGroup)),
      eDisposition(epcr, mandatory),
      eOutcome(epcr),
      eOther(epcr, files),
    ],
    { UUID: epcr.id },
  );
}

function eRecord(epcr: Epcr, agency: NemsisAgency, mandatory: MandatoryValues): XmlElement {
  // The document id is a UUID, so it always satisfies the 3-50 character PCR number.
  const pcrNumber = text(epcr.record?.pcrNumber) ?? epcr.id.slice(0, PCR_NUMBER_MAX_LENGTH);
  const software = epcr.record?.software;
  return group('eRecord', [
    mandatory.leaf('eRecord.01', 'record.pcrNumber', pcrNumber),
    group('eRecord.SoftwareApplicationGroup', [
      // An imported report keeps the name of the software that created it; a report written here is this software's.
      mandatory.leaf('eRecord.02', 'agency.softwareCreator', text(software?.creator) ?? text(agency.softwareCreator) ?? DEFAULT_SOFTWARE.creator),
      mandatory.leaf('eRecord.03', 'agency.softwareName', text(software?.name) ?? text(agency.softwareName) ?? DEFAULT_SOFTWARE.name),
      mandatory.leaf('eRecord.04', 'agency.softwareVersion', text(software?.version) ?? text(agency.softwareVersion) ?? DEFAULT_SOFTWARE.version),
    ]),
  ]);
}

function eResponse(epcr: Epcr, agency: NemsisAgency, mandatory: MandatoryValues): XmlElement {
  const response = epcr.response ?? {};
  return group('eResponse', [
    group('eResponse.AgencyGroup', [
      mandatory.leaf('eResponse.01', 'response.agencyNumber', text(response.agencyNumber) ?? text(agency.agencyNumber)),
    ]),
    leaf('eResponse.03', text(response.incidentNumber)),
    leaf('eResponse.04', text(response.responseNumber)),
    group('eResponse.ServiceGroup', [mandatory.leaf('eResponse.05', 'response.serviceType', text(response.serviceType))]),
    mandatory.leaf('eResponse.07', 'response.unitCapability', text(response.unitCapability)),
    leaves('eResponse.08', texts(response.dispatchDelays)),
    leaves('eResponse.09', texts(response.responseDelays)),
    leaves('eResponse.10', texts(response.sceneDelays)),
    leaves('eResponse.11', texts(response.transportDelays)),
    leaves('eResponse.12', texts(response.turnAroundDelays)),
    mandatory.leaf('eResponse.13', 'response.vehicleNumber', text(response.vehicleNumber)),
    mandatory.leaf('eResponse.14', 'response.callSign', text(response.callSign)),
    mandatory.leaf('eResponse.23', 'response.responseMode', text(response.responseMode)),
    leaves('eResponse.24', texts(response.responseModeDescriptors)),
  ]);
}

function eDispatch(epcr: Epcr, mandatory: MandatoryValues): XmlElement {
  const dispatch = epcr.dispatch ?? {};
  return group('eDispatch', [
    mandatory.leaf('eDispatch.01', 'dispatch.reason', text(dispatch.reason)),
    leaf('eDispatch.02', text(dispatch.emdPerformed)),
    leaf('eDispatch.03', text(dispatch.emdDeterminant)),
    leaf('eDispatch.05', text(dispatch.priority)),
    leaf('eDispatch.06', text(dispatch.cadRecordId)),
  ]);
}

function eTimes(epcr: Epcr, mandatory: MandatoryValues): XmlElement {
  const times = epcr.times ?? {};
  // No transport by this unit: no arrival at, or handover at, a destination.
  const transported = transportApplies(epcr);
  return group('eTimes', [
    leaf('eTimes.01', dateTime(times.psapCall)),
    leaf('eTimes.02', dateTime(times.dispatchNotified)),
    mandatory.leaf('eTimes.03', 'times.unitNotified', dateTime(times.unitNotified)),
    leaf('eTimes.04', dateTime(times.dispatchAcknowledged)),
    leaf('eTimes.05', dateTime(times.unitEnRoute)),
    leaf('eTimes.06', dateTime(times.unitOnScene)),
    leaf('eTimes.07', dateTime(times.atPatient)),
    leaf('eTimes.08', dateTime(times.transferOfEmsCare)),
    leaf('eTimes.09', dateTime(times.unitLeftScene)),
    orNotApplicable('eTimes.11', leaf('eTimes.11', dateTime(times.atDestination)), transported),
    orNotApplicable('eTimes.12', leaf('eTimes.12', dateTime(times.transferOfCare)), transported),
    mandatory.leaf('eTimes.13', 'times.backInService', dateTime(times.backInService)),
    leaf('eTimes.14', dateTime(times.unitCanceled)),
    leaf('eTimes.15', dateTime(times.unitBackAtHome)),
    leaf('eTimes.17', dateTime(times.unitArrivedStaging)),
  ]);
}

/**
 * Whether the report's destination elements apply: unless the crew said this unit did not carry
 * the patient (refused, no transport, another unit), they do (and are Not Recorded when blank).
 */
function transportApplies(epcr: Epcr): boolean {
  const transport = text(epcr.disposition?.transportDisposition);
  return transport === undefined || TRANSPORTED_BY_THIS_UNIT.has(transport);
}

/** The age the report states, else the one its date of birth gives on the day of the call (ePatient.15/.16). */
function statedOrDerivedAge(epcr: Epcr): { age?: number | undefined; units?: string | undefined } {
  const patient = epcr.patient ?? {};
  if (patient.age !== undefined) return { age: patient.age, units: patient.ageUnits };
  const derived = ageFromBirth(patient.dateOfBirth, callDay(epcr));
  return derived ? { age: derived.age, units: derived.units } : { units: patient.ageUnits };
}

/** Street with the apartment carried in the StreetAddress2 attribute, as ePatient.05 and eDisposition.03 expect. */
function streetAddress(name: string, address: Address): XmlElement | undefined {
  return leaf(name, text(address.street), { StreetAddress2: text(address.apartment) });
}

function ePatient(epcr: Epcr): XmlElement {
  const patient = epcr.patient ?? {};
  const address = patient.address ?? {};
  const age = statedOrDerivedAge(epcr);
  return group('ePatient', [
    optionalGroup('ePatient.PatientNameGroup', [
      leaf('ePatient.02', text(patient.lastName)),
      leaf('ePatient.03', text(patient.firstName)),
    ]),
    streetAddress('ePatient.05', address),
    leaf('ePatient.06', cityGnisCode(address.city)),
    leaf('ePatient.07', countyCode(address.county)),
    leaf('ePatient.08', stateCode(address.state)),
    leaf('ePatient.09', text(address.zip)),
    leaf('ePatient.13', text(patient.gender)),
    leaves('ePatient.14', texts(patient.race)),
    group('ePatient.AgeGroup', [leaf('ePatient.15', integer(age.age)), leaf('ePatient.16', text(age.units))]),
    leaf('ePatient.17', text(patient.dateOfBirth)),
    leaf('ePatient.18', phoneNumber(patient.phone)),
    leaf('ePatient.25', text(patient.sex)),
  ]);
}

function ePayment(epcr: Epcr): XmlElement {
  const payment = epcr.payment ?? {};
  return group('ePayment', [
    leaf('ePayment.01', text(payment.primaryMethod)),
    optionalGroup('ePayment.InsuranceGroup', [
      leaf('ePayment.10', text(payment.insuranceCompany)),
      // The schema comment says ePayment.19, but that is "Last Name of the Insured"; a member ID is
      // the insurance policy ID number.
      leaf('ePayment.18', text(payment.memberId)),
    ]),
    leaf('ePayment.50', text(payment.serviceLevel)),
  ]);
}

function eScene(epcr: Epcr): XmlElement {
  const scene = epcr.scene ?? {};
  const address = scene.address ?? {};
  return group('eScene', [
    leaf('eScene.01', text(scene.firstOnScene)),
    leaf('eScene.06', patientsAtSceneCode(scene.numberOfPatients)),
    leaf('eScene.07', text(scene.massCasualty)),
    leaf('eScene.08', text(scene.mciTriage)),
    leaf('eScene.09', text(scene.locationType)),
    leaf('eScene.11', gpsLocation(scene.location)),
    leaf('eScene.15', text(address.street)),
    leaf('eScene.16', text(address.apartment)),
    leaf('eScene.17', cityGnisCode(address.city)),
    leaf('eScene.18', stateCode(address.state)),
    leaf('eScene.19', text(address.zip)),
    leaf('eScene.20', text(address.crossStreet)),
    leaf('eScene.21', countyCode(address.county)),
  ]);
}

function eSituation(epcr: Epcr): XmlElement {
  const situation = epcr.situation ?? {};
  const chiefComplaint = text(situation.chiefComplaint);
  return group('eSituation', [
    leaf('eSituation.01', dateTime(situation.onset)),
    leaf('eSituation.02', text(situation.possibleInjury)),
    chiefComplaint === undefined
      ? undefined
      : group('eSituation.PatientComplaintGroup', [leaf('eSituation.03', COMPLAINT_TYPE_CHIEF), leaf('eSituation.04', chiefComplaint)]),
    leaf('eSituation.07', text(situation.complaintLocation)),
    leaf('eSituation.08', text(situation.complaintOrganSystem)),
    leaf('eSituation.09', text(situation.primarySymptom)),
    leaves('eSituation.10', texts(situation.otherSymptoms)),
    leaf('eSituation.11', text(situation.primaryImpression)),
    leaves('eSituation.12', texts(situation.secondaryImpressions)),
    leaf('eSituation.13', text(situation.acuity)),
    leaf('eSituation.18', dateTime(situation.lastKnownWell)),
    leaf('eSituation.20', text(situation.transferReason)),
  ]);
}

function eHistory(epcr: Epcr): XmlElement {
  const history = epcr.history ?? {};
  const allergies = texts(history.allergies);
  return group('eHistory', [
    leaves('eHistory.01', texts(history.barriersToCare)),
    // No allergy listed and the crew's pertinent negative (No Known Drug Allergy, Refused...): written as such.
    allergies.length === 0 ? withPertinentNegative('eHistory.06', undefined, text(history.allergiesPertinentNegative))
      : leaves('eHistory.06', allergies.filter((code) => MEDICATION_ALLERGY_CODE.test(code))),
    leaves('eHistory.07', allergies.filter((code) => !MEDICATION_ALLERGY_CODE.test(code))),
    leaves('eHistory.08', texts(history.medicalHistory)),
    texts(history.currentMedications).map((medication) => group('eHistory.CurrentMedsGroup', [leaf('eHistory.12', medication)])),
    texts(history.alcoholDrugUse).length === 0 ? withPertinentNegative('eHistory.17', undefined, text(history.alcoholDrugUsePertinentNegative))
      : leaves('eHistory.17', texts(history.alcoholDrugUse)),
    leaf('eHistory.19', dateTime(history.lastOralIntake)),
  ]);
}

function vitalGroup(vital: Vital): XmlElement {
  const { gcsEye, gcsVerbal, gcsMotor } = vital;
  const gcsTotal = gcsEye !== undefined && gcsVerbal !== undefined && gcsMotor !== undefined ? gcsEye + gcsVerbal + gcsMotor : vital.gcsTotal;
  return group('eVitals.VitalGroup', [
    leaf('eVitals.01', dateTime(vital.takenAt)),
    leaf('eVitals.02', text(vital.priorToUnit)),
    group('eVitals.CardiacRhythmGroup', [
      leaves('eVitals.03', texts(vital.cardiacRhythm)),
      leaf('eVitals.04', text(vital.ecgType)),
      leaves('eVitals.05', texts(vital.ecgInterpretation)),
    ]),
    group('eVitals.BloodPressureGroup', [leaf('eVitals.06', integer(vital.systolic)), leaf('eVitals.07', integer(vital.diastolic))]),
    group('eVitals.HeartRateGroup', [leaf('eVitals.10', integer(vital.heartRate))]),
    leaf('eVitals.12', integer(vital.spo2)),
    leaf('eVitals.14', integer(vital.respiratoryRate)),
    leaf('eVitals.16', decimal(vital.etco2, 1)),
    leaf('eVitals.18', integer(vital.glucose)),
    group('eVitals.GlasgowScoreGroup', [
      leaf('eVitals.19', integer(gcsEye)),
      leaf('eVitals.20', integer(gcsVerbal)),
      leaf('eVitals.21', integer(gcsMotor)),
      leaves('eVitals.22', texts(vital.gcsQualifiers)),
      leaf('eVitals.23', integer(gcsTotal)),
    ]),
    optionalGroup('eVitals.TemperatureGroup', [leaf('eVitals.24', decimal(vital.temperatureC, 1))]),
    leaf('eVitals.26', text(vital.avpu)),
    group('eVitals.PainScaleGroup', [leaf('eVitals.27', integer(vital.pain))]),
    group('eVitals.StrokeScaleGroup', [leaf('eVitals.29', text(vital.strokeScaleResult)), leaf('eVitals.30', text(vital.strokeScaleType))]),
    leaf('eVitals.31', text(vital.reperfusionChecklist)),
  ]);
}

function medicationGroup(medication: Medication): XmlElement {
  return group('eMedications.MedicationGroup', [
    leaf('eMedications.01', dateTime(medication.givenAt)),
    leaf('eMedications.02', text(medication.priorToUnit)),
    withPertinentNegative('eMedications.03', text(medication.medication), text(medication.pertinentNegative)),
    leaf('eMedications.04', text(medication.route)),
    group('eMedications.DosageGroup', [
      leaf('eMedications.05', decimal(medication.dose, 3)),
      leaf('eMedications.06', text(medication.doseUnit)),
    ]),
    leaf('eMedications.07', text(medication.response)),
    leaf('eMedications.08', text(medication.complication)),
    leaf('eMedications.10', text(medication.performerRole)),
  ]);
}

function procedureGroup(procedure: Procedure): XmlElement {
  return group('eProcedures.ProcedureGroup', [
    leaf('eProcedures.01', dateTime(procedure.performedAt)),
    leaf('eProcedures.02', text(procedure.priorToUnit)),
    withPertinentNegative('eProcedures.03', text(procedure.procedure), text(procedure.pertinentNegative)),
    leaf('eProcedures.05', integer(procedure.attempts)),
    leaf('eProcedures.06', text(procedure.successful)),
    leaves('eProcedures.07', texts(procedure.complications)),
    leaf('eProcedures.08', text(procedure.response)),
    leaf('eProcedures.10', text(procedure.performerRole)),
  ]);
}

function eDisposition(epcr: Epcr, mandatory: MandatoryValues): XmlElement {
  const disposition = epcr.disposition ?? {};
  const destination = disposition.destinationAddress ?? {};
  const preArrivalAlert = text(disposition.preArrivalAlert);
  const preArrivalAlertAt = dateTime(disposition.preArrivalAlertAt);
  // Where and how the patient was carried: Not Applicable when this unit did not carry them.
  const transported = transportApplies(epcr);
  const one = (name: string, value: string | undefined) => orNotApplicable(name, leaf(name, value), transported);
  const many = (name: string, values: readonly string[] | undefined) => orNotApplicable(name, leaves(name, texts(values)), transported);
  return group('eDisposition', [
    group('eDisposition.DestinationGroup', [
      leaf('eDisposition.01', text(disposition.destinationName)),
      leaf('eDisposition.02', text(disposition.destinationCode)),
      streetAddress('eDisposition.03', destination),
      leaf('eDisposition.04', cityGnisCode(destination.city)),
      one('eDisposition.05', stateCode(destination.state)),
      one('eDisposition.06', countyCode(destination.county)),
      one('eDisposition.07', text(destination.zip)),
    ]),
    group('eDisposition.IncidentDispositionGroup', [
      mandatory.leaf('eDisposition.27', 'disposition.unitDisposition', text(disposition.unitDisposition)),
      leaf('eDisposition.28', text(disposition.patientEvaluationCare)),
      leaf('eDisposition.29', text(disposition.crewDisposition)),
      leaf('eDisposition.30', text(disposition.transportDisposition)),
    ]),
    one('eDisposition.16', text(disposition.transportMethod)),
    one('eDisposition.17', text(disposition.transportMode)),
    many('eDisposition.18', disposition.transportModeDescriptors),
    leaf('eDisposition.19', text(disposition.releaseAcuity)),
    many('eDisposition.20', disposition.destinationReasons),
    one('eDisposition.21', text(disposition.destinationType)),
    one('eDisposition.22', text(disposition.inpatientDestination)),
    many('eDisposition.23', disposition.hospitalCapabilities),
    optionalGroup('eDisposition.HospitalTeamActivationGroup', [
      leaf('eDisposition.24', preArrivalAlert),
      leaf('eDisposition.25', preArrivalAlertAt),
    ]),
    leaf('eDisposition.32', text(disposition.levelOfCare)),
  ]);
}
