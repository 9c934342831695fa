/**
 * Which ePCR field feeds each NEMSIS element of the export (emsdataset.ts), so a problem the XSD
 * or the national Schematron finds in the export is said at the field the crew can fix: the
 * field's path is the crew form's path name (client/apps/crew/sections: `patient.lastName`,
 * `medications[<item id>].medication`), the label the words the form shows.
 *
 * Elements of a repeating group (vital sets, medications, procedures) are found by their group's
 * position in the export, which is the item's position in the report (emsdataset.ts writes them in
 * order). test/server/nemsis/form-fields.test.ts checks that every element the export writes from
 * the report is listed here.
 */
import type { Epcr } from '../schemas/index.ts';

export interface FormField {
  /** Path name of the ePCR field, e.g. `dispatch.priority` or `vitals[v1].systolic`. */
  path: string;
  /** The field in the crew's words. */
  label: string;
}

type Entry = readonly [path: string, label: string];

/** Elements outside repeating groups. */
const SINGLE: Readonly<Record<string, Entry>> = {
  'eRecord.01': ['record.pcrNumber', 'PCR number'],
  // The software that created the record: set on an imported report, else this software's own name (emsdataset.ts).
  'eRecord.02': ['record.software.creator', 'Software creator'],
  'eRecord.03': ['record.software.name', 'Software name'],
  'eRecord.04': ['record.software.version', 'Software version'],
  'eResponse.01': ['response.agencyNumber', 'Agency number'],
  'eResponse.03': ['response.incidentNumber', 'Incident number'],
  'eResponse.04': ['response.responseNumber', 'Response number'],
  'eResponse.05': ['response.serviceType', 'Type of service requested'],
  'eResponse.07': ['response.unitCapability', 'Unit capability'],
  'eResponse.13': ['response.vehicleNumber', 'Vehicle number'],
  'eResponse.14': ['response.callSign', 'Call sign'],
  'eResponse.23': ['response.responseMode', 'Response mode to scene'],
  'eResponse.08': ['response.dispatchDelays', 'Dispatch delays'],
  'eResponse.09': ['response.responseDelays', 'Response delays'],
  'eResponse.10': ['response.sceneDelays', 'Scene delays'],
  'eResponse.11': ['response.transportDelays', 'Transport delays'],
  'eResponse.12': ['response.turnAroundDelays', 'Turn-around delays'],
  'eResponse.24': ['response.responseModeDescriptors', 'Response mode descriptors'],
  'eDispatch.01': ['dispatch.reason', 'Dispatch reason'],
  'eDispatch.02': ['dispatch.emdPerformed', 'EMD performed'],
  'eDispatch.03': ['dispatch.emdDeterminant', 'EMD determinant code'],
  'eDispatch.05': ['dispatch.priority', 'Dispatch priority (from the dispatch call)'],
  'eDispatch.06': ['dispatch.cadRecordId', 'CAD record number'],
  'eTimes.01': ['times.psapCall', 'PSAP call time'],
  'eTimes.02': ['times.dispatchNotified', 'Dispatch notified time'],
  'eTimes.03': ['times.unitNotified', 'Unit notified time'],
  'eTimes.04': ['times.dispatchAcknowledged', 'Dispatch acknowledged time'],
  'eTimes.05': ['times.unitEnRoute', 'En route time'],
  'eTimes.06': ['times.unitOnScene', 'On scene time'],
  'eTimes.07': ['times.atPatient', 'At patient time'],
  'eTimes.08': ['times.transferOfEmsCare', 'Transfer of EMS care time'],
  'eTimes.09': ['times.unitLeftScene', 'Left scene time'],
  'eTimes.11': ['times.atDestination', 'At destination time'],
  'eTimes.12': ['times.transferOfCare', 'Transfer of care time'],
  'eTimes.13': ['times.backInService', 'Back in service time'],
  'eTimes.14': ['times.unitCanceled', 'Cancelled time'],
  'eTimes.15': ['times.unitBackAtHome', 'Back at home location time'],
  'eTimes.17': ['times.unitArrivedStaging', 'Arrived at staging time'],
  'ePatient.02': ['patient.lastName', 'Patient last name'],
  'ePatient.03': ['patient.firstName', 'Patient first name'],
  'ePatient.05': ['patient.address.street', 'Patient street address'],
  'ePatient.06': ['patient.address.city', 'Patient city'],
  'ePatient.07': ['patient.address.county', 'Patient county'],
  'ePatient.08': ['patient.address.state', 'Patient state'],
  'ePatient.09': ['patient.address.zip', 'Patient ZIP code'],
  'ePatient.13': ['patient.gender', 'Gender (deprecated)'],
  'ePatient.14': ['patient.race', 'Race'],
  'ePatient.15': ['patient.age', 'Age'],
  'ePatient.16': ['patient.ageUnits', 'Age units'],
  'ePatient.17': ['patient.dateOfBirth', 'Date of birth'],
  'ePatient.18': ['patient.phone', 'Patient phone'],
  'ePatient.25': ['patient.sex', 'Sex'],
  'ePayment.01': ['payment.primaryMethod', 'Primary method of payment'],
  'ePayment.10': ['payment.insuranceCompany', 'Insurance company'],
  'ePayment.18': ['payment.memberId', 'Insurance member ID'],
  'ePayment.50': ['payment.serviceLevel', 'CMS service level'],
  'eScene.01': ['scene.firstOnScene', 'First EMS unit on scene'],
  'eScene.06': ['scene.numberOfPatients', 'Number of patients at scene'],
  'eScene.07': ['scene.massCasualty', 'Mass casualty incident'],
  'eScene.08': ['scene.mciTriage', 'MCI triage classification'],
  'eScene.09': ['scene.locationType', 'Incident location type'],
  'eScene.11': ['scene.location', 'Scene GPS location'],
  'eScene.15': ['scene.address.street', 'Scene street address'],
  'eScene.16': ['scene.address.apartment', 'Scene apartment'],
  'eScene.17': ['scene.address.city', 'Scene city'],
  'eScene.18': ['scene.address.state', 'Scene state'],
  'eScene.19': ['scene.address.zip', 'Scene ZIP code'],
  'eScene.20': ['scene.address.crossStreet', 'Cross street'],
  'eScene.21': ['scene.address.county', 'Scene county'],
  'eSituation.01': ['situation.onset', 'Symptom onset'],
  'eSituation.02': ['situation.possibleInjury', 'Possible injury'],
  'eSituation.03': ['situation.chiefComplaint', 'Chief complaint'],
  'eSituation.04': ['situation.chiefComplaint', 'Chief complaint'],
  'eSituation.07': ['situation.complaintLocation', 'Complaint: body location'],
  'eSituation.08': ['situation.complaintOrganSystem', 'Complaint: organ system'],
  'eSituation.09': ['situation.primarySymptom', 'Primary symptom'],
  'eSituation.10': ['situation.otherSymptoms', 'Other symptoms'],
  'eSituation.11': ['situation.primaryImpression', 'Primary impression'],
  'eSituation.12': ['situation.secondaryImpressions', 'Secondary impressions'],
  'eSituation.13': ['situation.acuity', 'Initial patient acuity'],
  'eSituation.18': ['situation.lastKnownWell', 'Last known well'],
  'eSituation.20': ['situation.transferReason', 'Reason for the transfer'],
  'eInjury.01': ['injury.causes', 'Cause of injury'],
  'eInjury.03': ['injury.highRiskCriteria', 'Trauma triage: high risk'],
  'eInjury.04': ['injury.moderateRiskCriteria', 'Trauma triage: moderate risk'],
  'eArrest.01': ['arrest.cardiacArrest', 'Cardiac arrest'],
  'eArrest.02': ['arrest.etiology', 'Arrest etiology'],
  'eArrest.03': ['arrest.resuscitationAttempted', 'Resuscitation attempted'],
  'eArrest.04': ['arrest.witnessedBy', 'Arrest witnessed by'],
  'eArrest.07': ['arrest.aedPriorToEms', 'AED use before EMS'],
  'eArrest.09': ['arrest.cprTypes', 'Type of CPR'],
  'eArrest.11': ['arrest.firstRhythm', 'First monitored rhythm'],
  'eArrest.12': ['arrest.rosc', 'ROSC'],
  'eArrest.14': ['arrest.arrestAt', 'Time of the arrest'],
  'eArrest.16': ['arrest.discontinuedReason', 'Why resuscitation was stopped'],
  'eArrest.17': ['arrest.rhythmAtDestination', 'Rhythm at destination'],
  'eArrest.18': ['arrest.endOfEvent', 'End of the arrest event'],
  'eArrest.20': ['arrest.cprFirstBy', 'Who first started CPR'],
  'eArrest.21': ['arrest.aedFirstBy', 'Who first applied the AED'],
  'eArrest.22': ['arrest.defibrillatedFirstBy', 'Who first defibrillated'],
  'eHistory.01': ['history.barriersToCare', 'Barriers to care'],
  'eHistory.06': ['history.allergies', 'Allergies'],
  'eHistory.07': ['history.allergies', 'Allergies'],
  'eHistory.08': ['history.medicalHistory', 'Medical history'],
  'eHistory.12': ['history.currentMedications', 'Current medications'],
  'eHistory.17': ['history.alcoholDrugUse', 'Alcohol/drug use indicators'],
  'eHistory.19': ['history.lastOralIntake', 'Last oral intake'],
  'eProtocols.01': ['protocols.used', 'Protocols used'],
  'eNarrative.01': ['narrative.text', 'Narrative'],
  'eDisposition.01': ['disposition.destinationName', 'Destination'],
  'eDisposition.02': ['disposition.destinationCode', 'Destination code'],
  'eDisposition.03': ['disposition.destinationAddress.street', 'Destination street address'],
  'eDisposition.04': ['disposition.destinationAddress.city', 'Destination city'],
  'eDisposition.05': ['disposition.destinationAddress.state', 'Destination state'],
  'eDisposition.06': ['disposition.destinationAddress.county', 'Destination county'],
  'eDisposition.07': ['disposition.destinationAddress.zip', 'Destination ZIP code'],
  'eDisposition.21': ['disposition.destinationType', 'Type of destination'],
  'eDisposition.24': ['disposition.preArrivalAlert', 'Pre-arrival alert'],
  'eDisposition.25': ['disposition.preArrivalAlertAt', 'Pre-arrival alert time'],
  'eDisposition.27': ['disposition.unitDisposition', 'Unit disposition'],
  'eDisposition.28': ['disposition.patientEvaluationCare', 'Patient evaluation/care'],
  'eDisposition.29': ['disposition.crewDisposition', 'Crew disposition'],
  'eDisposition.30': ['disposition.transportDisposition', 'Transport disposition'],
  'eDisposition.16': ['disposition.transportMethod', 'Transport method'],
  'eDisposition.17': ['disposition.transportMode', 'Transport mode from scene'],
  'eDisposition.18': ['disposition.transportModeDescriptors', 'Transport mode descriptors'],
  'eDisposition.19': ['disposition.releaseAcuity', 'Acuity at release'],
  'eDisposition.20': ['disposition.destinationReasons', 'Reason for choosing the destination'],
  'eDisposition.22': ['disposition.inpatientDestination', 'In-patient destination'],
  'eDisposition.23': ['disposition.hospitalCapabilities', 'Hospital capability'],
  'eDisposition.32': ['disposition.levelOfCare', 'Level of care provided'],
  // Hospital outcome: entered by an admin or imported, after the EMS encounter.
  'eOutcome.01': ['outcome.edDisposition', 'ED disposition'],
  'eOutcome.02': ['outcome.hospitalDisposition', 'Hospital disposition'],
  'eOutcome.09': ['outcome.edProcedures[].code', 'ED procedure'],
  'eOutcome.10': ['outcome.edDiagnoses', 'ED diagnoses'],
  'eOutcome.11': ['outcome.hospitalAdmittedAt', 'Hospital admission time'],
  'eOutcome.12': ['outcome.hospitalProcedures[].code', 'Hospital procedure'],
  'eOutcome.13': ['outcome.hospitalDiagnoses', 'Hospital diagnoses'],
  'eOutcome.16': ['outcome.hospitalDischargedAt', 'Hospital discharge time'],
  'eOutcome.18': ['outcome.edAdmittedAt', 'ED admission time'],
  'eOutcome.19': ['outcome.edProcedures[].performedAt', 'ED procedure time'],
  'eOutcome.20': ['outcome.hospitalProcedures[].performedAt', 'Hospital procedure time'],
};

/** Repeating groups: the report's list, the export's group element, and each element's item field. */
const REPEATED: readonly { list: 'vitals' | 'medications' | 'procedures' | 'crew'; group: string; noun: string; fields: Readonly<Record<string, Entry>> }[] = [
  {
    list: 'vitals', group: 'eVitals.VitalGroup', noun: 'vital set',
    fields: {
      'eVitals.01': ['takenAt', 'Time taken'], 'eVitals.06': ['systolic', 'Systolic blood pressure'], 'eVitals.07': ['diastolic', 'Diastolic blood pressure'],
      'eVitals.10': ['heartRate', 'Heart rate'], 'eVitals.12': ['spo2', 'SpO2'], 'eVitals.14': ['respiratoryRate', 'Respiratory rate'],
      'eVitals.16': ['etco2', 'ETCO2'], 'eVitals.18': ['glucose', 'Blood glucose'], 'eVitals.19': ['gcsEye', 'GCS eye'],
      'eVitals.20': ['gcsVerbal', 'GCS verbal'], 'eVitals.21': ['gcsMotor', 'GCS motor'], 'eVitals.23': ['gcsEye', 'GCS total (eye + verbal + motor)'],
      'eVitals.24': ['temperatureC', 'Temperature'], 'eVitals.26': ['avpu', 'AVPU'], 'eVitals.27': ['pain', 'Pain scale'],
      'eVitals.02': ['priorToUnit', 'Taken before this unit'], 'eVitals.03': ['cardiacRhythm', 'Cardiac rhythm (ECG)'], 'eVitals.04': ['ecgType', 'ECG type'],
      'eVitals.05': ['ecgInterpretation', 'ECG interpreted by'], 'eVitals.22': ['gcsQualifiers', 'GCS qualifier'],
      'eVitals.29': ['strokeScaleResult', 'Stroke scale result'], 'eVitals.30': ['strokeScaleType', 'Stroke scale'], 'eVitals.31': ['reperfusionChecklist', 'Reperfusion checklist'],
    },
  },
  {
    list: 'medications', group: 'eMedications.MedicationGroup', noun: 'medication',
    fields: {
      'eMedications.01': ['givenAt', 'Time given'], 'eMedications.03': ['medication', 'Medication'], 'eMedications.04': ['route', 'Route'],
      'eMedications.05': ['dose', 'Dose'], 'eMedications.06': ['doseUnit', 'Dose unit'], 'eMedications.07': ['response', 'Response to medication'],
      'eMedications.08': ['complication', 'Complication'], 'eMedications.02': ['priorToUnit', 'Given before this unit'],
      'eMedications.10': ['performerRole', 'Given by'],
    },
  },
  {
    list: 'procedures', group: 'eProcedures.ProcedureGroup', noun: 'procedure',
    fields: {
      'eProcedures.01': ['performedAt', 'Time performed'], 'eProcedures.03': ['procedure', 'Procedure'], 'eProcedures.05': ['attempts', 'Attempts'],
      'eProcedures.06': ['successful', 'Successful'], 'eProcedures.08': ['response', 'Response to procedure'],
      'eProcedures.02': ['priorToUnit', 'Done before this unit'], 'eProcedures.07': ['complications', 'Complications'], 'eProcedures.10': ['performerRole', 'Done by'],
    },
  },
  {
    list: 'crew', group: 'eCrew.CrewGroup', noun: 'crew member',
    fields: { 'eCrew.01': ['memberId', 'Crew member id'], 'eCrew.02': ['level', 'Crew member level'], 'eCrew.03': ['roles', 'Crew member role'] },
  },
];

/** Every element this table maps (for the completeness test). */
export function mappedElements(): string[] {
  return [...Object.keys(SINGLE), ...REPEATED.flatMap((r) => Object.keys(r.fields))];
}

/**
 * The ePCR field an element is held in, as a general path (`patient.age`, `vitals[].systolic`:
 * `[]` for any item of a list), the way the form's fields declare theirs; undefined when the
 * report has no field for it.
 */
export function fieldPathOf(element: string): string | undefined {
  const single = SINGLE[element];
  if (single) return single[0];
  for (const repeated of REPEATED) {
    const entry = repeated.fields[element];
    if (entry) return `${repeated.list}[].${entry[0]}`;
  }
  return undefined;
}

/**
 * The crew's field behind a NEMSIS element of the export. `location` (a plain path with positions,
 * `/EMSDataSet[1]/…/eMedications.MedicationGroup[2]/eMedications.03[1]`) picks the item of a
 * repeating group; without it (an XSD message names no position) the item is found by `value`,
 * else the first one. Undefined when the element does not come from the report (dAgency: the
 * agency's settings; elements the form does not offer).
 */
export function formFieldOf(epcr: Epcr, element: string, location?: string, value?: string): FormField | undefined {
  const single = SINGLE[element];
  if (single) return { path: single[0], label: single[1] };
  for (const repeated of REPEATED) {
    const entry = repeated.fields[element];
    if (!entry) continue;
    const items = (epcr[repeated.list] ?? []) as { id: string; [key: string]: unknown }[];
    const position = location ? new RegExp(`/${repeated.group.replace(/\./g, '\\.')}\\[(\\d+)\\]`).exec(location)?.[1] : undefined;
    const item = position !== undefined
      ? items[Number(position) - 1]
      : items.find((candidate) => value !== undefined && String(candidate[entry[0]] ?? '') === value) ?? items[0];
    if (!item) return { path: repeated.list, label: entry[1] };
    const index = items.indexOf(item) + 1;
    return { path: `${repeated.list}[${item.id}].${entry[0]}`, label: `${entry[1]} (${repeated.noun} ${index})` };
  }
  return undefined;
}
