/**
 * The ETA of a pre-arrival notice. The ePCR has no ETA field (NEMSIS has no such element), so it
 * is estimated from what the server knows: the unit's last GPS fix (units.lastPosition, sent by
 * the MDT) and the destination's coordinates (the agency's facility list, dFacility, whose code is
 * the eDisposition.02 the crew chose). A straight line is shorter than the road: the distance is
 * stretched by a detour factor and driven at an average emergency-transport speed. Rough by
 * design and said so in the notice ("estimated from …"); no routing service is called, so the
 * notice never waits on one. Without a fix or coordinates there is no ETA and the notice says
 * to call the unit.
 */
import { distanceM, type LatLng } from '../../../shared/domain/distance.ts';
import { offsetDateTime } from '../../../shared/domain/time.ts';
import type { NoticeEta } from './notice-bundle.ts';

/** Road distance / straight-line distance; 1.3–1.4 is the usual figure for road networks. */
export const DETOUR_FACTOR = 1.4;
/** Average speed of an emergency transport, km/h (lights and sirens in mixed urban/suburban traffic). */
export const AVERAGE_SPEED_KMH = 50;
/** A fix older than this says too little about where the unit is now. */
export const MAX_FIX_AGE_MS = 10 * 60_000;

export function estimateEta(input: {
  now: Date;
  /** Minutes east of UTC the ETA is written in (the report's own offset). */
  offsetMinutes: number | undefined;
  unitPosition: LatLng | undefined;
  unitPositionAt: string | undefined;
  destination: LatLng | undefined;
}): NoticeEta | undefined {
  const { now, unitPosition, unitPositionAt, destination } = input;
  if (!unitPosition || !destination || !unitPositionAt) return undefined;
  const fixAt = Date.parse(unitPositionAt);
  if (!Number.isFinite(fixAt) || now.getTime() - fixAt > MAX_FIX_AGE_MS) return undefined;
  const roadKm = (distanceM(unitPosition, destination) / 1000) * DETOUR_FACTOR;
  const minutes = Math.max(1, Math.round((roadKm / AVERAGE_SPEED_KMH) * 60));
  const at = new Date(now.getTime() + minutes * 60_000);
  return {
    at: offsetDateTime(at, input.offsetMinutes ?? 0),
    basis: `estimated: about ${minutes} min from the unit's GPS position, ${roadKm.toFixed(1)} km by road at ${AVERAGE_SPEED_KMH} km/h`,
  };
}
