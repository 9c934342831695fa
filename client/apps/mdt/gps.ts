/**
 * GPS from `navigator.geolocation.watchPosition`, thinned and batched before it reaches the
 * database: a fix is kept when the unit moved `minDistanceM` (and at least `minIntervalMs` went
 * by) or when `maxIntervalMs` passed without one; kept fixes are written in batches of
 * `batchSize` or every `flushMs`. Written fixes are queued for sync like any document, so a
 * dead zone loses nothing.
 */
import { signal } from '@preact/signals';
import { write } from '../../ui/db.ts';
import { uuid } from '../../ui/ids.ts';
import { offsetDateTime } from '../../ui/time.ts';

export interface Fix { lat: number; lng: number; accuracyM?: number; speedMps?: number; heading?: number; at: number }

export interface GpsOptions {
  tenantId: string;
  sourceType: 'unit' | 'technician';
  sourceId: string;
  minDistanceM?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  batchSize?: number;
  flushMs?: number;
  /** Called after each written batch with its last fix (e.g. to update the unit's lastPosition). */
  onFlushed?: (last: Fix) => void;
}

export const gpsState = signal<{ state: 'off' | 'waiting' | 'on' | 'denied' | 'unavailable'; last?: Fix; recorded: number; buffered: number; message?: string }>({ state: 'off', recorded: 0, buffered: 0 });

export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function startGps(options: GpsOptions): () => void {
  const o = { minDistanceM: 20, minIntervalMs: 500, maxIntervalMs: 30_000, batchSize: 10, flushMs: 5000, ...options };
  let kept: Fix | undefined;
  let buffer: Fix[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  if (!('geolocation' in navigator)) {
    gpsState.value = { ...gpsState.value, state: 'unavailable', message: 'This device has no location service.' };
    return () => {};
  }
  const flush = async () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    const docs = batch.map((fix) => ({
      id: uuid(), tenantId: o.tenantId, sourceType: o.sourceType, sourceId: o.sourceId,
      lat: fix.lat, lng: fix.lng, recordedAt: offsetDateTime(new Date(fix.at)),
      ...(fix.accuracyM !== undefined ? { accuracyM: fix.accuracyM } : {}),
      ...(fix.speedMps !== undefined ? { speedMps: fix.speedMps } : {}),
      ...(fix.heading !== undefined ? { heading: fix.heading } : {}),
    }));
    try {
      await write.bulkInsert('gps_points', docs);
      gpsState.value = { ...gpsState.value, recorded: gpsState.value.recorded + docs.length, buffered: buffer.length };
      o.onFlushed?.(batch[batch.length - 1]!);
    } catch (error) {
      buffer = [...batch, ...buffer]; // try again with the next batch
      console.warn('fieldsync: GPS batch not saved yet', error);
    }
  };
  const onFix = (position: GeolocationPosition) => {
    const c = position.coords;
    const fix: Fix = {
      lat: c.latitude, lng: c.longitude, at: position.timestamp || Date.now(),
      ...(Number.isFinite(c.accuracy) && c.accuracy >= 0 && c.accuracy <= 100_000 ? { accuracyM: Math.round(c.accuracy * 10) / 10 } : {}),
      ...(c.speed !== null && Number.isFinite(c.speed) && c.speed >= 0 && c.speed <= 400 ? { speedMps: c.speed } : {}),
      ...(c.heading !== null && Number.isFinite(c.heading) && c.heading >= 0 && c.heading <= 360 ? { heading: c.heading } : {}),
    };
    gpsState.value = { ...gpsState.value, state: 'on', last: fix, message: undefined };
    const dt = kept ? fix.at - kept.at : Infinity;
    const moved = kept ? distanceM(kept, fix) : Infinity;
    if (!((moved >= o.minDistanceM && dt >= o.minIntervalMs) || dt >= o.maxIntervalMs)) return;
    kept = fix;
    buffer.push(fix);
    gpsState.value = { ...gpsState.value, buffered: buffer.length };
    if (buffer.length >= o.batchSize) void flush();
    else flushTimer ??= setTimeout(() => void flush(), o.flushMs);
  };
  const onError = (error: GeolocationPositionError) => {
    gpsState.value = {
      ...gpsState.value,
      state: error.code === error.PERMISSION_DENIED ? 'denied' : 'waiting',
      message: error.code === error.PERMISSION_DENIED ? 'Location permission is off: allow it in the browser settings.' : 'Waiting for a GPS fix…',
    };
  };
  gpsState.value = { ...gpsState.value, state: 'waiting' };
  const watch = navigator.geolocation.watchPosition(onFix, onError, { enableHighAccuracy: true, maximumAge: 0, timeout: 60_000 });
  const onHide = () => void flush();
  addEventListener('pagehide', onHide);
  return () => {
    navigator.geolocation.clearWatch(watch);
    removeEventListener('pagehide', onHide);
    void flush();
  };
}
