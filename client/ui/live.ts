/**
 * Dispatch's live feed (socket.io namespace `/live`, server/realtime/live-feed.ts): unit status
 * and positions, incidents, ePCR progress, billing, claims, jobs and (for admins) hook failures.
 * It has no backlog: what the console must not miss also comes through replication.
 */
import { signal } from '@preact/signals';
import { io, type Socket } from 'socket.io-client';
import { getAccessToken } from '../session/session.ts';
import { LIVE_NAMESPACE } from '../../shared/protocol/index.ts';

export type LiveEventName = 'unit:status' | 'unit:position' | 'technician:position' | 'incident:changed' | 'epcr:progress'
  | 'billing:changed' | 'claim:changed' | 'job:changed' | 'order:changed' | 'ticket:changed' | 'hook:failed';

export const LIVE_EVENTS: readonly LiveEventName[] = ['unit:status', 'unit:position', 'technician:position', 'incident:changed', 'epcr:progress',
  'billing:changed', 'claim:changed', 'job:changed', 'order:changed', 'ticket:changed', 'hook:failed'];

export const liveConnected = signal(false);
export const liveError = signal<string | undefined>(undefined);

export function connectLive(onEvent: (name: LiveEventName, payload: Record<string, unknown>) => void): () => void {
  const socket: Socket = io(LIVE_NAMESPACE, {
    transports: ['websocket'],
    auth: (callback) => {
      getAccessToken().then((token) => callback({ token }), () => callback({}));
    },
    reconnectionDelay: 500,
    reconnectionDelayMax: 10_000,
    randomizationFactor: 0.5,
  });
  socket.on('connect', () => {
    liveConnected.value = true;
    liveError.value = undefined;
  });
  socket.on('disconnect', () => (liveConnected.value = false));
  socket.on('connect_error', (error) => {
    liveConnected.value = false;
    liveError.value = error.message;
  });
  for (const name of LIVE_EVENTS) socket.on(name, (payload: Record<string, unknown>) => onEvent(name, payload));
  return () => socket.close();
}

export interface LiveEvent { name: LiveEventName; payload: Record<string, unknown> }

/** Longest a live event waits for its batch when the page gets no animation frames (a hidden tab). */
const FLUSH_MS = 250;
const POSITION_EVENTS: ReadonlySet<LiveEventName> = new Set(['unit:position', 'technician:position']);
const recordedAt = (payload: Record<string, unknown>) => Date.parse(String(payload['recordedAt'] ?? '')) || 0;

/**
 * Gathers live events into one batch per animation frame (at most FLUSH_MS apart), so a screen
 * changes its state once per frame rather than once per event: with 500 units reporting every
 * second, one state change (and one render) per event saturates the page. Positions are keyed by
 * source, the latest recorded wins (a newer one replaces it in place); every other event (status,
 * incident, ePCR, billing...) is kept, in arrival order. Returns the function to hand connectLive
 * and a stop that drops nothing: it flushes what is pending.
 */
export function coalesceLive(onBatch: (events: LiveEvent[]) => void): { onEvent: (name: LiveEventName, payload: Record<string, unknown>) => void; stop: () => void } {
  let pending: LiveEvent[] = [];
  let positionAt = new Map<string, number>();
  let frame: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (frame !== undefined) cancelAnimationFrame(frame);
    if (timer !== undefined) clearTimeout(timer);
    frame = timer = undefined;
    const events = pending;
    pending = [];
    positionAt = new Map();
    if (events.length) onBatch(events);
  };
  const onEvent = (name: LiveEventName, payload: Record<string, unknown>) => {
    if (POSITION_EVENTS.has(name)) {
      const key = `${name}|${String(payload['sourceId'] ?? '')}`;
      const index = positionAt.get(key);
      if (index !== undefined) {
        // Latest recorded wins; an older point arriving late leaves the newer one in place.
        if (recordedAt(payload) >= recordedAt(pending[index]!.payload)) pending[index] = { name, payload };
      } else {
        positionAt.set(key, pending.length);
        pending.push({ name, payload });
      }
    } else {
      pending.push({ name, payload });
    }
    if (frame === undefined && typeof requestAnimationFrame === 'function') frame = requestAnimationFrame(flush);
    timer ??= setTimeout(flush, FLUSH_MS);
  };
  return { onEvent, stop: flush };
}
