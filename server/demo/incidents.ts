/**
 * The demo calls: D-1001 closed earlier (M1 transported; its report is finished), D-1002 active
 * with M1 en route (incident-created makes M1's ePCR stub from it), D-1003 new and unassigned
 * for dispatch to assign.
 */
import { codeOf } from '../../shared/nemsis/codes.ts';
import { incidentIdFor } from '../hooks/ids.ts';
import { minutesAgo } from './clock.ts';
import { addressOf, locationOf, PLACES } from './places.ts';
import { createIfMissing, type DemoSeedContext } from './write.ts';

export const CLOSED_INCIDENT = 'D-1001';
export const ACTIVE_INCIDENT = 'D-1002';
export const NEW_INCIDENT = 'D-1003';

export const closedIncidentId = (tenantId: string) => incidentIdFor(tenantId, CLOSED_INCIDENT);
export const activeIncidentId = (tenantId: string) => incidentIdFor(tenantId, ACTIVE_INCIDENT);

/** Minutes before the seed of each step of the closed call: the incident's timeline and the report's times agree. */
export const CLOSED_CALL_MINUTES = {
  psapCall: 190, dispatchNotified: 189, unitNotified: 188, unitEnRoute: 187, unitOnScene: 181, atPatient: 180,
  unitLeftScene: 166, atDestination: 158, transferOfCare: 154, backInService: 140,
} as const;

export function closedCallTimes(now: Date): Record<keyof typeof CLOSED_CALL_MINUTES, string> {
  return Object.fromEntries(Object.entries(CLOSED_CALL_MINUTES).map(([key, minutes]) => [key, minutesAgo(now, minutes)])) as Record<keyof typeof CLOSED_CALL_MINUTES, string>;
}

export async function seedIncidents(ctx: DemoSeedContext): Promise<void> {
  const { tenantId, now } = ctx;
  await createIfMissing(ctx, 'incidents', {
    id: closedIncidentId(tenantId), incidentNumber: CLOSED_INCIDENT, cadRecordId: 'CAD-24-1001', type: 'Medical',
    complaint: 'Chest pain, 67 y/o male, diaphoretic', priority: codeOf('eDispatch.05', 'Critical'),
    address: addressOf(PLACES.closedCall), location: locationOf(PLACES.closedCall),
    assignedUnitId: 'M1', status: 'closed', timeline: closedCallTimes(now), transportCompleted: true,
    closedAt: minutesAgo(now, 139), closeReason: 'Patient transported to Danbury Hospital', closedBy: 'Dispatcher',
  });
  await createIfMissing(ctx, 'incidents', {
    id: activeIncidentId(tenantId), incidentNumber: ACTIVE_INCIDENT, cadRecordId: 'CAD-24-1002', type: 'Medical',
    complaint: 'Difficulty breathing, history of COPD', priority: codeOf('eDispatch.05', 'Critical'),
    address: { ...addressOf(PLACES.activeCall), crossStreet: 'Padanaram Road' }, location: locationOf(PLACES.activeCall),
    assignedUnitId: 'M1', status: 'dispatched', requiredCapability: codeOf('eResponse.07', 'Ground Transport (ALS Equipped)'),
    timeline: { psapCall: minutesAgo(now, 7), dispatchNotified: minutesAgo(now, 6), unitNotified: minutesAgo(now, 5), dispatchAcknowledged: minutesAgo(now, 4), unitEnRoute: minutesAgo(now, 3) },
  });
  await createIfMissing(ctx, 'incidents', {
    id: incidentIdFor(tenantId, NEW_INCIDENT), incidentNumber: NEW_INCIDENT, cadRecordId: 'CAD-24-1003', type: 'Medical',
    complaint: 'Fall at home, 82 y/o female, hip pain', priority: codeOf('eDispatch.05', 'Emergent'),
    address: addressOf(PLACES.newCall), location: locationOf(PLACES.newCall),
    // A BLS transport: the console recommends the nearest free unit that has at least that (M2, ALS; M3 is posted, not free).
    status: 'new', requiredCapability: codeOf('eResponse.07', 'Ground Transport (BLS Equipped)'), timeline: { psapCall: minutesAgo(now, 1) },
  });
}
