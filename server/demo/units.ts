/**
 * The demo fleet: M1 (the crew-m1 user's unit), M2 in quarters, M3 posted. The units exist before
 * the calls (incident-created copies the unit's call sign and capability into the stub); M1 then
 * takes the active call, as CAD's assignment does.
 */
import { codeOf } from '../../shared/nemsis/codes.ts';
import { unitIdFor } from '../hooks/ids.ts';
import { minutesAgo } from './clock.ts';
import { activeIncidentId } from './incidents.ts';
import { locationOf, PLACES } from './places.ts';
import { createIfMissing, updateIf, type DemoSeedContext } from './write.ts';
import { M1_TRACK } from './gps.ts';

export async function seedUnits(ctx: DemoSeedContext): Promise<void> {
  const { tenantId, now } = ctx;
  await createIfMissing(ctx, 'units', {
    id: unitIdFor(tenantId, 'M1'), callSign: 'M1', capability: codeOf('eResponse.07', 'Ground Transport (ALS Equipped)'), status: 'available', statusAt: minutesAgo(now, 30),
    lastPosition: locationOf(PLACES.station1), lastPositionAt: minutesAgo(now, 6), crewNames: ['J. Alvarez, Paramedic', 'S. Brooks, EMT'],
  });
  await createIfMissing(ctx, 'units', {
    id: unitIdFor(tenantId, 'M2'), callSign: 'M2', capability: codeOf('eResponse.07', 'Ground Transport (ALS Equipped)'), status: 'available', statusAt: minutesAgo(now, 55),
    lastPosition: locationOf(PLACES.station2), lastPositionAt: minutesAgo(now, 2), crewNames: ['R. Chen, Paramedic', 'D. Moore, EMT'],
  });
  await createIfMissing(ctx, 'units', {
    id: unitIdFor(tenantId, 'M3'), callSign: 'M3', capability: codeOf('eResponse.07', 'Ground Transport (BLS Equipped)'), status: 'staged', statusAt: minutesAgo(now, 20),
    lastPosition: locationOf(PLACES.m3Post), lastPositionAt: minutesAgo(now, 1), crewNames: ['K. Patel, EMT', 'L. Novak, EMT'],
  });
}

/** M1 on its way to the active call (after the calls exist): what its MDT shows. */
export async function assignM1(ctx: DemoSeedContext): Promise<void> {
  const { tenantId, now } = ctx;
  const m1Last = M1_TRACK[M1_TRACK.length - 1]!;
  await updateIf(ctx, 'units', unitIdFor(tenantId, 'M1'), (unit) => (unit.currentIncidentId || unit.status !== 'available' ? undefined : {
    ...unit, status: 'en_route' as const, statusAt: minutesAgo(now, 3),
    currentIncidentId: activeIncidentId(tenantId), assignmentAcknowledgedAt: minutesAgo(now, 4),
    lastPosition: { lat: m1Last.lat, lng: m1Last.lng }, lastPositionAt: minutesAgo(now, m1Last.minutesAgo),
  }));
}
