import { randomUUID } from 'node:crypto';

/** The unit every bulk document belongs to: a crew may only write its own unit's documents. */
export const BENCH_UNIT = 'M1';

/** Documents of the sizes the targets talk about: GPS points of ~200 B and ePCRs of ~2 KB. */
export function gpsDoc(tenantId: string, i: number, unitId = BENCH_UNIT): Record<string, unknown> {
  return {
    id: randomUUID(), tenantId, rev: `1-bench${i % 1000}`, sourceType: 'unit', sourceId: unitId,
    lat: 40 + (i % 1000) * 1e-4, lng: -75 - (i % 1000) * 1e-4, accuracyM: 5, speedMps: 12.5, heading: 90,
    recordedAt: '2026-11-22T10:00:00-05:00', _deleted: false,
  };
}

export function epcrDoc(tenantId: string, i: number, unitId = BENCH_UNIT): Record<string, unknown> {
  const t = '2026-11-22T10:00:00-05:00';
  return {
    id: randomUUID(), tenantId, rev: `1-bench${i % 1000}`, status: 'draft', unitId,
    response: { incidentNumber: `INC-${i}`, vehicleNumber: '12', callSign: 'Medic 12', responseMode: '2223001' },
    times: { unitNotified: t, unitEnRoute: t, unitOnScene: t, atPatient: t },
    patient: { firstName: 'Ana', lastName: 'Reyes', age: 54, sex: '9906001', address: { street: '12 Main St', city: 'Springfield', state: 'PA', zip: '19064' } },
    situation: { chiefComplaint: 'Chest pain radiating to the left arm', primaryImpression: 'I21.9', acuity: '2813003' },
    history: { allergies: ['penicillin'], medicalHistory: ['hypertension', 'type 2 diabetes'], currentMedications: ['metformin', 'lisinopril'] },
    vitals: Array.from({ length: 5 }, (_, k) => ({ id: `v${k}`, takenAt: t, systolic: 140 - k, diastolic: 90, heartRate: 100 + k, respiratoryRate: 18, spo2: 96, gcsEye: 4, gcsVerbal: 5, gcsMotor: 6 })),
    medications: [{ id: 'm1', givenAt: t, medication: 'Aspirin 324 mg', route: '9927043' }],
    narrative: { text: 'Dispatched to a private residence for a 54-year-old female with chest pain. '.repeat(9) },
    disposition: { destinationName: 'Springfield General', unitDisposition: '4227001', transportDisposition: '4230001' },
    _deleted: false,
  };
}
