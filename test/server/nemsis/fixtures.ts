/**
 * ePCRs modelled on the kinds of calls in the official NEMSIS 3.5.1 compliance samples
 * (shared/nemsis/samples). Codes are real NEMSIS code-list values; clinical codes (ICD-10,
 * RxNorm, SNOMED) are taken from the samples where they have one.
 */
import type { NemsisAgency } from '../../../shared/nemsis/export/emsdataset.ts';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';

export const agency: NemsisAgency = { stateId: 'C034', agencyNumber: '351-C034P2', stateCode: '09' };

const base = { tenantId: 'tenant-danbury', rev: '3-a1b2c3', status: 'finalized', unitId: 'unit-a1' } as const;

/** Naloxone given, patient transported; Eastern Daylight Time offsets as in the sample. */
export function overdoseEpcr(): Epcr {
  return {
    ...base,
    id: 'a1500a8d-f414-4ca3-84bc-4e0a7d0ccb15',
    incidentId: 'incident-46512',
    record: { pcrNumber: '2024-10-07-0042' },
    response: {
      agencyNumber: '351-C034P2',
      incidentNumber: '351-24.46512',
      responseNumber: '351-24.46512.1',
      serviceType: '2205001', // Emergency Response (Primary Response Area)
      unitCapability: '2207015', // Ground Transport (ALS Equipped)
      vehicleNumber: '84DR8411',
      callSign: 'DF A1',
      responseMode: '2223001', // Emergent
    },
    dispatch: {
      reason: '2301053', // Overdose/Poisoning/Ingestion
      emdPerformed: '2302003',
      emdDeterminant: '23C1',
      priority: '2305001',
      cadRecordId: 'CAD-246844',
      complaint: 'unconscious, possible OD',
    },
    times: {
      psapCall: '2024-10-07T20:20:00-04:00',
      dispatchNotified: '2024-10-07T20:21:12-04:00',
      unitNotified: '2024-10-07T20:22:01-04:00',
      unitEnRoute: '2024-10-07T20:23:38-04:00',
      unitOnScene: '2024-10-07T20:25:53-04:00',
      atPatient: '2024-10-07T20:26:07-04:00',
      unitLeftScene: '2024-10-07T20:35:22-04:00',
      atDestination: '2024-10-07T20:54:03-04:00',
      transferOfCare: '2024-10-07T20:58:00-04:00',
      backInService: '2024-10-07T21:15:33-04:00',
    },
    scene: {
      address: { street: '12 Main Street', city: '213415', state: 'CT', zip: '06810', county: '09001' },
      location: { lat: 41.394812, lng: -73.454011 },
      numberOfPatients: 1,
      locationType: 'Y92.481', // parking lot
    },
    patient: {
      firstName: 'Pat',
      lastName: "O'Connor",
      dateOfBirth: '1979-03-02',
      age: 45,
      ageUnits: '2516009', // Years
      sex: '9919003', // Male
      race: ['2514011'],
      address: { street: '40 Elm Street', apartment: '2B', city: '213415', state: 'CT', zip: '06810', county: '09001' },
      phone: '(203) 555-0142',
    },
    situation: {
      onset: '2024-10-07T20:00:00-04:00',
      possibleInjury: '9922001', // No
      chiefComplaint: 'Unresponsive',
      primarySymptom: 'R40.20',
      primaryImpression: 'T40.2X1A',
      secondaryImpressions: ['F11.20'],
      acuity: '2813001', // Critical (Red)
      lastKnownWell: '2024-10-07T17:30:00-04:00',
    },
    history: {
      allergies: ['7980'], // RxNorm penicillin G
      medicalHistory: ['F11.20', 'I10'],
      currentMedications: ['1545653'],
      lastOralIntake: '2024-10-07T12:30:00-04:00',
    },
    vitals: [
      { id: 'v1', takenAt: '2024-10-07T20:27:00-04:00', systolic: 98, diastolic: 60, heartRate: 44, respiratoryRate: 4, spo2: 78, etco2: 68, glucose: 96, gcsEye: 1, gcsVerbal: 1, gcsMotor: 4, avpu: '3326005', pain: 0 },
      { id: 'v2', takenAt: '2024-10-07T20:33:00-04:00', systolic: 112, diastolic: 70, heartRate: 88, respiratoryRate: 14, spo2: 96, etco2: 40, gcsEye: 3, gcsVerbal: 4, gcsMotor: 6, avpu: '3326003' },
      { id: 'v3', takenAt: '2024-10-07T20:41:00-04:00', systolic: 118, heartRate: 84, respiratoryRate: 16, spo2: 98, avpu: '3326001', temperatureC: 36.6 },
    ],
    medications: [
      {
        id: 'm1',
        givenAt: '2024-10-07T20:28:30-04:00',
        medication: '7242', // RxNorm naloxone
        route: '9927017', // Intranasal
        dose: 4,
        doseUnit: '3706021', // Milligrams
        response: '9916001', // Improved
        complication: '3708031', // None
      },
      { id: 'm2', givenAt: '2024-10-07T20:27:30-04:00', medication: '7806', route: '9927065', dose: 15, doseUnit: '3706035', response: '9916001' },
    ],
    procedures: [
      { id: 'p1', performedAt: '2024-10-07T20:31:10-04:00', procedure: '392230005', attempts: 1, successful: '9923003', response: '9916003' },
    ],
    narrative: { text: 'Pt found unresponsive in car, RR 4 & pinpoint pupils. Naloxone 4 mg IN; RR > 12 within 2 min.' },
    disposition: {
      destinationName: 'Danbury Hospital',
      destinationCode: '070033',
      destinationAddress: { street: '24 Hospital Avenue', city: '213415', state: '09', zip: '06810', county: '09001' },
      destinationType: '4221003', // Hospital-Emergency Department
      unitDisposition: '4227001', // Patient Contact Made
      patientEvaluationCare: '4228001',
      crewDisposition: '4229001',
      transportDisposition: '4230001', // Transport by This EMS Unit
      preArrivalAlert: '4224001', // No
      loadedMiles: 3.2,
    },
    payment: { primaryMethod: '2601005', serviceLevel: '2650003', insuranceCompany: 'Medicare', memberId: '1EG4TE5MK72' },
  };
}

/** Multi-patient highway crash with trauma alert, modelled on 2025-EMS-3-MVC. */
export function motorVehicleCollisionEpcr(): Epcr {
  return {
    ...base,
    id: 'df732588-c7e8-4aee-a723-5299c7e4812b',
    record: { pcrNumber: '2024-10-11-0107' },
    response: {
      incidentNumber: '351-24.46578',
      responseNumber: '351-24.46578.3',
      serviceType: '2205001',
      unitCapability: '2207015',
      vehicleNumber: '84DR8411',
      callSign: 'DF A1',
      responseMode: '2223001',
    },
    dispatch: { reason: '2301069', emdPerformed: '2302003', emdDeterminant: '29D2p', priority: '2305003', cadRecordId: '246844' },
    times: {
      psapCall: '2024-10-11T16:44:34-04:00',
      dispatchNotified: '2024-10-11T16:44:34-04:00',
      unitNotified: '2024-10-11T16:45:18-04:00',
      dispatchAcknowledged: '2024-10-11T16:45:35-04:00',
      unitEnRoute: '2024-10-11T16:46:21-04:00',
      unitOnScene: '2024-10-11T16:58:47-04:00',
      atPatient: '2024-10-11T17:04:30-04:00',
      unitLeftScene: '2024-10-11T17:18:06-04:00',
      atDestination: '2024-10-11T17:28:01-04:00',
      transferOfCare: '2024-10-11T17:29:57-04:00',
      backInService: '2024-10-11T17:38:48-04:00',
    },
    scene: {
      address: { street: 'I-84 westbound', city: '213415', state: 'CT', zip: '06811', county: '09001', crossStreet: 'Exit 7 off-ramp' },
      location: { lat: 41.417, lng: -73.427 },
      numberOfPatients: 2,
      locationType: 'Y92.410', // street and highway
    },
    patient: {
      firstName: 'Harry',
      lastName: 'Schmeler',
      dateOfBirth: '1956-01-19',
      age: 68,
      ageUnits: '2516009',
      sex: '9919003',
      gender: '9906003', // Male (ePatient.13, deprecated)
      race: ['2514011', '2514007'],
      address: { street: '325 East 77th Street', apartment: '#5K', state: 'NY', zip: '10075', county: '36047' },
      phone: '+1 917 409 4876',
    },
    // The hospital's outcome as NEMSIS's MVC sample reports it (entered by an admin: PUT EPCRS.outcome).
    outcome: {
      edDisposition: '09', hospitalDisposition: '01',
      edProcedures: [{ id: 'ed1', code: '0HQ0XZZ', performedAt: '2024-10-11T17:42:51-04:00' }],
      edDiagnoses: ['S01.00XA', 'S01.301A'], hospitalAdmittedAt: '2024-10-11T17:58:32-04:00',
      hospitalProcedures: [{ id: 'h1', code: '0HM1XZZ', performedAt: '2024-10-11T19:47:13-04:00' }],
      hospitalDiagnoses: ['S01.00XA', 'S30.91XA'], hospitalDischargedAt: '2024-10-12T09:07:01-04:00', edAdmittedAt: '2024-10-11T17:32:08-04:00',
    },
    situation: {
      onset: '2024-10-11T16:44:21-04:00',
      possibleInjury: '9922005', // Yes
      chiefComplaint: 'Head bleeding, neck pain',
      primarySymptom: 'S09.90',
      primaryImpression: 'S09.90XA',
      secondaryImpressions: ['S19.9', 'I95.9'],
      acuity: '2813001',
    },
    history: { allergies: ['91935009'], medicalHistory: ['D68.01', 'E11.8'], currentMedications: ['1545653', '2571813'] },
    vitals: [
      { id: 'v1', takenAt: '2024-10-11T17:04:58-04:00', systolic: 102, diastolic: 50, heartRate: 118, respiratoryRate: 28, spo2: 84, gcsEye: 4, gcsVerbal: 5, gcsMotor: 5, avpu: '3326003', pain: 7 },
      { id: 'v2', takenAt: '2024-10-11T17:11:36-04:00', systolic: 98, diastolic: 50, heartRate: 112, respiratoryRate: 24, spo2: 88, glucose: 86, gcsEye: 4, gcsVerbal: 5, gcsMotor: 5, avpu: '3326003', pain: 6, temperatureC: 36.25 },
    ],
    medications: [
      { id: 'm1', givenAt: '2024-10-11T17:05:20-04:00', medication: '7806', route: '9927031', dose: 10, doseUnit: '3706035', response: '9916001', complication: '3708031' },
      { id: 'm2', givenAt: '2024-10-11T17:14:28-04:00', medication: '4337', route: '9927023', dose: 0.05, doseUnit: '3706021', response: '9916001', complication: '3708031' },
    ],
    procedures: [
      { id: 'p1', performedAt: '2024-10-11T17:06:04-04:00', procedure: '372045002', attempts: 1, successful: '9923003', response: '9916001' },
      { id: 'p2', performedAt: '2024-10-11T17:10:09-04:00', procedure: '49689007', attempts: 1, successful: '9923003', response: '9916003' },
      { id: 'p3', performedAt: '2024-10-11T17:13:42-04:00', procedure: '392230005', attempts: 2, successful: '9923003', response: '9916003' },
    ],
    narrative: { text: 'Pt in car crash found hypotensive (BP < 110) & bleeding. Pt has Von Willebrand Disease.' },
    disposition: {
      destinationName: 'Danbury Hospital',
      destinationCode: '070033',
      destinationAddress: { street: '24 Hospital Avenue', city: '213415', state: 'CT', zip: '06810', county: '09001' },
      destinationType: '4221003',
      unitDisposition: '4227001',
      patientEvaluationCare: '4228001',
      crewDisposition: '4229001',
      transportDisposition: '4230001',
      preArrivalAlert: '4224003', // Yes-Adult Trauma
      preArrivalAlertAt: '2024-10-11T17:09:12-04:00',
    },
    payment: { primaryMethod: '2601001', serviceLevel: '2650003', insuranceCompany: 'Amica', memberId: 'GJ39242' },
  };
}

/** Cancelled while en route: no patient, no care, so every clinical group is Not Recorded. */
export function cancelledPriorToArrivalEpcr(): Epcr {
  return {
    ...base,
    id: '5b0c3a7e-2f4d-4c61-9a8e-0d3f6b2c1e90',
    response: {
      incidentNumber: '351-24.46601',
      responseNumber: '351-24.46601.1',
      serviceType: '2205001',
      unitCapability: '2207017', // Ground Transport (BLS Equipped)
      vehicleNumber: '84DR8412',
      callSign: 'DF B2',
      responseMode: '2223001',
    },
    dispatch: { reason: '2301033' }, // Falls
    times: {
      psapCall: '2024-10-12T09:02:10-04:00',
      unitNotified: '2024-10-12T09:03:00-04:00',
      unitEnRoute: '2024-10-12T09:04:12-04:00',
      unitCanceled: '2024-10-12T09:07:45-04:00',
      backInService: '2024-10-12T09:08:00-04:00',
    },
    scene: { address: { street: '7 Lake Road', state: 'CT', zip: '06810' } },
    vitals: [],
    medications: [],
    procedures: [],
    disposition: { unitDisposition: '4227005' }, // Cancelled Prior to Arrival at Scene
  };
}

const MOUNTAIN_STANDARD_OFFSET_MINUTES = -7 * 60;

/** A local time string with a fixed offset, `minutes` after the start of the transfer. */
function mountainTime(minutes: number): string {
  const startUtc = Date.UTC(2024, 10, 3, 17, 0, 0); // 10:00 MST
  const local = new Date(startUtc + (minutes + MOUNTAIN_STANDARD_OFFSET_MINUTES) * 60_000);
  return `${local.toISOString().slice(0, 19)}-07:00`;
}

/** A long critical-care interfacility transfer with a vital set every two minutes from the monitor. */
export function manyVitalsEpcr(vitalCount: number): Epcr {
  return {
    ...base,
    id: '9d7e1c52-6b3a-4f08-8e2d-47c1a5b9f360',
    record: { pcrNumber: 'IFT-2024-11-03-007' },
    response: {
      incidentNumber: 'IFT-88213',
      responseNumber: 'IFT-88213-1',
      serviceType: '2205005', // Hospital-to-Hospital Transfer
      unitCapability: '2207019', // Ground Transport (Critical Care Equipped)
      vehicleNumber: 'CC7',
      callSign: 'CRITICAL 7',
      responseMode: '2223005', // Non-Emergent
    },
    dispatch: { reason: '2301071' }, // Transfer/Interfacility/Palliative Care
    times: {
      unitNotified: mountainTime(-45),
      unitEnRoute: mountainTime(-40),
      unitOnScene: mountainTime(-10),
      atPatient: mountainTime(-5),
      unitLeftScene: mountainTime(0),
      atDestination: mountainTime(vitalCount * 2 + 5),
      transferOfCare: mountainTime(vitalCount * 2 + 15),
      backInService: mountainTime(vitalCount * 2 + 40),
    },
    scene: { address: { street: '1200 N Elm St', state: 'AZ', zip: '85004' }, numberOfPatients: 1, locationType: 'Y92.239' },
    patient: { age: 3, ageUnits: '2516007', sex: '9919001', race: ['2514003'] },
    situation: { primaryImpression: 'J96.00', acuity: '2813003', transferReason: codeOf('eSituation.20', 'Pediatric Specialty Care') },
    vitals: Array.from({ length: vitalCount }, (_, i) => ({
      id: `v${i + 1}`,
      takenAt: mountainTime(i * 2),
      systolic: 88 + (i % 7),
      diastolic: 52 + (i % 5),
      heartRate: 128 - (i % 9),
      respiratoryRate: 30 + (i % 4),
      spo2: 93 + (i % 5),
      etco2: 38 + (i % 6),
    })),
    medications: [],
    procedures: [],
    disposition: {
      destinationName: "Phoenix Children's Hospital",
      destinationAddress: { state: 'AZ', zip: '85016', county: '04013' },
      destinationType: '4221005',
      unitDisposition: '4227001',
      patientEvaluationCare: '4228001',
      crewDisposition: '4229001',
      transportDisposition: '4230001',
    },
    payment: { primaryMethod: '2601003', serviceLevel: '2650015' },
  };
}

/**
 * A witnessed cardiac arrest with ROSC in the field (issue 16's "cardiac arrest with ROSC"): the
 * arrest group, ECG, protocols, the crew and who gave each medication and did each procedure,
 * transport mode and destination reason. Codes by their XSD labels (codeOf).
 */
export function cardiacArrestEpcr(): Epcr {
  const c = codeOf;
  return {
    ...base,
    id: '3c1f6a2e-7d4b-4e8a-9b1c-2a5d8e7f6c41',
    record: { pcrNumber: '2024-10-14-0311' },
    response: {
      incidentNumber: '351-24.46690', responseNumber: '351-24.46690.1', serviceType: c('eResponse.05', 'Emergency Response (Primary Response Area)'),
      unitCapability: c('eResponse.07', 'Ground Transport (ALS Equipped)'), vehicleNumber: '84DR8411', callSign: 'DF A1',
      responseMode: c('eResponse.23', 'Emergent (Immediate Response)'), responseModeDescriptors: [c('eResponse.24', 'Lights and Sirens')],
      dispatchDelays: [c('eResponse.08', 'None/No Delay')], responseDelays: [c('eResponse.09', 'None/No Delay')], sceneDelays: [c('eResponse.10', 'None/No Delay')],
      transportDelays: [c('eResponse.11', 'None/No Delay')], turnAroundDelays: [c('eResponse.12', 'None/No Delay')],
    },
    dispatch: { reason: c('eDispatch.01', 'Cardiac Arrest/Death'), emdPerformed: c('eDispatch.02', 'Yes, With Pre-Arrival Instructions'), priority: c('eDispatch.05', 'Critical') },
    crew: [
      { id: 'c1', memberId: 'P-40211', level: c('eCrew.02', 'Paramedic'), roles: [c('eCrew.03', 'Primary Patient Caregiver-At Scene'), c('eCrew.03', 'Primary Patient Caregiver-Transport')] },
      { id: 'c2', memberId: 'E-51873', level: c('eCrew.02', 'Emergency Medical Technician (EMT)'), roles: [c('eCrew.03', 'Driver/Pilot-Response'), c('eCrew.03', 'Driver/Pilot-Transport')] },
    ],
    times: {
      psapCall: '2024-10-14T07:12:05-04:00', unitNotified: '2024-10-14T07:12:40-04:00', unitEnRoute: '2024-10-14T07:13:30-04:00',
      unitOnScene: '2024-10-14T07:19:10-04:00', atPatient: '2024-10-14T07:20:00-04:00', unitLeftScene: '2024-10-14T07:48:00-04:00',
      atDestination: '2024-10-14T07:58:30-04:00', transferOfCare: '2024-10-14T08:05:00-04:00', backInService: '2024-10-14T08:40:00-04:00',
    },
    scene: {
      address: { street: '18 Oak Street', state: 'CT', zip: '06810', county: '09001' }, numberOfPatients: 1, locationType: 'Y92.009',
      firstOnScene: c('eScene.01', 'Yes'), massCasualty: c('eScene.07', 'No'),
    },
    patient: { firstName: 'Walter', lastName: 'Brandt', dateOfBirth: '1953-06-21', sex: c('ePatient.25', 'Male'), race: [c('ePatient.14', 'White')], address: { state: 'CT', zip: '06810', county: '09001' } },
    situation: {
      onset: '2024-10-14T07:10:00-04:00', possibleInjury: c('eSituation.02', 'No'), chiefComplaint: 'Collapsed at breakfast, not breathing',
      complaintLocation: c('eSituation.07', 'Chest'), complaintOrganSystem: c('eSituation.08', 'Cardiovascular'),
      primarySymptom: 'R09.2', primaryImpression: 'I46.9', acuity: c('eSituation.13', 'Critical (Red)'),
    },
    arrest: {
      cardiacArrest: c('eArrest.01', 'Yes, Prior to Any EMS Arrival (includes Transport EMS & Medical First Responders)'),
      etiology: c('eArrest.02', 'Cardiac (Presumed)'),
      resuscitationAttempted: [c('eArrest.03', 'Attempted Defibrillation'), c('eArrest.03', 'Attempted Ventilation'), c('eArrest.03', 'Initiated Chest Compressions')],
      witnessedBy: [c('eArrest.04', 'Witnessed by Family Member')],
      aedPriorToEms: c('eArrest.07', 'No'),
      cprTypes: [c('eArrest.09', 'Compressions-Manual'), c('eArrest.09', 'Ventilation-Bag Valve Mask')],
      firstRhythm: c('eArrest.11', 'Ventricular Fibrillation'),
      rosc: [c('eArrest.12', 'Yes, Prior to Arrival at the ED')],
      arrestAt: '2024-10-14T07:11:00-04:00',
      discontinuedReason: c('eArrest.16', 'Return of Spontaneous Circulation (pulse or BP noted)'),
      rhythmAtDestination: [c('eArrest.17', 'Sinus Tachycardia')],
      endOfEvent: c('eArrest.18', 'ROSC in the Field'),
      cprFirstBy: c('eArrest.20', 'Family Member'),
      aedFirstBy: c('eArrest.21', 'EMS Responder (transport EMS)'),
      defibrillatedFirstBy: c('eArrest.22', 'EMS Responder (transport EMS)'),
    },
    history: { barriersToCare: [c('eHistory.01', 'Unconscious')], medicalHistory: ['I25.10'] },
    vitals: [
      {
        id: 'v1', takenAt: '2024-10-14T07:21:00-04:00', priorToUnit: c('eVitals.02', 'No'), heartRate: 0, respiratoryRate: 0,
        cardiacRhythm: [c('eVitals.03', 'Ventricular Fibrillation')], ecgType: c('eVitals.04', '2 Lead ECG (pads or paddles)'), ecgInterpretation: [c('eVitals.05', 'Manual Interpretation')],
        gcsEye: 1, gcsVerbal: 1, gcsMotor: 1, avpu: c('eVitals.26', 'Unresponsive'),
      },
      {
        id: 'v2', takenAt: '2024-10-14T07:40:00-04:00', priorToUnit: c('eVitals.02', 'No'), systolic: 96, diastolic: 58, heartRate: 118, respiratoryRate: 12, spo2: 94, etco2: 34,
        cardiacRhythm: [c('eVitals.03', 'Sinus Tachycardia')], ecgType: c('eVitals.04', '12 Lead-Left Sided (Normal)'), ecgInterpretation: [c('eVitals.05', 'Computer Interpretation')],
        gcsEye: 1, gcsVerbal: 1, gcsMotor: 2, avpu: c('eVitals.26', 'Painful'),
        strokeScaleType: c('eVitals.30', 'Cincinnati Prehospital Stroke Scale (CPSS)'), strokeScaleResult: c('eVitals.29', 'Non-Conclusive'),
        reperfusionChecklist: c('eVitals.31', 'Definite Contraindications to Thrombolytic Use'),
      },
    ],
    protocols: { used: [c('eProtocols.01', 'Cardiac Arrest-Ventricular Fibrillation/ Pulseless Ventricular Tachycardia'), c('eProtocols.01', 'Cardiac Arrest-Post Resuscitation Care')] },
    medications: [
      {
        id: 'm1', givenAt: '2024-10-14T07:26:00-04:00', priorToUnit: c('eMedications.02', 'No'), medication: '3992', route: c('eMedications.04', 'Intraosseous (IO)'),
        dose: 1, doseUnit: c('eMedications.06', 'Milligrams (mg)'), response: c('eMedications.07', 'Unchanged'), complication: c('eMedications.08', 'None'),
        performerRole: c('eMedications.10', 'Paramedic'),
      },
    ],
    procedures: [
      {
        id: 'p1', performedAt: '2024-10-14T07:21:30-04:00', priorToUnit: c('eProcedures.02', 'No'), procedure: '426220008', attempts: 2, successful: c('eProcedures.06', 'Yes'),
        complications: [c('eProcedures.07', 'None')], response: c('eProcedures.08', 'Improved'), performerRole: c('eProcedures.10', 'Paramedic'),
      },
    ],
    narrative: { text: 'Witnessed collapse, family CPR. VF on arrival; 2 shocks, epinephrine 1 mg IO; ROSC at 07:38. Transported with 12-lead.' },
    disposition: {
      destinationName: 'Danbury Hospital', destinationCode: '070033',
      destinationAddress: { street: '24 Hospital Avenue', city: '213415', state: 'CT', zip: '06810', county: '09001' },
      destinationType: c('eDisposition.21', 'Hospital-Emergency Department'), unitDisposition: c('eDisposition.27', 'Patient Contact Made'),
      patientEvaluationCare: c('eDisposition.28', 'Patient Evaluated and Care Provided'), crewDisposition: c('eDisposition.29', 'Initiated and Continued Primary Care'),
      transportDisposition: c('eDisposition.30', 'Transport by This EMS Unit (This Crew Only)'),
      transportMethod: c('eDisposition.16', 'Ground-Ambulance'), transportMode: c('eDisposition.17', 'Emergent (Immediate Response)'),
      transportModeDescriptors: [c('eDisposition.18', 'Lights and Sirens')], releaseAcuity: c('eDisposition.19', 'Critical (Red)'),
      destinationReasons: [c('eDisposition.20', 'Protocol'), c('eDisposition.20', 'Regional Specialty Center')], inpatientDestination: c('eDisposition.22', 'Hospital-Cath Lab'),
      hospitalCapabilities: [c('eDisposition.23', 'Cardiac-STEMI/PCI Capable (24/7)')], levelOfCare: c('eDisposition.32', 'ALS - Paramedic'),
      preArrivalAlert: c('eDisposition.24', 'Yes-Cardiac Arrest'), preArrivalAlertAt: '2024-10-14T07:46:00-04:00', loadedMiles: 4.1,
    },
    payment: { primaryMethod: c('ePayment.01', 'Medicare'), serviceLevel: c('ePayment.50', 'ALS, Level 2') },
  };
}

/**
 * The highway crash (motorVehicleCollisionEpcr) as the crew documents injuries since issue 16:
 * cause of injury, trauma triage criteria, MCI triage, GCS qualifier, other symptoms and the
 * signs of alcohol or drug use.
 */
export function collisionWithInjuriesEpcr(): Epcr {
  const c = codeOf;
  const crash = motorVehicleCollisionEpcr();
  return {
    ...crash,
    id: '7e2b9c14-58d3-4a6f-b0e1-93c4d2a7f815',
    record: { pcrNumber: '2024-10-11-0108' },
    scene: { ...crash.scene, massCasualty: c('eScene.07', 'Yes'), mciTriage: c('eScene.08', 'Yellow - Delayed'), firstOnScene: c('eScene.01', 'Yes') },
    situation: { ...crash.situation, otherSymptoms: ['R51.9', 'M54.2'], complaintLocation: c('eSituation.07', 'Head'), complaintOrganSystem: c('eSituation.08', 'Musculoskeletal/Skin') },
    injury: {
      causes: ['V43.52XA', 'Y28.9'],
      highRiskCriteria: [c('eInjury.03', 'Skull deformity, suspected skull fracture')],
      moderateRiskCriteria: [c('eInjury.04', 'Anticoagulant use'), c('eInjury.04', 'Auto Crash: Significant intrusion (including roof): >12 inches occupant site; >18 inches any site; need for extrication')],
    },
    arrest: { cardiacArrest: c('eArrest.01', 'No') },
    history: { ...crash.history, alcoholDrugUse: [c('eHistory.17', 'Alcohol Containers/Paraphernalia at Scene')] },
    disposition: { ...crash.disposition, loadedMiles: 6.8 },
    vitals: crash.vitals!.map((vital) => ({ ...vital, gcsQualifiers: [c('eVitals.22', 'Initial GCS has legitimate values without interventions such as intubation and sedation')] })),
  };
}
