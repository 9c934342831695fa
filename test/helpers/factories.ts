import { randomUUID } from 'node:crypto';
import type { Epcr, GpsPoint } from '../../shared/schemas/index.ts';

/** A local time with an explicit offset, as NEMSIS wants it (never a Z suffix). */
export function offsetTime(date = new Date(), offset = '-05:00'): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number) as [number, number];
  const shifted = new Date(date.getTime() + sign * (h * 60 + m) * 60_000);
  return shifted.toISOString().replace(/\.\d{3}Z$/, '') + offset;
}

export function newEpcr(tenantId: string, unitId: string, extra: Partial<Epcr> = {}): Omit<Epcr, 'rev'> {
  return { id: randomUUID(), tenantId, unitId, status: 'draft', ...extra };
}

export function newGpsPoint(tenantId: string, unitId: string, i: number): Omit<GpsPoint, 'rev'> {
  return {
    id: randomUUID(), tenantId, sourceType: 'unit', sourceId: unitId,
    lat: 40 + i * 0.0001, lng: -75 - i * 0.0001, recordedAt: offsetTime(new Date(Date.now() + i * 1000)),
  };
}
