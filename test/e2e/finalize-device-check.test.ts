/**
 * Issue 16 item 2, "the device can check the same before sending", in real Chromium with the
 * network cut: the crew app holds the server's national Schematron (fetched when a report was
 * opened online) and runs it in a Web Worker on the report's NEMSIS export at Finalize. A
 * medication code the rules refuse (8 digits: nemSch_e145, RxNorm codes have 2-7) stops the
 * finalize on the tablet, said at the Medication field, with the server stopped and the browser
 * offline; nothing is sent (back online, the server still holds the report as a draft, never
 * finalized). Fixed to the RxNorm code, the finalize goes to the server, which checks again and locks.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { screenshot, textOf, waitForServiceWorker } from './support/browser.ts';
import { openCrewTablet, startNationalCheckServer } from './support/crew-tablet.ts';
import { lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(3150);

describe('finalize is checked on the device before anything is sent (browser, offline)', () => {
  const server = new E2eServer(SERVER_PORT, { nemsisCheck: true });
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await startNationalCheckServer(server);
    ({ profile, ctx, page } = await openCrewTablet(server.url, 'tablet-n1:M1', errors));
    await waitForServiceWorker(page);
  }, 600_000);

  afterAll(async () => {
    await ctx?.setOffline(false);
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  const MEDICATION = 'Medication (RxNorm code)';
  const medicationField = () => page.locator('.field').filter({ has: page.getByLabel(MEDICATION, { exact: true }) });
  const rulesHeld = () => page.evaluate(async () => {
    const hit = await (await caches.open('fieldsync-nemsis-rules')).match('/api/epcrs/nemsis-rules.sef.json');
    return hit ? (await hit.blob()).size : 0;
  });

  it('a code the national rules refuse stops the finalize at its field with the network cut; nothing reaches the server', async () => {
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    // Opened online: the device fetched the national rules and keeps them (6.4 MB of SEF).
    await expect.poll(rulesHeld, { timeout: 120_000 }).toBeGreaterThan(1_000_000);

    await page.getByTestId('section-treatment').click();
    await page.getByRole('button', { name: /Add medication/ }).click();
    await page.getByLabel(MEDICATION, { exact: true }).fill('12345678');
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe('12345678');

    // The network is cut: the server is down and the browser offline.
    const epcrWritesBefore = server.writes.filter((w) => w.collection === 'epcrs').length;
    await server.stop();
    await ctx!.setOffline(true);
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state'), { timeout: 20_000 }).toBe('offline');

    await page.getByTestId('finalize').click();
    await page.getByTestId('device-check-errors').waitFor({ timeout: 90_000 });
    expect(await textOf(page.getByTestId('device-check-errors'))).toContain('Nothing was sent');
    const problem = medicationField().getByTestId('field-server-error');
    await expect.poll(() => problem.count(), { timeout: 10_000 }).toBe(1);
    const words = await textOf(problem);
    expect(words).toContain('Checked on this device');
    expect(words).toMatch(/Medication \(medication 1\): Medication Administered should be an RxNorm code/);
    expect(words).toContain('nemSch_e145');
    expect(words).toContain('(NEMSIS eMedications.03)');
    // Still a draft on the tablet, still editable.
    expect(await textOf(page.getByTestId('epcr-status'))).toContain('Draft');
    expect(await page.getByLabel(MEDICATION, { exact: true }).isEditable()).toBe(true);
    await screenshot(page, 'finalize-device-check-offline');

    // Back online: nothing was sent: the server's copy is the draft it was, and no write of it arrived.
    await ctx!.setOffline(false);
    await server.start();
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state'), { timeout: 30_000 }).toBe('online');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(server.writes.filter((w) => w.collection === 'epcrs').length).toBe(epcrWritesBefore);
    expect((await stored(report.id))?.status).toBe('draft');

    // Fixed to naloxone's RxNorm code: the device's check passes, the server checks again and locks.
    await page.getByLabel(MEDICATION, { exact: true }).fill('7242');
    await expect.poll(() => problem.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe('7242');
    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 90_000 }).toContain('Locked by the server');
    expect(await page.getByTestId('device-check-skipped').count()).toBe(0);
    const locked = await stored(report.id);
    expect(locked?.lockedAt).toBeDefined();
    expect(locked?.finalizeErrors).toEqual([]);
  }, 400_000);
});
