/**
 * Crew ePCR offline journey in real Chromium: the app comes up from the service worker with
 * the network cut, a report with vitals is written offline, survives a browser restart with
 * its "saved on device" badge, and syncs when the network is back.
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import {
  closeDevice, goOffline, goOnline, launchDevice, newProfileDir, reapplyOffline, screenshot, signInWithToken, textOf,
  waitFor, waitForServiceWorker, watchConsole,
} from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(1);
const CABLE_PORT = e2ePort(2);
const OFFSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?[+-]\d{2}:\d{2}$/;

describe('crew ePCR offline (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];
  const incidentId = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    profile = await newProfileDir();
    await server.seedAssignedCall({
      incidentId, callSign: 'M1', incidentNumber: '2026-000101', complaint: 'chest pain', priority: 'P1',
      address: { street: '12 Main St', city: 'Springfield', zip: '19104' }, location: { lat: 39.9526, lng: -75.1652 },
    });
  });

  afterAll(async () => {
    await tearDownDevice({ ctx, cable, server, profile, errors });
  });

  async function open(page: Page, path: string): Promise<void> {
    const response = await page.goto(`${cable.origin}${path}`);
    expect(response?.fromServiceWorker(), `${path} served by the service worker`).toBe(true);
    await page.locator('[data-testid="status-bar"]').waitFor();
  }

  it('works offline after the first load, keeps the report across a browser restart, and syncs it later', async () => {
    // A tablet in Philadelphia: times must carry its offset (-05:00 in November), never `Z`.
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    let page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);

    // First load, online: sign in, the call and the ePCR stub the server made arrive by themselves.
    await signInWithToken(page, cable.origin, `dev:${TENANT}:crew:tablet-1:M1`, '/crew/');
    await waitForServiceWorker(page);
    const report = page.locator('[data-testid="epcr-link"]');
    await report.first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state'), { timeout: 10_000 }).toBe('online');
    await expect.poll(() => report.first().locator('[data-testid="badge"]').getAttribute('data-state'), { timeout: 10_000 }).toBe('synced');
    const epcrId = (await report.first().getAttribute('data-id'))!;
    await screenshot(page, 'crew-calls');

    // Cut everything: the server stops, the cable is cut, the browser is offline. Reload comes from the SW.
    // (The app may have pushed the report already, e.g. when it made the report itself before the
    // server's stub arrived: only what happens from here on counts.)
    const epcrWritesBefore = server.writes.filter((w) => w.collection === 'epcrs').length;
    await server.stop();
    await goOffline(ctx, cable);
    await page.reload();
    await page.locator('[data-testid="status-bar"]').waitFor();
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state')).toBe('offline');
    await expect.poll(() => page.locator('[data-testid="call"]').count()).toBe(1);

    // Write the report offline: patient, complaint, a set of vitals in a few taps, narrative.
    await report.first().click();
    const form = page.locator('[data-testid="epcr-form"]');
    await form.waitFor();
    // One section of the form at a time: each is opened from its navigation entry.
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Reyes');
    await page.getByLabel('First name').fill('Dana');
    await page.getByTestId('section-situation').click();
    await page.getByLabel('Chief complaint').fill('substernal chest pain');
    await page.getByTestId('section-vitals').click();
    await page.getByTestId('add-vitals').click();
    const vitals = page.locator('[data-testid="vital-set"]');
    await vitals.first().waitFor();
    await expect.poll(() => page.getByLabel('Systolic BP (mmHg)').evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type('152');
    await page.getByLabel('Heart rate (/min)').fill('104');
    await page.getByLabel('SpO₂ (%)').fill('95');
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('67 y/o female, substernal chest pain for 40 minutes.');
    await page.getByTestId('section-vitals').click();
    // An impossible value is refused inline and never stored.
    await page.getByLabel('Diastolic BP (mmHg)').fill('999');
    await expect.poll(() => vitals.first().getByText('At most 300 mmHg.').isVisible()).toBe(true);
    await page.getByLabel('Diastolic BP (mmHg)').fill('91');
    await expect.poll(() => form.locator('[data-testid="badge"]').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('pending');
    await expect.poll(() => textOf(form.locator('[data-testid="badge"]').first())).toBe('Saved on device');
    await expect.poll(() => page.locator('[data-testid="pending-count"]').getAttribute('data-count')).not.toBe('0');
    await screenshot(page, 'crew-epcr-offline');

    // Close the browser and start it again with the same profile, still without network.
    await closeDevice(ctx);
    ctx = await launchDevice(profile, { offline: true, timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew-restarted', errors);
    await open(page, `/crew/#/epcr/${epcrId}`);
    await reapplyOffline(ctx);
    await page.locator('[data-testid="epcr-form"]').waitFor();
    await expect.poll(() => page.getByLabel('Last name').inputValue()).toBe('Reyes');
    await expect.poll(() => page.getByLabel('Systolic BP (mmHg)').inputValue()).toBe('152');
    await expect.poll(() => page.getByLabel('Diastolic BP (mmHg)').inputValue()).toBe('91');
    await expect.poll(() => page.getByLabel('Narrative').inputValue()).toBe('67 y/o female, substernal chest pain for 40 minutes.');
    await expect.poll(() => page.locator('[data-testid="epcr-form"] [data-testid="badge"]').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('pending');
    await expect.poll(() => textOf(page.locator('[data-testid="connectivity"]'))).toBe('Offline');
    // Nothing reached the server while it was cut off.
    expect(server.writes.filter((w) => w.collection === 'epcrs')).toHaveLength(epcrWritesBefore);

    // The network comes back: the report syncs, the badge says so, the server holds it.
    await server.start();
    await goOnline(ctx, cable);
    await expect.poll(() => page.locator('[data-testid="epcr-form"] [data-testid="badge"]').first().getAttribute('data-state'), { timeout: 20_000 }).toBe('synced');
    await expect.poll(() => textOf(page.locator('[data-testid="epcr-form"] [data-testid="badge"]').first())).toBe('Synced');
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state'), { timeout: 15_000 }).toBe('online');
    await expect.poll(() => textOf(page.locator('[data-testid="pending-count"]'))).toBe('All changes synced');
    const [stored] = await server.docs<Epcr>('epcrs', [epcrId]);
    expect(stored?.patient).toMatchObject({ lastName: 'Reyes', firstName: 'Dana' });
    expect(stored?.situation?.chiefComplaint).toBe('substernal chest pain');
    expect(stored?.vitals).toHaveLength(1);
    expect(stored?.vitals?.[0]).toMatchObject({ systolic: 152, diastolic: 91, heartRate: 104, spo2: 95 });
    expect(stored?.vitals?.[0]?.takenAt).toMatch(OFFSET_TIME);
    expect(stored?.vitals?.[0]?.takenAt).toMatch(/-0[45]:00$/);
    expect(stored?.narrative?.text).toContain('substernal chest pain');
  });
});
