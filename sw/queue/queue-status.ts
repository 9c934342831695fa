/**
 * How long the queue waits before its next try after `failures` failed runs in a row: exponential
 * with jitter, never giving up, and capped low, because the cap is how late delivery can start
 * once data flows again (the queue cannot see the network come back in a dead zone, where the
 * device says "online" all along). An unreachable server (`network`) is cheap to ask again: capped
 * at 5 s. A server that answered it cannot take the changes now (`server`: 5xx, 408, 429) is
 * asked less often, capped at 30 s, so a fleet does not hammer it while it recovers.
 */
export function retryDelayMs(failures: number, cause: 'network' | 'server' = 'network', random = Math.random): number {
  const capMs = cause === 'server' ? SERVER_RETRY_CAP_MS : NETWORK_RETRY_CAP_MS;
  const delay = Math.min(capMs, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(delay / 2 + random() * (delay / 2));
}

export const RETRY_BASE_MS = 1000;
export const NETWORK_RETRY_CAP_MS = 5000;
export const SERVER_RETRY_CAP_MS = 30_000;
