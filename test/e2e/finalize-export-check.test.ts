/**
 * Issue 16, item 2, in real Chromium through the real crew form: a value the form takes but the
 * NEMSIS export cannot carry (a vehicle number of 35 characters; eResponse.13 allows 25) fails
 * the export's check at finalize. Finalize is refused: the report comes back as a draft, the
 * problem is shown at the Vehicle number field in words, and the form stays editable; shortened,
 * the report locks, and the value typed is the one on the server and in the NEMSIS export.
 * (A medication typed as a name, which the national Schematron refuses, is now refused by the
 * form's own check before it reaches the server; the Schematron's mapping is tested in
 * test/server/hooks/epcr-export-check.test.ts.)
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nemsisArtifactKey } from '../../server/hooks/workflows/index.ts';
import { sharedSchematronValidator } from '../../server/nemsis/schematron.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, ensureApps, NEMSIS_DIR, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(1431);

describe('finalize is refused when the NEMSIS export would fail (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { nemsisCheck: true });
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    // The national rules are compiled once per machine (cached by their hash).
    await sharedSchematronValidator({ nemsisDir: NEMSIS_DIR }).ready();
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-n1:M1`, '/crew/');
  }, 600_000);

  afterAll(async () => {
    if (ctx) await closeDevice(ctx).catch(() => {});
    await server.dispose();
    if (profile) await removeProfileDir(profile);
    if (errors.length) console.log(errors.join('\n'));
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  const vehicleField = () => page.locator('.field').filter({ has: page.getByLabel('Vehicle number', { exact: true }) });

  it('a vehicle number longer than the export allows is refused at its field, in words; shortened, the report locks', async () => {
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });

    // The form takes it (a text field); NEMSIS's eResponse.13 holds at most 25 characters.
    await page.getByTestId('section-response').click();
    await page.getByLabel('Vehicle number', { exact: true }).fill('Medic 1 spare (ours is in the shop)');
    await expect.poll(async () => (await stored(report.id))?.response?.vehicleNumber, { timeout: 20_000 }).toBe('Medic 1 spare (ours is in the shop)');

    await page.getByTestId('finalize').click();
    // Returned by the server: a draft again, the problem at the field that feeds eResponse.13.
    await page.getByTestId('finalize-errors').waitFor({ timeout: 60_000 });
    expect(await textOf(page.getByTestId('epcr-status'))).toContain('Returned by the server');
    await page.getByTestId('section-response').click();
    const problem = vehicleField().getByTestId('field-server-error');
    await expect.poll(() => problem.count(), { timeout: 10_000 }).toBe(1);
    expect(await textOf(problem)).toBe('Vehicle number: too long for NEMSIS: at most 25 characters, this has 35. (NEMSIS eResponse.13)');
    await screenshot(page, 'finalize-export-refused');
    const refused = await stored(report.id);
    expect(refused?.lockedAt).toBeUndefined();
    expect(refused?.status).toBe('draft');
    expect(refused?.finalizeErrors?.map((e) => e.path)).toEqual(['response.vehicleNumber']);

    // Still editable: the crew shortens it in the same field and finalizes again.
    await page.getByLabel('Vehicle number', { exact: true }).fill('M1-SPARE');
    await expect.poll(async () => (await stored(report.id))?.response?.vehicleNumber, { timeout: 20_000 }).toBe('M1-SPARE');
    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 60_000 }).toContain('Locked by the server');
    const locked = await stored(report.id);
    expect(locked?.lockedAt).toBeDefined();
    expect(locked?.finalizeErrors).toEqual([]);
    // What was typed is what the export holds.
    await expect.poll(async () => (await server.server!.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT))?.content ?? '', { timeout: 30_000 })
      .toContain('<eResponse.13>M1-SPARE</eResponse.13>');
  }, 180_000);
});
