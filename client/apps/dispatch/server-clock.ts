/**
 * The dispatch console's idea of the server's time, and the agency's dispatch settings.
 *
 * Call timers count from times the server recorded (an incident's `history`), so "now" must be
 * the server's now too, never this console's clock as it happens to be set. Every minute the
 * console asks `GET DISPATCH.settings`, which answers with the server's clock; the offset is that
 * time minus the midpoint of the request's round trip on this console's clock, and of the last
 * few answers the one with the shortest round trip counts (its midpoint is the tightest bound).
 * The same answer carries the unacknowledged-call alert threshold in force for the agency.
 */
import { signal } from '@preact/signals';
import { ApiClient, DISPATCH } from '../../../shared/protocol/index.ts';
import { getAccessToken } from '../../session/session.ts';

export interface DispatchSettings { unacknowledgedAlertSeconds: number; source: 'agency' | 'server-default' }

interface Sample { offsetMs: number; roundTripMs: number }

/** Server clock minus this console's clock, in ms; undefined until the server answered once. */
export const serverOffsetMs = signal<number | undefined>(undefined);
export const dispatchSettings = signal<DispatchSettings | undefined>(undefined);
export const serverClockError = signal<string | undefined>(undefined);

/** The server's time now, as far as this console knows it (its own clock until the server answered). */
export function serverNow(local = Date.now()): number {
  return local + (serverOffsetMs.value ?? 0);
}

/** The offset a sample gives: the server's time minus the midpoint of the round trip. */
export function offsetSample(sentAt: number, serverTime: number, receivedAt: number): Sample {
  return { offsetMs: serverTime - (sentAt + receivedAt) / 2, roundTripMs: receivedAt - sentAt };
}

const KEEP = 5;
const EVERY_MS = 60_000;

/** Starts measuring (now and every minute); returns the stop function. */
export function startServerClock(): () => void {
  const api = new ApiClient({ token: getAccessToken });
  const samples: Sample[] = [];
  let stopped = false;
  const measure = async () => {
    if (!navigator.onLine) return;
    try {
      const sentAt = Date.now();
      const answer = await api.json<DispatchSettings & { serverTime: number }>(DISPATCH.settings);
      const sample = offsetSample(sentAt, answer.serverTime, Date.now());
      if (stopped) return;
      samples.push(sample);
      if (samples.length > KEEP) samples.shift();
      serverOffsetMs.value = samples.reduce((best, s) => (s.roundTripMs < best.roundTripMs ? s : best)).offsetMs;
      dispatchSettings.value = { unacknowledgedAlertSeconds: answer.unacknowledgedAlertSeconds, source: answer.source };
      serverClockError.value = undefined;
    } catch (error) {
      if (!stopped) serverClockError.value = (error as Error).message;
    }
  };
  void measure();
  const timer = setInterval(() => void measure(), EVERY_MS);
  const again = () => void measure();
  window.addEventListener('online', again);
  return () => { stopped = true; clearInterval(timer); window.removeEventListener('online', again); };
}
