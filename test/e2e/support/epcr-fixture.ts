import { randomUUID } from 'node:crypto';
import { offsetNow } from './server.ts';

/**
 * A report the finalize workflow locks (every field validateEpcrForFinalize asks for when the
 * patient was not transported), for unit `unitId`, made without a call (no incidentId).
 */
export function completeReportWithoutCall(unitId: string, patient: { lastName: string; firstName: string }, incidentNumber: string, at = new Date(Date.now() - 3 * 3600_000)): Record<string, unknown> {
  const time = (minutes: number) => offsetNow(new Date(at.getTime() + minutes * 60_000));
  return {
    id: randomUUID(), status: 'finalized', unitId,
    response: { incidentNumber, serviceType: '2205001', unitCapability: '2207015', vehicleNumber: unitId, callSign: unitId, responseMode: '2223001' },
    dispatch: { reason: '2301063' },
    times: { unitNotified: time(0), backInService: time(50) },
    patient: { ...patient, dateOfBirth: '1961-04-02' },
    situation: { chiefComplaint: 'felt faint at the bus stop' },
    vitals: [{ id: 'v1', takenAt: time(12), heartRate: 88, systolic: 118, diastolic: 76 }],
    // No Transport (4230013): a refusal (4230009) would also need its statement and signatures (issue 18).
    disposition: { unitDisposition: '4227001', transportDisposition: '4230013' },
    narrative: { text: 'Walk-up patient, not transported after assessment.' },
  };
}
