/**
 * The dispatch console under a fleet's live feed, in real Chromium: 500 units each report two
 * positions at once (1000 live events in two bursts: the feed sends a unit's first point at once
 * and its newest when the unit's interval ends). The board must take them as a few batched state
 * changes, not one render of the whole board per event (which froze the console with 500 units),
 * and every unit must end up showing its latest position. Render counts come from the console's
 * render-count hook (client/ui/render-count.ts); no timing decides pass or fail.
 *
 * The open calls' timers count every second; only their text may change then: neither the board
 * nor a call's row renders per tick (with 200 open calls that was 200 rows a second).
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signInWithToken, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2447);
const UNITS = 500;
const CALLS = 40;
const CENTER = { lat: 41.3948, lng: -73.454 };
const callSign = (i: number) => `R${String(i).padStart(3, '0')}`;
/** Distinct at the four decimals the table shows. */
const pointOf = (i: number, step: number) => ({ lat: Number((CENTER.lat + i * 0.0001 + step * 0.01).toFixed(4)), lng: Number((CENTER.lng - i * 0.0001 - step * 0.01).toFixed(4)) });

/** Renders since the log was started, summed per component (the hook keys them by component and what it shows). */
const renders = async (page: Page) => {
  const log = await page.evaluate(() => (globalThis as { __fieldsyncRenderLog?: Record<string, number> }).__fieldsyncRenderLog ?? {});
  const of = (component: string) => Object.entries(log).filter(([key]) => key.startsWith(`${component}|`)).reduce((sum, [, n]) => sum + n, 0);
  return { board: of('dispatch-board'), unitRow: of('dispatch-unit-row'), incidentRow: of('dispatch-incident-row') };
};

describe('dispatch console under a burst of live positions (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: false });
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    await server.seed('units', Array.from({ length: UNITS }, (_, i) => ({
      id: randomUUID(), callSign: callSign(i), status: 'available', statusAt: offsetNow(),
      lastPosition: pointOf(i, 0), lastPositionAt: offsetNow(new Date(Date.now() - 60_000)),
    })));
    // Open calls not yet assigned (so none crosses the alert threshold while the timers are watched).
    await server.seed('incidents', Array.from({ length: CALLS }, (_, i) => ({
      id: randomUUID(), incidentNumber: `T-${String(i).padStart(3, '0')}`, status: 'new', complaint: 'fall', priority: 'P3',
      timeline: { psapCall: offsetNow(new Date(Date.now() - (i + 1) * 60_000)) },
    })));
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    page = await ctx.newPage();
    watchConsole(page, 'dispatch', errors);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('renders the board a few times for 1000 position events and shows every unit\'s latest position', async () => {
    await signInWithToken(page, server.url, `dev:${TENANT}:dispatcher:render-console`, '/dispatch/');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="unit-row"]').length >= n, UNITS, { timeout: 180_000, polling: 250 });
    await page.evaluate(() => { (globalThis as { __fieldsyncRenderLog?: Record<string, number> }).__fieldsyncRenderLog = {}; });

    // One commit of 1000 points: per unit an older one, then the newest.
    const first = new Date(Date.now() - 2_000);
    const second = new Date(Date.now() - 1_000);
    await server.seed('gps_points', [0, 1].flatMap((step) => Array.from({ length: UNITS }, (_, i) => ({
      id: randomUUID(), sourceType: 'unit', sourceId: callSign(i), recordedAt: offsetNow(step ? second : first), ...pointOf(i, step + 1),
    }))));

    const expected = Object.fromEntries(Array.from({ length: UNITS }, (_, i) => {
      const p = pointOf(i, 2);
      return [callSign(i), `${p.lat.toFixed(4)}, ${p.lng.toFixed(4)}`];
    }));
    await page.waitForFunction((want) => [...document.querySelectorAll('[data-testid="unit-row"]')].every((row) => {
      const unit = row.getAttribute('data-unit') ?? '';
      return want[unit] !== undefined && (row.querySelector('[data-testid="unit-position"]')?.textContent ?? '').startsWith(want[unit]);
    }), expected, { timeout: 180_000, polling: 500 });

    const after = await renders(page);
    const boardRenders = after.board;
    // One render per event would be about 1000 (two per unit); batches per frame, plus the
    // once-a-second call timers while the events arrive, stay far below that.
    expect(boardRenders).toBeGreaterThan(0);
    expect(boardRenders, `board renders for 1000 events: ${boardRenders}`).toBeLessThan(60);
    // A unit's row renders again when its own position changes, not whenever any unit moves.
    expect(after.unitRow, `unit row renders: ${after.unitRow}`).toBeLessThan(UNITS * 4);
    console.log(`board renders ${boardRenders}, unit row renders ${after.unitRow} for ${UNITS * 2} position events`);
  }, 420_000);

  it('the call timers count every second while neither the board nor a call\'s row renders per tick', async () => {
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="incident-row"]').length >= n, CALLS, { timeout: 60_000, polling: 250 });
    await page.evaluate(() => { (globalThis as { __fieldsyncRenderLog?: Record<string, number> }).__fieldsyncRenderLog = {}; });
    // Watch one timer's text for a while: it must change every second or so.
    const seen = new Set<string>();
    const deadline = Date.now() + 6_000;
    while (Date.now() < deadline) {
      seen.add(await page.locator('[data-testid="incident-row"]').first().locator('[data-testid="timer-received"]').innerText());
      await page.waitForTimeout(200);
    }
    const ticks = seen.size - 1;
    expect(ticks, `timer texts seen: ${[...seen].join(' ')}`).toBeGreaterThanOrEqual(3);
    const after = await renders(page);
    console.log(`${ticks} timer ticks: board renders ${after.board}, incident row renders ${after.incidentRow} (${CALLS} rows)`);
    // The shared 15 s clock (units' "ago" text) or a sync status change may render the board in the window; rows
    // whose call did not change do not render with it.
    expect(after.board, `board renders over ${ticks} ticks`).toBeLessThanOrEqual(2);
    expect(after.incidentRow, `incident row renders over ${ticks} ticks`).toBe(0);
  }, 120_000);
});
