/**
 * ePCRs modelled on the kinds of calls in the official NEMSIS 3.5.1 compliance samples
 * (shared/nemsis/samples). Codes are real NEMSIS code-list values; clinical codes (ICD-10,
 * RxNorm, SNOMED) are taken from the samples where they have one.
 */
import type { NemsisAgency } from '../../../server/nemsis/emsdataset.ts';
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
      race: ['2514011', '2514007'],
      address: { street: '325 East 77th Street', apartment: '#5K', state: 'NY', zip: '10075', county: '36047' },
      phone: '+1 917 409 4876',
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
    situation: { primaryImpression: 'J96.00', acuity: '2813003' },
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
