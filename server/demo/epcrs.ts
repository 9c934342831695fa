/**
 * M1's finished report of the closed call D-1001 (chest pain, ALS emergency transport to Danbury
 * Hospital). It is written complete with status `finalized`, as a crew's finalize arrives: the
 * epcr-finalized workflow validates and locks it, and epcr-billing makes its billing record.
 * Its id is the stub id of (D-1001, M1), so incident-created finds it and makes no second report.
 * It carries the national elements the form offers (crew, protocols, transport mode, aspirin with
 * who gave it, ePatient.13) and the hospital outcome an admin would add, so the quick start shows them.
 */
import { codeOf } from '../../shared/nemsis/codes.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { stubEpcrId } from '../hooks/workflows/support.ts';
import { CITY, CITY_GNIS, locationOf, PLACES } from './places.ts';
import { closedCallTimes, closedIncidentId, CLOSED_INCIDENT } from './incidents.ts';
import { minutesAgo } from './clock.ts';
import { createIfMissing, type DemoSeedContext, type SeedDoc } from './write.ts';

/** Demo codes are looked up by their NEMSIS label, as the apps' pick-lists do (never typed as numbers). */
const ALERT = codeOf('eVitals.26', 'Alert');

export const finishedEpcrId = (tenantId: string) => stubEpcrId(tenantId, closedIncidentId(tenantId), 'M1');

export function finishedEpcr(tenantId: string, now: Date): SeedDoc<'epcrs'> {
  const times = closedCallTimes(now);
  const at = (minutes: number) => minutesAgo(now, minutes);
  const report: SeedDoc<'epcrs'> & Partial<Epcr> = {
    id: finishedEpcrId(tenantId), status: 'finalized', unitId: 'M1', incidentId: closedIncidentId(tenantId),
    record: { pcrNumber: `${times.unitNotified.slice(0, 10)}-0001` },
    response: {
      agencyNumber: 'DEMO-001', incidentNumber: CLOSED_INCIDENT, responseNumber: `${CLOSED_INCIDENT}.1`,
      serviceType: codeOf('eResponse.05', 'Emergency Response (Primary Response Area)'), unitCapability: codeOf('eResponse.07', 'Ground Transport (ALS Equipped)'),
      vehicleNumber: 'DEMO-M1', callSign: 'M1', responseMode: codeOf('eResponse.23', 'Emergent (Immediate Response)'),
    },
    dispatch: { reason: codeOf('eDispatch.01', 'Chest Pain (Non-Traumatic)'), priority: codeOf('eDispatch.05', 'Critical'), cadRecordId: 'CAD-24-1001', complaint: 'Chest pain, 67 y/o male, diaphoretic' },
    times,
    scene: {
      address: { street: PLACES.closedCall.street, city: CITY_GNIS, state: CITY.state, zip: CITY.zip, county: CITY.county },
      location: locationOf(PLACES.closedCall), numberOfPatients: 1, locationType: 'Y92.009',
    },
    patient: {
      firstName: 'Walter', lastName: 'Demo', dateOfBirth: '1959-04-18', age: 67, ageUnits: codeOf('ePatient.16', 'Years'), sex: codeOf('ePatient.25', 'Male'),
      gender: codeOf('ePatient.13', 'Male (DEPRECATED)'), race: [codeOf('ePatient.14', 'White')],
      address: { street: '57 Main Street', apartment: '3', city: CITY_GNIS, state: CITY.state, zip: CITY.zip, county: CITY.county },
    },
    situation: {
      possibleInjury: codeOf('eSituation.02', 'No'), chiefComplaint: 'Chest pain', primarySymptom: 'R07.9', primaryImpression: 'I20.9', acuity: codeOf('eSituation.13', 'Emergent (Yellow)'),
    },
    arrest: { cardiacArrest: codeOf('eArrest.01', 'No') },
    crew: [
      { id: 'c1', memberId: 'P-1001', level: codeOf('eCrew.02', 'Paramedic'), roles: [codeOf('eCrew.03', 'Primary Patient Caregiver-At Scene'), codeOf('eCrew.03', 'Primary Patient Caregiver-Transport')] },
      { id: 'c2', memberId: 'E-1002', level: codeOf('eCrew.02', 'Emergency Medical Technician (EMT)'), roles: [codeOf('eCrew.03', 'Driver/Pilot-Transport')] },
    ],
    protocols: { used: [codeOf('eProtocols.01', 'Medical-Cardiac Chest Pain')] },
    medications: [
      { id: 'm1', givenAt: at(175), medication: '1191', route: codeOf('eMedications.04', 'Oral'), dose: 324, doseUnit: codeOf('eMedications.06', 'Milligrams (mg)'), response: codeOf('eMedications.07', 'Unchanged'), performerRole: codeOf('eMedications.10', 'Paramedic'), priorToUnit: codeOf('eMedications.02', 'No') },
    ],
    vitals: [
      { id: 'v1', takenAt: at(178), systolic: 162, diastolic: 94, heartRate: 104, respiratoryRate: 22, spo2: 94, pain: 8, avpu: ALERT },
      { id: 'v2', takenAt: at(168), systolic: 148, diastolic: 88, heartRate: 96, respiratoryRate: 18, spo2: 97, pain: 5, avpu: ALERT },
    ],
    narrative: { text: 'Demo report. 67 y/o M, substernal chest pain 30 min, diaphoretic. 12-lead without STEMI. Transported emergent to Danbury Hospital ED, care transferred to RN.' },
    disposition: {
      destinationName: 'Danbury Hospital', destinationCode: '070033',
      destinationAddress: { street: PLACES.hospital.street, city: CITY_GNIS, state: '09', zip: CITY.zip, county: CITY.county },
      destinationType: codeOf('eDisposition.21', 'Hospital-Emergency Department'), unitDisposition: codeOf('eDisposition.27', 'Patient Contact Made'),
      patientEvaluationCare: codeOf('eDisposition.28', 'Patient Evaluated and Care Provided'), crewDisposition: codeOf('eDisposition.29', 'Initiated and Continued Primary Care'),
      transportDisposition: codeOf('eDisposition.30', 'Transport by This EMS Unit (This Crew Only)'), preArrivalAlert: codeOf('eDisposition.24', 'No'), loadedMiles: 1.4,
      transportMethod: codeOf('eDisposition.16', 'Ground-Ambulance'), transportMode: codeOf('eDisposition.17', 'Emergent (Immediate Response)'),
      destinationReasons: [codeOf('eDisposition.20', 'Closest Facility')], levelOfCare: codeOf('eDisposition.32', 'ALS - Paramedic'),
      releaseAcuity: codeOf('eDisposition.19', 'Emergent (Yellow)'),
    },
    // What the hospital reported afterwards (an admin enters it: PUT /api/epcrs/{id}/outcome).
    outcome: {
      edDisposition: codeOf('eOutcome.01', 'Admitted as an inpatient to this hospital.'),
      hospitalDisposition: codeOf('eOutcome.02', 'Discharged to home or self care (routine discharge)'),
      edDiagnoses: ['I20.0'], edAdmittedAt: at(160),
    },
    payment: { primaryMethod: codeOf('ePayment.01', 'Medicare'), serviceLevel: codeOf('ePayment.50', 'ALS, Level 1 Emergency'), insuranceCompany: 'Medicare', memberId: '1EG4TE5MK72' },
  };
  return report;
}

export async function seedFinishedEpcr(ctx: DemoSeedContext): Promise<void> {
  await createIfMissing(ctx, 'epcrs', finishedEpcr(ctx.tenantId, ctx.now));
}
