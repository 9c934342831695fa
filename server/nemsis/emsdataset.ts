/**
 * NEMSIS 3.5.1 EMSDataSet export of one ePCR (one Header, one PatientCareReport).
 *
 * The mapping below only says which ePCR value feeds which element. Schema order, Not Recorded
 * fill-ins for required elements and omission of empty optional ones come from element-order.ts
 * via group(); lexical conversions and their policy live in values.ts.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { codeOf } from '../../shared/nemsis/codes.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { group, leaf, leaves, NEMSIS_NAMESPACE, optionalGroup, XSI_NAMESPACE } from './nemsis-tree.ts';
import {
  cityGnisCode, countyCode, dateTime, decimal, gpsLocation, integer, patientsAtSceneCode, phoneNumber, stateCode, text, texts,
} from './values.ts';
import { serializeXml, type XmlElement } from './xml-writer.ts';

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

export function buildEmsDataSetXml(epcr: Epcr, agency: NemsisAgency): string {
  const mandatory = new MandatoryValues();
  const header = group('Header', [demographicGroup(agency, mandatory), patientCareReport(epcr, agency, mandatory)]);
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

function patientCareReport(epcr: Epcr, agency: NemsisAgency, mandatory: MandatoryValues): XmlElement {
  return group(
    'PatientCareReport',
    [
      eRecord(epcr, agency, mandatory),
      eResponse(epcr, agency, mandatory),
      eDispatch(epcr, mandatory),
      eTimes(epcr, mandatory),
      ePatient(epcr),
      ePayment(epcr),
      eScene(epcr),
      eSituation(epcr),
      group('eInjury', []),
      group('eArrest', []),
      eHistory(epcr),
      optionalGroup('eNarrative', [leaf('eNarrative.01', text(epcr.narrative?.text))]),
      group('eVitals', (epcr.vitals ?? []).map(vitalGroup)),
      group('eProtocols', []),
      group('eMedications', (epcr.medications ?? []).map(medicationGroup)),
      group('eProcedures', (epcr.procedures ?? []).map(procedureGroup)),
      eDisposition(epcr, mandatory),
      // Hospital outcome data arrives after the EMS encounter; at export time it is all Not Recorded.
      group('eOutcome', []),
    ],
    { UUID: epcr.id },
  );
}

function eRecord(epcr: Epcr, agency: NemsisAgency, mandatory: MandatoryValues): XmlElement {
  // The document id is a UUID, so it always satisfies the 3-50 character PCR number.
  const pcrNumber = text(epcr.record?.pcrNumber) ?? epcr.id.slice(0, PCR_NUMBER_MAX_LENGTH);
  return group('eRecord', [
    mandatory.leaf('eRecord.01', 'record.pcrNumber', pcrNumber),
    group('eRecord.SoftwareApplicationGroup', [
      mandatory.leaf('eRecord.02', 'agency.softwareCreator', text(agency.softwareCreator) ?? DEFAULT_SOFTWARE.creator),
      mandatory.leaf('eRecord.03', 'agency.softwareName', text(agency.softwareName) ?? DEFAULT_SOFTWARE.name),
      mandatory.leaf('eRecord.04', 'agency.softwareVersion', text(agency.softwareVersion) ?? DEFAULT_SOFTWARE.version),
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
    mandatory.leaf('eResponse.13', 'response.vehicleNumber', text(response.vehicleNumber)),
    mandatory.leaf('eResponse.14', 'response.callSign', text(response.callSign)),
    mandatory.leaf('eResponse.23', 'response.responseMode', text(response.responseMode)),
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
    leaf('eTimes.11', dateTime(times.atDestination)),
    leaf('eTimes.12', dateTime(times.transferOfCare)),
    mandatory.leaf('eTimes.13', 'times.backInService', dateTime(times.backInService)),
    leaf('eTimes.14', dateTime(times.unitCanceled)),
  ]);
}

/** Street with the apartment carried in the StreetAddress2 attribute, as ePatient.05 and eDisposition.03 expect. */
function streetAddress(name: string, address: Address): XmlElement | undefined {
  return leaf(name, text(address.street), { StreetAddress2: text(address.apartment) });
}

function ePatient(epcr: Epcr): XmlElement {
  const patient = epcr.patient ?? {};
  const address = patient.address ?? {};
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
    leaves('ePatient.14', texts(patient.race)),
    group('ePatient.AgeGroup', [leaf('ePatient.15', integer(patient.age)), leaf('ePatient.16', text(patient.ageUnits))]),
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
    leaf('eScene.06', patientsAtSceneCode(scene.numberOfPatients)),
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
    leaf('eSituation.09', text(situation.primarySymptom)),
    leaf('eSituation.11', text(situation.primaryImpression)),
    leaves('eSituation.12', texts(situation.secondaryImpressions)),
    leaf('eSituation.13', text(situation.acuity)),
    leaf('eSituation.18', dateTime(situation.lastKnownWell)),
  ]);
}

function eHistory(epcr: Epcr): XmlElement {
  const history = epcr.history ?? {};
  const allergies = texts(history.allergies);
  return group('eHistory', [
    leaves('eHistory.06', allergies.filter((code) => MEDICATION_ALLERGY_CODE.test(code))),
    leaves('eHistory.07', allergies.filter((code) => !MEDICATION_ALLERGY_CODE.test(code))),
    leaves('eHistory.08', texts(history.medicalHistory)),
    texts(history.currentMedications).map((medication) => group('eHistory.CurrentMedsGroup', [leaf('eHistory.12', medication)])),
    leaf('eHistory.19', dateTime(history.lastOralIntake)),
  ]);
}

function vitalGroup(vital: Vital): XmlElement {
  const { gcsEye, gcsVerbal, gcsMotor } = vital;
  const gcsTotal = gcsEye !== undefined && gcsVerbal !== undefined && gcsMotor !== undefined ? gcsEye + gcsVerbal + gcsMotor : undefined;
  return group('eVitals.VitalGroup', [
    leaf('eVitals.01', dateTime(vital.takenAt)),
    group('eVitals.BloodPressureGroup', [leaf('eVitals.06', integer(vital.systolic)), leaf('eVitals.07', integer(vital.diastolic))]),
    group('eVitals.HeartRateGroup', [leaf('eVitals.10', integer(vital.heartRate))]),
    leaf('eVitals.12', integer(vital.spo2)),
    leaf('eVitals.14', integer(vital.respiratoryRate)),
    leaf('eVitals.16', integer(vital.etco2)),
    leaf('eVitals.18', integer(vital.glucose)),
    group('eVitals.GlasgowScoreGroup', [
      leaf('eVitals.19', integer(gcsEye)),
      leaf('eVitals.20', integer(gcsVerbal)),
      leaf('eVitals.21', integer(gcsMotor)),
      leaf('eVitals.23', integer(gcsTotal)),
    ]),
    optionalGroup('eVitals.TemperatureGroup', [leaf('eVitals.24', decimal(vital.temperatureC, 1))]),
    leaf('eVitals.26', text(vital.avpu)),
    group('eVitals.PainScaleGroup', [leaf('eVitals.27', integer(vital.pain))]),
  ]);
}

function medicationGroup(medication: Medication): XmlElement {
  return group('eMedications.MedicationGroup', [
    leaf('eMedications.01', dateTime(medication.givenAt)),
    leaf('eMedications.03', text(medication.medication)),
    leaf('eMedications.04', text(medication.route)),
    group('eMedications.DosageGroup', [
      leaf('eMedications.05', decimal(medication.dose, 3)),
      leaf('eMedications.06', text(medication.doseUnit)),
    ]),
    leaf('eMedications.07', text(medication.response)),
    leaf('eMedications.08', text(medication.complication)),
  ]);
}

function procedureGroup(procedure: Procedure): XmlElement {
  return group('eProcedures.ProcedureGroup', [
    leaf('eProcedures.01', dateTime(procedure.performedAt)),
    leaf('eProcedures.03', text(procedure.procedure)),
    leaf('eProcedures.05', integer(procedure.attempts)),
    leaf('eProcedures.06', text(procedure.successful)),
    leaf('eProcedures.08', text(procedure.response)),
  ]);
}

function eDisposition(epcr: Epcr, mandatory: MandatoryValues): XmlElement {
  const disposition = epcr.disposition ?? {};
  const destination = disposition.destinationAddress ?? {};
  const preArrivalAlert = text(disposition.preArrivalAlert);
  const preArrivalAlertAt = dateTime(disposition.preArrivalAlertAt);
  return group('eDisposition', [
    group('eDisposition.DestinationGroup', [
      leaf('eDisposition.01', text(disposition.destinationName)),
      leaf('eDisposition.02', text(disposition.destinationCode)),
      streetAddress('eDisposition.03', destination),
      leaf('eDisposition.04', cityGnisCode(destination.city)),
      leaf('eDisposition.05', stateCode(destination.state)),
      leaf('eDisposition.06', countyCode(destination.county)),
      leaf('eDisposition.07', text(destination.zip)),
    ]),
    group('eDisposition.IncidentDispositionGroup', [
      mandatory.leaf('eDisposition.27', 'disposition.unitDisposition', text(disposition.unitDisposition)),
      leaf('eDisposition.28', text(disposition.patientEvaluationCare)),
      leaf('eDisposition.29', text(disposition.crewDisposition)),
      leaf('eDisposition.30', text(disposition.transportDisposition)),
    ]),
    leaf('eDisposition.21', text(disposition.destinationType)),
    optionalGroup('eDisposition.HospitalTeamActivationGroup', [
      leaf('eDisposition.24', preArrivalAlert),
      leaf('eDisposition.25', preArrivalAlertAt),
    ]),
  ]);
}
