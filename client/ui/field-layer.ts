/**
 * Field service on the dispatch map: technicians by their last reported position (the live feed's
 * `technician:position`, which follows the same rules as units' positions) and open jobs by their
 * site, coloured by status. Used by every console that shows the field (dispatch, the office).
 */
import { signal } from '@preact/signals';
import type { Job } from '../../shared/schemas/index.ts';
import { epochOf } from './time.ts';
import type { MapMarker } from './map-types.ts';

export const liveTechnicians = signal<Record<string, { lat: number; lng: number; at: number }>>({});

/** The live feed's `technician:position`: the newest position of each technician. */
export function onTechnicianPosition(payload: Record<string, unknown>): void {
  const id = String(payload['sourceId'] ?? '');
  const at = epochOf(payload['recordedAt'] as string) ?? Date.now();
  const known = liveTechnicians.value[id];
  if (!id || (known && known.at > at)) return;
  liveTechnicians.value = { ...liveTechnicians.value, [id]: { lat: Number(payload['lat']), lng: Number(payload['lng']), at } };
}

const STALE_MS = 10 * 60_000;

export function fieldMarkers(jobs: readonly Job[], now: number): MapMarker[] {
  const technicians = Object.entries(liveTechnicians.value).map(([id, p]) => ({
    id: `tech-${id}`, lat: p.lat, lng: p.lng, label: `Technician ${id}`, kind: 'technician' as const, status: 'available', stale: now - p.at > STALE_MS,
  }));
  const open = jobs.filter((j) => j.location && j.status !== 'completed').map((j) => ({
    id: `job-${j.id}`, lat: j.location!.lat, lng: j.location!.lng, label: `Job ${j.orderNumber ?? j.id.slice(0, 8)} ${j.customer?.name ?? ''} (${j.status})`.trim(), kind: 'job' as const, status: j.status,
  }));
  return [...open, ...technicians];
}
