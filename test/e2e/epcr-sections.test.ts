/**
 * Issue 14, "the ePCR form is one page 4,700 px tall": the form shows one section at a time,
 * with a navigation whose badges say what each section still needs for finalize, what the
 * server returned there and which values were refused; each field's problem is shown once, in
 * plain words with the NEMSIS element in small print.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../client/apps/crew/sections/model.ts';
import { launchDevice, newProfileDir, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(1411);

describe('ePCR form sections (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
  });

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const badge = (page: Page, anchor: string) => page.getByTestId(`section-${anchor}`).getByTestId('section-badge');
  const fieldOf = (page: Page, testId: string) => page.locator('.field', { has: page.getByTestId(testId) });

  it('shows one section at a time with completion badges, and each problem once in plain words', async () => {
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-s1:M2`, '/crew/');
    await page.getByRole('button', { name: 'New report without a call' }).click();
    const form = page.getByTestId('epcr-form');
    await form.waitFor();

    // One section on screen: the call. The others wait behind their navigation entries.
    await page.getByLabel('Incident number').waitFor();
    expect(await form.locator('fieldset[data-testid="section"]:visible').count()).toBe(1);
    expect(await page.getByLabel('Last name').isVisible()).toBe(false);
    expect(await page.getByLabel('Narrative').isVisible()).toBe(false);
    expect((await form.boundingBox())!.height, 'the open form fits a couple of screens, not 4,700 px').toBeLessThan(2000);

    // Badges: what finalize still needs, per section.
    await expect.poll(() => textOf(badge(page, 'patient'))).toBe('3 missing');
    await expect.poll(() => textOf(badge(page, 'narrative'))).toBe('✓ Complete');
    expect(Number(await badge(page, 'response').getAttribute('data-missing'))).toBeGreaterThan(0);

    // A field's hint in plain words, the NEMSIS element after it.
    const serviceType = fieldOf(page, 'response.serviceType');
    expect(await textOf(serviceType)).toContain('Type of service requested: needed to finalize. (NEMSIS eResponse.05)');
    expect(await textOf(serviceType)).not.toContain('is required to finalize');

    // The patient section: fill it, its badge turns complete; a reload keeps the section open.
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Abernathy');
    await page.getByLabel('First name').fill('Lucille');
    await page.getByLabel('Date of birth (YYYY-MM-DD)').fill('1949-07-30');
    await expect.poll(() => textOf(badge(page, 'patient'))).toBe('✓ Complete');
    expect(await page.getByLabel('Incident number').isVisible()).toBe(false);
    await page.reload();
    await page.getByTestId('epcr-form').waitFor();
    await expect.poll(() => page.getByLabel('Last name').inputValue()).toBe('Abernathy');
    expect(await page.getByLabel('Last name').isVisible()).toBe(true);

    // A refused value counts in its section's badge until it is fixed.
    await page.getByTestId('section-vitals').click();
    await page.getByTestId('add-vitals').click();
    await page.getByLabel('Systolic BP (mmHg)').fill('14O');
    // At the field (the status line and the finalize list name it too).
    await expect.poll(() => page.locator('.field', { has: page.getByLabel('Systolic BP (mmHg)') }).getByTestId('field-problem').getByText('Numbers only.').isVisible()).toBe(true);
    await expect.poll(() => badge(page, 'vitals').getAttribute('data-not-saved')).toBe('1');
    expect(await textOf(badge(page, 'vitals'))).toContain('1 not saved');
    await page.getByLabel('Systolic BP (mmHg)').fill('140');
    await expect.poll(() => textOf(badge(page, 'vitals'))).toBe('✓ Complete');

    // Finalize with the call section incomplete: the server returns it; the badge says so, and the
    // field shows the problem once (the server's), not once as a hint and again as an error.
    await page.getByTestId('finalize').click();
    await page.getByTestId('finalize-errors').waitFor({ timeout: 20_000 });
    await expect.poll(() => badge(page, 'response').getAttribute('data-returned')).not.toBe('0');
    expect(await textOf(badge(page, 'response'))).toMatch(/^\d+ returned$/);
    await page.getByTestId('section-response').click();
    await expect.poll(() => serviceType.getByText('Type of service requested: needed to finalize.').count()).toBe(1);
    expect(await serviceType.getByTestId('field-server-error').count()).toBe(1);
    expect(await textOf(serviceType)).not.toContain('eResponse.05) is required');

    // Fixing a returned field takes it off the section's count and the field at once.
    const returnedBefore = Number(await badge(page, 'response').getAttribute('data-returned'));
    const openBefore = Number(await page.getByTestId('finalize-errors').getAttribute('data-open'));
    await page.getByTestId('response.serviceType').selectOption('2205001');
    await expect.poll(() => badge(page, 'response').getAttribute('data-returned')).toBe(String(returnedBefore - 1));
    expect(await serviceType.getByTestId('field-server-error').count()).toBe(0);
    expect(await textOf(serviceType)).not.toContain('needed to finalize');
    expect(await textOf(page.getByTestId('finalize-errors'))).toContain(`fix the ${openBefore - 1} left of ${openBefore} things`);
    await screenshot(page, 'epcr-sections-returned');

    // From another section, "Show the first one" opens the section of the first returned problem at its field.
    await page.getByTestId('section-billing').click();
    await page.getByTestId('show-first-problem').click();
    await expect.poll(() => page.getByTestId('epcr-form').getAttribute('data-section')).toBe('response');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('response.unitCapability');

    // "All sections" shows the whole report for reading.
    await page.getByTestId('section-all').click();
    expect(await form.locator('fieldset[data-testid="section"]:visible').count()).toBe(SECTIONS.length);
    expect(SECTIONS.length).toBe(12); // with Cardiac arrest (issue 16) and Signatures and photos (issue 18)
  });
});
