/**
 * Issue 14, defect 8 in the ePCR form: the buttons that write (add a vital set, copy the previous
 * one, add a medication, remove an item, Back to draft, Write an addendum, ...) said nothing when
 * the local database refused the write: the promise was dropped (`void`), nothing appeared, and
 * only the console knew why. Here the report already holds as many medications as a report can
 * (the schema's 500): "Add medication" must say, next to the button, that nothing was saved and
 * why; once one is removed, the same button works and the report reaches the server.
 */
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';
import { waitBudgetMs } from '../helpers/wait-budget.ts';

const MOST = 500;

describe('a refused write at an ePCR button is said at the button (browser)', () => {
  const server = new E2eServer(e2ePort(483), { workflows: false });
  let browser: Browser;
  const errors: string[] = [];
  const reportId = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    browser = await launchBrowser();
    const givenAt = offsetNow(new Date(Date.now() - 30 * 60_000));
    await server.seed('epcrs', [{
      id: reportId, status: 'draft', unitId: 'M7',
      patient: { lastName: 'Okafor', firstName: 'Ada' },
      medications: Array.from({ length: MOST }, (_, n) => ({ id: `m${n + 1}`, givenAt, medication: `normal saline bolus ${n + 1}` })),
    }]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  const medicationsOnServer = async () => ((await server.docs<Epcr>('epcrs', [reportId]))[0]?.medications ?? []).map((m) => m.medication);

  it('"Add medication" on a report that holds the most a report can says so next to the button, and adds nothing', async () => {
    const page = await browser.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-7:M7`, '/crew/');
    await page.goto(`${server.url}/crew/#/epcr/${reportId}/treatment`);
    await page.locator(`[data-testid="epcr-form"][data-id="${reportId}"]`).waitFor({ timeout: waitBudgetMs() });
    const treatment = page.locator('[data-testid="section"][data-section="treatment"]');
    const cards = treatment.locator('[data-testid="medication"]');
    await expect.poll(() => cards.count(), { timeout: waitBudgetMs() }).toBe(MOST);

    // By its text, not its role: finding a button by accessible name computes the name of every
    // button of a 500-medication form in the page (12 s of the page's CPU at load 15, in a profile).
    const add = treatment.locator('button', { hasText: 'Add medication (time: now)' });
    await add.click();
    // The refusal is said right under the row of buttons it came from, in words.
    const message = treatment.locator('.row:has(button:text("Add medication")) + [data-testid="action-error"]');
    await message.waitFor({ timeout: waitBudgetMs() });
    expect(await textOf(message)).toMatch(new RegExp(`^Not added: a report holds at most ${MOST} medications\\. Remove one`));
    await message.scrollIntoViewIfNeeded();
    await screenshot(page, 'epcr-refused-add-medication', { keepScroll: true });
    expect(await cards.count(), 'medications on the screen').toBe(MOST);

    // One removed, the same button works, the message goes, and the report on the server has the new one.
    await cards.first().locator('button', { hasText: 'Remove' }).click();
    await expect.poll(() => cards.count(), { timeout: waitBudgetMs() }).toBe(MOST - 1);
    await add.click();
    await expect.poll(() => cards.count(), { timeout: waitBudgetMs() }).toBe(MOST);
    expect(await treatment.locator('[data-testid="action-error"]').count()).toBe(0);
    // Aspirin by its RxNorm code (the field takes codes: issue 16).
    await cards.last().getByLabel('Medication (RxNorm code)', { exact: true }).fill('1191');
    await expect.poll(async () => (await medicationsOnServer()).at(-1), { timeout: waitBudgetMs() }).toBe('1191');
    expect((await medicationsOnServer())[0]).toBe('normal saline bolus 2');
    await page.close();
  }, 180_000);
});
