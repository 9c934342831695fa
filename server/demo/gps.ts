/**
 * Position fixes: M1's track from its station toward the active call (what the MDT sends) and
 * technician T1's last fix at the depot, which is how ticket-created knows T1 to give the job to.
 */
import { deterministicId } from '../hooks/ids.ts';
import { minutesAgo } from './clock.ts';
import { PLACES } from './places.ts';
import { createIfMissing, type DemoSeedContext } from './write.ts';

const from = PLACES.station1;
const to = PLACES.activeCall;
/** Eight fixes, 30 s apart, the last one a minute ago, about two thirds of the way there. */
export const M1_TRACK = Array.from({ length: 8 }, (_, i) => {
  const f = (i + 1) / 12;
  return {
    lat: Number((from.lat + (to.lat - from.lat) * f).toFixed(6)),
    lng: Number((from.lng + (to.lng - from.lng) * f).toFixed(6)),
    minutesAgo: 4.5 - i * 0.5,
  };
});

export async function seedGps(ctx: DemoSeedContext): Promise<void> {
  const { tenantId, now } = ctx;
  for (const [i, fix] of M1_TRACK.entries()) {
    await createIfMissing(ctx, 'gps_points', {
      id: deterministicId('demo-gps', tenantId, 'unit', 'M1', String(i)),
      sourceType: 'unit', sourceId: 'M1', lat: fix.lat, lng: fix.lng, accuracyM: 6, speedMps: 13.4, heading: 290,
      recordedAt: minutesAgo(now, fix.minutesAgo),
    });
  }
  await createIfMissing(ctx, 'gps_points', {
    id: deterministicId('demo-gps', tenantId, 'technician', 'T1', '0'),
    sourceType: 'technician', sourceId: 'T1', lat: PLACES.technicianDepot.lat, lng: PLACES.technicianDepot.lng, accuracyM: 12,
    recordedAt: minutesAgo(now, 2),
  });
}
