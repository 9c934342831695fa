/**
 * Issue 14, defect 8: a refused write is said where the person acted, in words, with what to do.
 * - On the device: a new incident with a number that already exists was refused by the local
 *   database (same derived id) and the form did nothing (the conflict went uncaught to the
 *   console). Now the form names the duplicate, and nothing is written.
 * - By the server: a change the server refuses is shown on the record where it is worked on (its
 *   row on the board), with the reason and what to do, not only in Settings' outbox list.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceIds } from '../../client/ui/ids.ts';
import type { Incident } from '../../shared/schemas/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(481);
const TAKEN = '2026-000777';

describe('refused writes are shown where the person acted (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: false });
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    browser = await launchBrowser();
    // A call CAD already created, with the id every incident of this number gets.
    await server.seed('incidents', [{
      id: await deviceIds.incidentIdFor(TENANT, TAKEN), incidentNumber: TAKEN, status: 'new', complaint: 'chest pain', priority: 'P1', timeline: { psapCall: offsetNow() },
    }]);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  async function fillNewIncident(page: Page, incidentNumber: string, complaint: string): Promise<void> {
    await page.locator('[data-testid="new-incident"]').click();
    const form = page.locator('[data-testid="new-incident-form"]');
    await form.getByLabel('Incident number').fill(incidentNumber);
    await form.getByLabel('Complaint').fill(complaint);
    await form.getByRole('button', { name: 'Create incident' }).click();
  }

  it('a duplicate incident number is refused at the form, naming it, and nothing is written', async () => {
    const page = await browser.newPage();
    watchConsole(page, 'dispatcher', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:dispatcher:console-1`, '/dispatch/');
    await page.locator(`[data-testid="incident-row"][data-incident="${TAKEN}"]`).waitFor({ timeout: 20_000 });
    await fillNewIncident(page, TAKEN, 'fall from ladder');
    const message = page.locator('[data-testid="new-incident-error"]');
    await message.waitFor({ timeout: 10_000 });
    expect(await textOf(message)).toContain(`Incident number ${TAKEN} already exists`);
    expect(await textOf(message)).toMatch(/Use another number/);
    // Still on the form, with what was typed.
    expect(await page.locator('[data-testid="new-incident-form"]').getByLabel('Complaint').inputValue()).toBe('fall from ladder');
    await screenshot(page, 'refused-duplicate-incident');
    // Nothing written: the existing call is unchanged, on the device and on the server.
    await page.locator('[data-testid="new-incident-form"]').getByRole('button', { name: 'Cancel' }).click();
    await page.locator(`[data-testid="incident-row"][data-incident="${TAKEN}"]`).waitFor();
    expect(await page.locator(`[data-testid="incident-row"][data-incident="${TAKEN}"]`).count()).toBe(1);
    expect(await textOf(page.locator(`[data-testid="incident-row"][data-incident="${TAKEN}"]`))).toContain('chest pain');
    expect(await page.locator('[data-testid="pending-count"]').getAttribute('data-count')).toBe('0');
    const onServer = (await server.docs<Incident>('incidents')).filter((i) => i.incidentNumber === TAKEN);
    expect(onServer.map((i) => i.complaint)).toEqual(['chest pain']);
    await page.close();
  }, 90_000);

  it('a change the server refuses is shown on its record, with the reason and what to do', async () => {
    const page = await browser.newPage();
    watchConsole(page, 'admin', errors);
    // An administrator may read the board but not write incidents (shared/access/rules.ts).
    await signInWithToken(page, server.url, `dev:${TENANT}:admin:office-1`, '/dispatch/');
    await waitForServiceWorker(page);
    await page.locator(`[data-testid="incident-row"][data-incident="${TAKEN}"]`).waitFor({ timeout: 20_000 });
    await fillNewIncident(page, '2026-000901', 'smoke in building');
    const row = page.locator('[data-testid="incident-row"][data-incident="2026-000901"]');
    await row.waitFor({ timeout: 10_000 });
    // Kept on the device and refused, said on the row itself.
    const badge = row.locator('[data-testid="badge"]');
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 30_000 }).toBe('rejected');
    const text = await textOf(badge);
    expect(text).toMatch(/^The server refused this change: .+\. /);
    expect(text).toContain('ask dispatch or your administrator');
    expect(text).toContain('Your version stays on this device');
    expect(await badge.isVisible()).toBe(true);
    await screenshot(page, 'refused-by-server-row');
    expect((await server.docs<Incident>('incidents')).map((i) => i.incidentNumber)).not.toContain('2026-000901');
    await page.close();
  }, 90_000);
});
