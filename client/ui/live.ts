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
