/**
 * Issue 14, defect 4: a report made without a call and locked by the server vanished from the
 * crew's lists, so its addendum was unreachable. The crew app's report history lists every
 * report of the unit (open, finalized, locked), finds one by patient name, incident number or
 * date, opens it read-only, and "Write an addendum" works from there.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchDevice, newProfileDir, screenshot, signInWithToken, textOf, waitFor, watchConsole } from './support/browser.ts';
import { completeReportWithoutCall } from './support/epcr-fixture.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(1401);
const CREW_TOKEN = `dev:${TENANT}:crew:tablet-h1:M1`;

describe('crew report history (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];
  const found = completeReportWithoutCall('M1', { lastName: 'Okonkwo', firstName: 'Adaeze' }, '2026-WALK-0042');
  const other = completeReportWithoutCall('M1', { lastName: 'Brennan', firstName: 'Siobhan' }, '2026-WALK-0043', new Date(Date.now() - 30 * 86400_000));

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    // Two reports the tablet finalized without a call; the server checks and locks them.
    await server.push('epcrs', [found, other], CREW_TOKEN);
    await waitFor(async () => (await server.docs<Epcr>('epcrs', [String(found['id']), String(other['id'])])).filter((d) => d.lockedAt).length === 2, 'the server to lock both reports', 20_000);
  });

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  it('finds a locked report made without a call by patient name, opens it read-only, and writes an addendum from it', async () => {
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    const page: Page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, server.url, CREW_TOKEN, '/crew/');

    await page.getByRole('button', { name: 'Report history', exact: true }).click();
    const history = page.getByTestId('report-history');
    await history.waitFor();
    const rows = history.getByTestId('history-report');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(2);

    // By patient name (either order of the parts), then by incident number, then by date.
    await page.getByLabel('Search by incident number or patient name').fill('adaeze okonkwo');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await textOf(rows.first())).toContain('Okonkwo, Adaeze');
    expect(await textOf(rows.first())).toContain('Locked');
    await page.getByLabel('Search by incident number or patient name').fill('WALK-0043');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await textOf(rows.first())).toContain('Brennan, Siobhan');
    await page.getByLabel('Search by incident number or patient name').fill('');
    const day = String((found['times'] as { unitNotified: string }).unitNotified).slice(0, 10);
    await page.getByLabel('Date').fill(day);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await textOf(rows.first())).toContain('Okonkwo, Adaeze');
    await screenshot(page, 'crew-history');

    // Open it: read-only, with its content, and the addendum button.
    await rows.first().click();
    const form = page.getByTestId('epcr-form');
    await form.waitFor();
    await expect.poll(() => textOf(page.getByTestId('epcr-status'))).toContain('Locked by the server');
    await page.getByTestId('section-patient').click();
    await expect.poll(() => page.getByLabel('Last name').inputValue()).toBe('Okonkwo');
    expect(await page.getByLabel('Last name').isDisabled()).toBe(true);
    await page.getByTestId('section-narrative').click();
    expect(await page.getByLabel('Narrative').isDisabled()).toBe(true);
    expect(await page.getByTestId('finalize').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Back to report history' }).count()).toBe(1);

    await page.getByTestId('addendum').click();
    await expect.poll(() => textOf(page.locator('#epcr-title'))).toContain('Addendum');
    await page.getByLabel('Reason for the addendum').fill('Patient called back: allergy to latex not recorded.');
    await expect.poll(async () => (await server.docs<Epcr>('epcrs')).find((d) => d.addendumOf === found['id'])?.addendumReason, { timeout: 20_000 })
      .toBe('Patient called back: allergy to latex not recorded.');

    // The addendum is in the history too, next to the report it amends.
    await page.getByRole('button', { name: 'Report history', exact: true }).click();
    await page.getByLabel('Search by incident number or patient name').fill('WALK-0042');
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => textOf(history)).toContain('Addendum');
  });
});
