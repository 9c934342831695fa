/**
 * GPS from `navigator.geolocation.watchPosition`, thinned and batched before it is stored: a fix
 * is kept when the unit moved `minDistanceM` (and at least `minIntervalMs` went by) or when
 * `maxIntervalMs` passed without one; kept fixes are written in batches of `batchSize` or every
 * `flushMs`. Written fixes are queued for sync like any document, so a dead zone loses nothing.
 *
 * Position reporting (AVL) goes on while the app is locked for inactivity. Locking closes the
 * database and terminates its worker, taking the database key with it (client/ui/lock-screen.tsx),
 * so the recorder belongs to the page, not to the screen: it keeps watching the position, and
 * while no database is attached it hands each batch straight to the service worker's outbound
 * queue (client/queue/), which delivers it as it delivers everything else.
 * Position fixes are not patient data (`gps_points` is neither PHI nor sealed on the device,
 * shared/access/rules.ts), so this path needs no key and the PHI stays locked. The unlocked app
 * gets the points back through its normal pull. Without a service worker (the very first load)
 * fixes wait in memory until the database is attached again.
 */
import { signal } from '@preact/signals';
import { distanceM } from '../../../shared/domain/distance.ts';
import { nextRevision } from '../../../shared/revision.ts';
import { deviceRevisionTag } from '../../sync/writes.ts';
import { collectionSchemas } from '../../../shared/schemas/index.ts';
import { enqueueRows, withOutbox } from '../../queue/index.ts';
import { uuid } from '../../ui/ids.ts';
import { kickServiceWorker } from '../../ui/sw-queue.ts';
import { offsetDateTime } from '../../ui/time.ts';

export interface Fix { lat: number; lng: number; accuracyM?: number; speedMps?: number; heading?: number; at: number }

export interface GpsOptions {
  tenantId: string;
  sourceType: 'unit' | 'technician';
  sourceId: string;
  /** The signed-in user and device: who the queued rows are from, and the revision's tag. */
  userId: string;
  deviceId: string;
  minDistanceM?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  batchSize?: number;
  flushMs?: number;
}

/** Where batches go while the app is unlocked: the local database (and through it the sync queue). */
export interface PositionDatabase {
  bulkInsert(docs: Record<string, unknown>[]): Promise<unknown>;
  /** Called after each written batch with its last fix (e.g. to update the unit's lastPosition). */
  onFlushed?: (last: Fix) => void;
}

export interface GpsRecorder {
  /** Batches go to `database` until the returned function detaches it (the app locked or closed). */
  attach(database: PositionDatabase): () => void;
  stop(): void;
}

export const gpsState = signal<{ state: 'off' | 'waiting' | 'on' | 'denied' | 'unavailable'; last?: Fix; recorded: number; buffered: number; message?: string }>({ state: 'off', recorded: 0, buffered: 0 });

/** A kept fix with the id it is stored under: the same on every attempt, so a retry through the other path is no duplicate. */
interface KeptFix { id: string; fix: Fix }

let current: { key: string; recorder: GpsRecorder } | undefined;

const DATABASE_WRITE_TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The page's one position recorder for this source (started on the first call). It outlives the
 * screen that started it: a locked app keeps recording.
 */
export function gpsRecorder(options: GpsOptions): GpsRecorder {
  const key = `${options.tenantId}|${options.sourceType}|${options.sourceId}|${options.userId}`;
  if (current?.key === key) return current.recorder;
  current?.recorder.stop();
  const recorder = startRecorder(options);
  current = { key, recorder };
  return recorder;
}

/**
 * Stops the page's recorder and forgets it (the technician's phone: positions only while a job
 * is active), so the next `gpsRecorder` starts a fresh one. What it buffered is still written.
 */
export function stopGpsRecorder(): void {
  current?.recorder.stop();
  current = undefined;
  gpsState.value = { ...gpsState.value, state: 'off', message: undefined };
}

function startRecorder(options: GpsOptions): GpsRecorder {
  const o = { minDistanceM: 20, minIntervalMs: 500, maxIntervalMs: 30_000, batchSize: 10, flushMs: 5000, ...options };
  // The device's own tag (writes.ts), so the locked-GPS rows it wrote are recognised as its own.
  const revisionTag = () => `${deviceRevisionTag(o.deviceId)}${Math.random().toString(36).slice(2, 8)}`;
  let kept: Fix | undefined;
  let buffer: KeptFix[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let flushing: Promise<void> | undefined;
  let database: PositionDatabase | undefined;
  let stopped = false;
  if (!('geolocation' in navigator)) {
    gpsState.value = { ...gpsState.value, state: 'unavailable', message: 'This device has no location service.' };
    return { attach: () => () => {}, stop: () => {} };
  }

  const docOf = ({ id, fix }: KeptFix) => ({
    id, tenantId: o.tenantId, sourceType: o.sourceType, sourceId: o.sourceId,
    lat: fix.lat, lng: fix.lng, recordedAt: offsetDateTime(new Date(fix.at)),
    ...(fix.accuracyM !== undefined ? { accuracyM: fix.accuracyM } : {}),
    ...(fix.speedMps !== undefined ? { speedMps: fix.speedMps } : {}),
    ...(fix.heading !== undefined ? { heading: fix.heading } : {}),
  });

  /** Locked: straight into the service worker's queue, which delivers with or without the app. */
  const queueForDelivery = async (docs: Record<string, unknown>[]) => {
    if (!('serviceWorker' in navigator) || !navigator.serviceWorker.controller) {
      throw new Error('no service worker yet to hand positions to while the app is locked; kept until it is unlocked');
    }
    const rows = docs.map((doc) => ({ newDocumentState: { ...doc, rev: nextRevision(undefined, revisionTag()), _deleted: false } }));
    await withOutbox((db) => enqueueRows(db, 'gps_points', collectionSchemas.gps_points.version, rows, Date.now(), { userId: o.userId }));
    void kickServiceWorker({ backgroundSync: true }).catch(() => undefined);
  };

  const flushOnce = async () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    const target = database;
    const docs = batch.map(docOf);
    try {
      // A write to a database that is being closed (the app locks) may never answer: after a
      // while the batch is taken back and goes the other way (same ids, so never twice).
      if (target) await withTimeout(target.bulkInsert(docs), DATABASE_WRITE_TIMEOUT_MS);
      else await queueForDelivery(docs);
      gpsState.value = { ...gpsState.value, recorded: gpsState.value.recorded + docs.length, buffered: buffer.length };
      target?.onFlushed?.(batch[batch.length - 1]!.fix);
    } catch (error) {
      buffer = [...batch, ...buffer]; // try again with the next batch, or on the next tick
      gpsState.value = { ...gpsState.value, buffered: buffer.length };
      if (!stopped) flushTimer ??= setTimeout(() => void flush(), o.flushMs);
      console.warn('fieldsync: GPS batch not saved yet', error);
    }
  };
  /** One flush at a time: a batch is never written twice or overtaken by the next. */
  const flush = async (): Promise<void> => {
    while (flushing) await flushing;
    flushing = flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
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
    buffer.push({ id: uuid(), fix });
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
  return {
    attach(next) {
      database = next;
      // What waited (the app was locked without a service worker) goes to the database now.
      if (buffer.length > 0) void flush();
      return () => {
        if (database !== next) return;
        database = undefined;
        // Batches from here on go to the outbound queue; one being written to the closing database finishes there.
      };
    },
    stop() {
      stopped = true;
      navigator.geolocation.clearWatch(watch);
      removeEventListener('pagehide', onHide);
      void flush();
    },
  };
}
