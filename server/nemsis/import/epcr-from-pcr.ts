/**
 * A NEMSIS 3.5.1 PatientCareReport as an ePCR: the inverse of emsdataset.ts, field by field, so
 * an imported report exports again with the values it came with (test/server/nemsis/import-round-
 * trip.test.ts counts them for NEMSIS's own PASS samples). Codes are kept as they are (the XSD
 * checked them); where the ePCR keeps another representation the value is turned back (a patient
 * count code into a count, GPS text into a point). Elements the ePCR has no field for are left
 * behind and named in `dropped`, so the caller can say so; none of them is national.
 */
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { NemsisNode } from './xml-reader.ts';

const PATIENTS_COUNT: Readonly<Record<string, number>> = {
  [codeOf('eScene.06', 'None')]: 0,
  [codeOf('eScene.06', 'Single')]: 1,
  [codeOf('eScene.06', 'Multiple')]: 2,
};
const COMPLAINT_TYPE_CHIEF = codeOf('eSituation.03', 'Chief (Primary)');

export interface ImportedReport {
  /** The ePCR without tenantId, rev and status (the writer adds them). */
  doc: Record<string, unknown>;
  /** eRecord.01, for messages. */
  pcrNumber: string | undefined;
  /** Elements with a value in the file that the ePCR cannot hold (none national). */
  dropped: string[];
}

const ELEMENT_ID = /^[de][A-Z][A-Za-z]*\.[0-9]{2}$/;

/** Elements of the report with a value, anywhere below `node`. */
function valuedElements(node: NemsisNode, out: Set<string>): Set<string> {
  for (let child = node.element.firstChild; child; child = child.nextSibling) {
    if (child.nodeType !== 1) continue;
    const element = new NemsisNode(child as never);
    const name = element.element.localName ?? '';
    if (ELEMENT_ID.test(name)) { if (element.value !== undefined) out.add(name); } else valuedElements(element, out);
  }
  return out;
}

/** Drops undefined, empty strings, empty arrays and empty objects, recursively. */
function pruned(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(pruned).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, inner]) => [key, pruned(inner)] as const).filter(([, inner]) => inner !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value === '' ? undefined : value;
}

const number = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));

export function epcrFromPatientCareReport(pcr: NemsisNode, ids: { id: string; unitId: string }): ImportedReport {
  const record = pcr.child('eRecord');
  const software = record?.child('eRecord.SoftwareApplicationGroup');
  const response = pcr.child('eResponse');
  const dispatch = pcr.child('eDispatch');
  const times = pcr.child('eTimes');
  const patient = pcr.child('ePatient');
  const payment = pcr.child('ePayment');
  const scene = pcr.child('eScene');
  const situation = pcr.child('eSituation');
  const injury = pcr.child('eInjury');
  const arrest = pcr.child('eArrest');
  const history = pcr.child('eHistory');
  const disposition = pcr.child('eDisposition');
  const outcome = pcr.child('eOutcome');
  const destination = disposition?.child('eDisposition.DestinationGroup');
  const incident = disposition?.child('eDisposition.IncidentDispositionGroup');
  const alert = disposition?.child('eDisposition.HospitalTeamActivationGroup');
  const allergies = [...history?.many('eHistory.06') ?? [], ...history?.many('eHistory.07') ?? []];
  const gps = scene?.one('eScene.11')?.split(',').map(Number);
  const chief = situation?.all('eSituation.PatientComplaintGroup').find((g) => g.one('eSituation.03') === COMPLAINT_TYPE_CHIEF);
  const patientsCode = scene?.one('eScene.06');
  const name = patient?.child('ePatient.PatientNameGroup');
  const age = patient?.child('ePatient.AgeGroup');
  const insurance = payment?.child('ePayment.InsuranceGroup');
  const patientStreet = patient?.child('ePatient.05');
  const destinationStreet = destination?.child('eDisposition.03');

  const doc = {
    id: ids.id,
    unitId: ids.unitId,
    record: {
      pcrNumber: record?.one('eRecord.01'),
      software: { creator: software?.one('eRecord.02'), name: software?.one('eRecord.03'), version: software?.one('eRecord.04') },
    },
    response: {
      agencyNumber: response?.child('eResponse.AgencyGroup')?.one('eResponse.01'),
      incidentNumber: response?.one('eResponse.03'),
      responseNumber: response?.one('eResponse.04'),
      serviceType: response?.child('eResponse.ServiceGroup')?.one('eResponse.05'),
      unitCapability: response?.one('eResponse.07'),
      dispatchDelays: response?.many('eResponse.08'),
      responseDelays: response?.many('eResponse.09'),
      sceneDelays: response?.many('eResponse.10'),
      transportDelays: response?.many('eResponse.11'),
      turnAroundDelays: response?.many('eResponse.12'),
      vehicleNumber: response?.one('eResponse.13'),
      callSign: response?.one('eResponse.14'),
      responseMode: response?.one('eResponse.23'),
      responseModeDescriptors: response?.many('eResponse.24'),
    },
    dispatch: {
      reason: dispatch?.one('eDispatch.01'),
      emdPerformed: dispatch?.one('eDispatch.02'),
      emdDeterminant: dispatch?.one('eDispatch.03'),
      priority: dispatch?.one('eDispatch.05'),
      cadRecordId: dispatch?.one('eDispatch.06'),
    },
    crew: pcr.child('eCrew')?.all('eCrew.CrewGroup').map((member, i) => ({
      id: `c${i + 1}`, memberId: member.one('eCrew.01'), level: member.one('eCrew.02'), roles: member.many('eCrew.03'),
    })),
    times: {
      psapCall: times?.one('eTimes.01'), dispatchNotified: times?.one('eTimes.02'), unitNotified: times?.one('eTimes.03'),
      dispatchAcknowledged: times?.one('eTimes.04'), unitEnRoute: times?.one('eTimes.05'), unitOnScene: times?.one('eTimes.06'),
      atPatient: times?.one('eTimes.07'), transferOfEmsCare: times?.one('eTimes.08'), unitLeftScene: times?.one('eTimes.09'),
      atDestination: times?.one('eTimes.11'), transferOfCare: times?.one('eTimes.12'), backInService: times?.one('eTimes.13'),
      unitCanceled: times?.one('eTimes.14'), unitBackAtHome: times?.one('eTimes.15'), unitArrivedStaging: times?.one('eTimes.17'),
    },
    patient: {
      lastName: name?.one('ePatient.02'),
      firstName: name?.one('ePatient.03'),
      address: {
        street: patientStreet?.value, apartment: patientStreet?.attribute('StreetAddress2'), city: patient?.one('ePatient.06'),
        county: patient?.one('ePatient.07'), state: patient?.one('ePatient.08'), zip: patient?.one('ePatient.09'),
      },
      gender: patient?.one('ePatient.13'),
      race: patient?.many('ePatient.14'),
      age: number(age?.one('ePatient.15')),
      ageUnits: age?.one('ePatient.16'),
      dateOfBirth: patient?.one('ePatient.17'),
      phone: patient?.one('ePatient.18'),
      sex: patient?.one('ePatient.25'),
    },
    payment: {
      primaryMethod: payment?.one('ePayment.01'),
      insuranceCompany: insurance?.one('ePayment.10'),
      memberId: insurance?.one('ePayment.18'),
      serviceLevel: payment?.one('ePayment.50'),
    },
    scene: {
      firstOnScene: scene?.one('eScene.01'),
      numberOfPatients: patientsCode === undefined ? undefined : PATIENTS_COUNT[patientsCode],
      massCasualty: scene?.one('eScene.07'),
      mciTriage: scene?.one('eScene.08'),
      locationType: scene?.one('eScene.09'),
      location: gps && gps.length === 2 && gps.every(Number.isFinite) ? { lat: gps[0]!, lng: gps[1]! } : undefined,
      address: {
        street: scene?.one('eScene.15'), apartment: scene?.one('eScene.16'), city: scene?.one('eScene.17'), state: scene?.one('eScene.18'),
        zip: scene?.one('eScene.19'), crossStreet: scene?.one('eScene.20'), county: scene?.one('eScene.21'),
      },
    },
    situation: {
      onset: situation?.one('eSituation.01'),
      possibleInjury: situation?.one('eSituation.02'),
      chiefComplaint: chief?.one('eSituation.04'),
      complaintLocation: situation?.one('eSituation.07'),
      complaintOrganSystem: situation?.one('eSituation.08'),
      primarySymptom: situation?.one('eSituation.09'),
      otherSymptoms: situation?.many('eSituation.10'),
      primaryImpression: situation?.one('eSituation.11'),
      secondaryImpressions: situation?.many('eSituation.12'),
      acuity: situation?.one('eSituation.13'),
      lastKnownWell: situation?.one('eSituation.18'),
      transferReason: situation?.one('eSituation.20'),
    },
    injury: {
      causes: injury?.many('eInjury.01'),
      highRiskCriteria: injury?.many('eInjury.03'),
      moderateRiskCriteria: injury?.many('eInjury.04'),
      highRiskPertinentNegative: injury?.pn('eInjury.03'),
      moderateRiskPertinentNegative: injury?.pn('eInjury.04'),
    },
    arrest: {
      cardiacArrest: arrest?.one('eArrest.01'), etiology: arrest?.one('eArrest.02'), resuscitationAttempted: arrest?.many('eArrest.03'),
      witnessedBy: arrest?.many('eArrest.04'), aedPriorToEms: arrest?.one('eArrest.07'), cprTypes: arrest?.many('eArrest.09'),
      firstRhythm: arrest?.one('eArrest.11'), rosc: arrest?.many('eArrest.12'), arrestAt: arrest?.one('eArrest.14'),
      discontinuedReason: arrest?.one('eArrest.16'), rhythmAtDestination: arrest?.many('eArrest.17'), endOfEvent: arrest?.one('eArrest.18'),
      cprFirstBy: arrest?.one('eArrest.20'), aedFirstBy: arrest?.one('eArrest.21'), defibrillatedFirstBy: arrest?.one('eArrest.22'),
    },
    history: {
      barriersToCare: history?.many('eHistory.01'),
      allergies,
      allergiesPertinentNegative: allergies.length === 0 ? history?.pn('eHistory.06') : undefined,
      medicalHistory: history?.many('eHistory.08'),
      currentMedications: history?.all('eHistory.CurrentMedsGroup').flatMap((g) => g.one('eHistory.12') ?? []),
      alcoholDrugUse: history?.many('eHistory.17'),
      alcoholDrugUsePertinentNegative: history?.many('eHistory.17').length ? undefined : history?.pn('eHistory.17'),
      lastOralIntake: history?.one('eHistory.19'),
    },
    narrative: { text: pcr.child('eNarrative')?.one('eNarrative.01') },
    vitals: pcr.child('eVitals')?.all('eVitals.VitalGroup').map((vital, i) => {
      const rhythm = vital.child('eVitals.CardiacRhythmGroup');
      const gcs = vital.child('eVitals.GlasgowScoreGroup');
      return {
        id: `v${i + 1}`,
        takenAt: vital.one('eVitals.01'),
        priorToUnit: vital.one('eVitals.02'),
        cardiacRhythm: rhythm?.many('eVitals.03'), ecgType: rhythm?.one('eVitals.04'), ecgInterpretation: rhythm?.many('eVitals.05'),
        systolic: number(vital.child('eVitals.BloodPressureGroup')?.one('eVitals.06')),
        diastolic: number(vital.child('eVitals.BloodPressureGroup')?.one('eVitals.07')),
        heartRate: number(vital.child('eVitals.HeartRateGroup')?.one('eVitals.10')),
        spo2: number(vital.one('eVitals.12')),
        respiratoryRate: number(vital.one('eVitals.14')),
        etco2: number(vital.one('eVitals.16')),
        glucose: number(vital.one('eVitals.18')),
        gcsEye: number(gcs?.one('eVitals.19')), gcsVerbal: number(gcs?.one('eVitals.20')), gcsMotor: number(gcs?.one('eVitals.21')),
        gcsQualifiers: gcs?.many('eVitals.22'),
        gcsTotal: number(gcs?.one('eVitals.23')),
        temperatureC: number(vital.child('eVitals.TemperatureGroup')?.one('eVitals.24')),
        avpu: vital.one('eVitals.26'),
        pain: number(vital.child('eVitals.PainScaleGroup')?.one('eVitals.27')),
        strokeScaleResult: vital.child('eVitals.StrokeScaleGroup')?.one('eVitals.29'),
        strokeScaleType: vital.child('eVitals.StrokeScaleGroup')?.one('eVitals.30'),
        reperfusionChecklist: vital.one('eVitals.31'),
      };
    }),
    protocols: { used: pcr.child('eProtocols')?.all('eProtocols.ProtocolGroup').flatMap((g) => g.one('eProtocols.01') ?? []) },
    medications: pcr.child('eMedications')?.all('eMedications.MedicationGroup').map((medication, i) => ({
      id: `m${i + 1}`,
      givenAt: medication.one('eMedications.01'),
      priorToUnit: medication.one('eMedications.02'),
      medication: medication.one('eMedications.03') ?? '',
      pertinentNegative: medication.pn('eMedications.03'),
      route: medication.one('eMedications.04'),
      dose: number(medication.child('eMedications.DosageGroup')?.one('eMedications.05')),
      doseUnit: medication.child('eMedications.DosageGroup')?.one('eMedications.06'),
      response: medication.one('eMedications.07'),
      complication: medication.one('eMedications.08'),
      performerRole: medication.one('eMedications.10'),
    })),
    procedures: pcr.child('eProcedures')?.all('eProcedures.ProcedureGroup').map((procedure, i) => ({
      id: `p${i + 1}`,
      performedAt: procedure.one('eProcedures.01'),
      priorToUnit: procedure.one('eProcedures.02'),
      procedure: procedure.one('eProcedures.03') ?? '',
      pertinentNegative: procedure.pn('eProcedures.03'),
      attempts: number(procedure.one('eProcedures.05')),
      successful: procedure.one('eProcedures.06'),
      complications: procedure.many('eProcedures.07'),
      response: procedure.one('eProcedures.08'),
      performerRole: procedure.one('eProcedures.10'),
    })),
    disposition: {
      destinationName: destination?.one('eDisposition.01'),
      destinationCode: destination?.one('eDisposition.02'),
      destinationAddress: {
        street: destinationStreet?.value, apartment: destinationStreet?.attribute('StreetAddress2'), city: destination?.one('eDisposition.04'),
        state: destination?.one('eDisposition.05'), county: destination?.one('eDisposition.06'), zip: destination?.one('eDisposition.07'),
      },
      unitDisposition: incident?.one('eDisposition.27'),
      patientEvaluationCare: incident?.one('eDisposition.28'),
      crewDisposition: incident?.one('eDisposition.29'),
      transportDisposition: incident?.one('eDisposition.30'),
      transportMethod: disposition?.one('eDisposition.16'),
      transportMode: disposition?.one('eDisposition.17'),
      transportModeDescriptors: disposition?.many('eDisposition.18'),
      releaseAcuity: disposition?.one('eDisposition.19'),
      destinationReasons: disposition?.many('eDisposition.20'),
      destinationType: disposition?.one('eDisposition.21'),
      inpatientDestination: disposition?.one('eDisposition.22'),
      hospitalCapabilities: disposition?.many('eDisposition.23'),
      preArrivalAlert: alert?.one('eDisposition.24'),
      preArrivalAlertAt: alert?.one('eDisposition.25'),
      levelOfCare: disposition?.one('eDisposition.32'),
    },
    outcome: {
      edDisposition: outcome?.one('eOutcome.01'),
      hospitalDisposition: outcome?.one('eOutcome.02'),
      edProcedures: outcome?.all('eOutcome.EmergencyDepartmentProceduresGroup').map((g, i) => ({ id: `ed${i + 1}`, code: g.one('eOutcome.09'), performedAt: g.one('eOutcome.19') }))
        .filter((p) => p.code !== undefined || p.performedAt !== undefined),
      edDiagnoses: outcome?.many('eOutcome.10'),
      hospitalAdmittedAt: outcome?.one('eOutcome.11'),
      hospitalProcedures: outcome?.all('eOutcome.HospitalProceduresGroup').map((g, i) => ({ id: `h${i + 1}`, code: g.one('eOutcome.12'), performedAt: g.one('eOutcome.20') }))
        .filter((p) => p.code !== undefined || p.performedAt !== undefined),
      hospitalDiagnoses: outcome?.many('eOutcome.13'),
      hospitalDischargedAt: outcome?.one('eOutcome.16'),
      edAdmittedAt: outcome?.one('eOutcome.18'),
    },
  } satisfies Record<keyof Epcr | string, unknown>;

  const held = new Set(HELD_ELEMENTS);
  const dropped = [...valuedElements(pcr, new Set())].filter((element) => !held.has(element)).sort();
  const kept = pruned(doc) as Record<string, unknown>;
  // A group that held nothing (NOT values only) is no item; an item's code stays a string ('' for a nil one with a PN).
  for (const [list, codeField] of [['vitals', undefined], ['medications', 'medication'], ['procedures', 'procedure'], ['crew', undefined]] as const) {
    const items = (kept[list] as Record<string, unknown>[] | undefined)?.filter((item) => Object.keys(item).some((key) => key !== 'id'));
    if (!items?.length) { delete kept[list]; continue; }
    kept[list] = codeField ? items.map((item) => ({ ...item, [codeField]: item[codeField] ?? '' })) : items;
  }
  return { doc: kept, pcrNumber: record?.one('eRecord.01'), dropped };
}

/** Every element read above (the rest of a file is named in `dropped`). */
const HELD_ELEMENTS = [
  'eRecord.01', 'eRecord.02', 'eRecord.03', 'eRecord.04',
  'eResponse.01', 'eResponse.03', 'eResponse.04', 'eResponse.05', 'eResponse.07', 'eResponse.08', 'eResponse.09', 'eResponse.10', 'eResponse.11',
  'eResponse.12', 'eResponse.13', 'eResponse.14', 'eResponse.23', 'eResponse.24',
  'eDispatch.01', 'eDispatch.02', 'eDispatch.03', 'eDispatch.05', 'eDispatch.06',
  'eCrew.01', 'eCrew.02', 'eCrew.03',
  ...['01', '02', '03', '04', '05', '06', '07', '08', '09', '11', '12', '13', '14', '15', '17'].map((n) => `eTimes.${n}`),
  ...['02', '03', '05', '06', '07', '08', '09', '13', '14', '15', '16', '17', '18', '25'].map((n) => `ePatient.${n}`),
  'ePayment.01', 'ePayment.10', 'ePayment.18', 'ePayment.50',
  ...['01', '06', '07', '08', '09', '11', '15', '16', '17', '18', '19', '20', '21'].map((n) => `eScene.${n}`),
  ...['01', '02', '03', '04', '07', '08', '09', '10', '11', '12', '13', '18', '20'].map((n) => `eSituation.${n}`),
  'eInjury.01', 'eInjury.03', 'eInjury.04',
  ...['01', '02', '03', '04', '07', '09', '11', '12', '14', '16', '17', '18', '20', '21', '22'].map((n) => `eArrest.${n}`),
  'eHistory.01', 'eHistory.06', 'eHistory.07', 'eHistory.08', 'eHistory.12', 'eHistory.17', 'eHistory.19',
  'eNarrative.01',
  ...['01', '02', '03', '04', '05', '06', '07', '10', '12', '14', '16', '18', '19', '20', '21', '22', '23', '24', '26', '27', '29', '30', '31'].map((n) => `eVitals.${n}`),
  'eProtocols.01',
  ...['01', '02', '03', '04', '05', '06', '07', '08', '10'].map((n) => `eMedications.${n}`),
  ...['01', '02', '03', '05', '06', '07', '08', '10'].map((n) => `eProcedures.${n}`),
  ...['01', '02', '03', '04', '05', '06', '07', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '27', '28', '29', '30', '32'].map((n) => `eDisposition.${n}`),
  ...['01', '02', '09', '10', '11', '12', '13', '16', '18', '19', '20'].map((n) => `eOutcome.${n}`),
];
