/**
 * Which requests the service worker gives up when coverage returns (sw/queue/coverage-return.ts).
 * A push sent while the browser still said "offline" but the link was already back (Chromium
 * announces going online ~1.5 s late) reached the server; aborting it when "online" came sent it a
 * second time (one push delivered twice in a full run at load 10-16). Time is mocked; the
 * browser's network state is the test's (`navigator.onLine`, as test/sw/sync-event.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COVERAGE_CHECK_MS, NETWORK_STATE_LAG_MS, onCoverageReturn } from '../../sw/queue/coverage-return.ts';

const net = { onLine: true };
Object.defineProperty(globalThis, 'navigator', { value: { get onLine() { return net.onLine; } }, configurable: true });

/** Starts watching a request sent now; returns how many times it was given up. */
function send(): { given: () => number; stop: () => void } {
  let given = 0;
  const stop = onCoverageReturn(() => { given++; });
  return { given: () => given, stop };
}

describe('a request on the wire when coverage returns', () => {
  beforeEach(() => { vi.useFakeTimers(); net.onLine = true; });
  afterEach(() => { vi.useRealTimers(); });

  it('sent while the browser still said offline, and "online" came within the browser\'s lag: not given up (it may have reached the server)', async () => {
    net.onLine = false;
    const request = send();
    await vi.advanceTimersByTimeAsync(NETWORK_STATE_LAG_MS - 500);
    net.onLine = true;
    await vi.advanceTimersByTimeAsync(10 * COVERAGE_CHECK_MS);
    expect(request.given()).toBe(0);
    // Then treated as sent online: a real drop and return after that still gives it up.
    net.onLine = false;
    await vi.advanceTimersByTimeAsync(2 * COVERAGE_CHECK_MS);
    net.onLine = true;
    await vi.advanceTimersByTimeAsync(2 * COVERAGE_CHECK_MS);
    expect(request.given()).toBe(1);
    request.stop();
  });

  it('sent into the dead link longer ago than the lag: given up once coverage returns, so it does not wait out TCP', async () => {
    net.onLine = false;
    const request = send();
    await vi.advanceTimersByTimeAsync(NETWORK_STATE_LAG_MS + 500);
    net.onLine = true;
    await vi.advanceTimersByTimeAsync(2 * COVERAGE_CHECK_MS);
    expect(request.given()).toBe(1);
    request.stop();
  });

  it('sent online, the link dropped and came back quickly: given up once coverage returns', async () => {
    const request = send();
    await vi.advanceTimersByTimeAsync(2 * COVERAGE_CHECK_MS);
    net.onLine = false;
    await vi.advanceTimersByTimeAsync(2 * COVERAGE_CHECK_MS);
    net.onLine = true;
    await vi.advanceTimersByTimeAsync(2 * COVERAGE_CHECK_MS);
    expect(request.given()).toBe(1);
    request.stop();
  });

  it('sent online and never offline: never given up', async () => {
    const request = send();
    await vi.advanceTimersByTimeAsync(20 * NETWORK_STATE_LAG_MS);
    expect(request.given()).toBe(0);
    request.stop();
  });
});
