/**
 * One wall clock for every thread of the benchmark: device timestamps and dispatcher arrivals are
 * compared across worker threads, so both use performance.timeOrigin + performance.now() (wall time
 * with sub-millisecond resolution; every thread's origin is read from the same system clock).
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A device timestamp as the GPS schema wants it (explicit offset, no `Z`) carrying microseconds,
 * e.g. `2026-11-22T20:51:03.123456+00:00`, so latency can be read back from the document itself.
 */
export function formatTs(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.round((ms - whole) * 1000));
  return new Date(whole).toISOString().slice(0, 23) + String(micros).padStart(3, '0') + '+00:00';
}

export function parseTs(text: string): number {
  return Date.parse(text.slice(0, 23) + 'Z') + Number(text.slice(23, 26)) / 1000;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Sleeps until a wall-clock time; the last few ms are not busy-waited (timer precision ~1 ms). */
export function sleepUntil(wallMs: number): Promise<void> {
  return sleep(wallMs - wallNow());
}
