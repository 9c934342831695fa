/**
 * The biller's screen for the agency's billing settings (issue 16 item 7: the 837P is made from
 * them; they were admin API only). In real Chromium, a biller types into every input, saves, and
 * each value is read back from the server's saved settings; values the server refuses (an NPI
 * with a wrong check digit, a fee that is no amount, an unknown filing code) are shown at their
 * fields in the server's words and nothing is saved. Roles: the access declaration's
 * (shared/access/rules.ts SETTINGS_EDITORS: admin and biller); a crew or dispatcher is refused.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgencySettings } from '../../server/agencies/directory.ts';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { ADMIN, AGENCY, pathOf } from '../../shared/protocol/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(3151);

describe('billing settings screen (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: false });
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    const response = await fetch(`${server.url}${pathOf(ADMIN.putAgency)}`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(demoAgencySettings()),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    browser = await launchBrowser();
    page = await browser.newPage();
    watchConsole(page, 'biller', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:biller:desk-1`, '/dispatch/');
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server.stop();
    // The refusals of the second test are answers the screen shows (400), not faults.
    expect(errors.filter((e) => !e.includes('status of 400 (Bad Request)'))).toEqual([]);
  });

  const billing = async () => (await readAgencySettings(server.server!.app.store, TENANT))?.billing;
  const input = (field: string) => page.getByTestId(`setting-${field}`);
  const problemAt = (field: string) => page.locator(`[data-field="${field}"] [data-testid="setting-problem"]`);

  it('every input typed is what the server saves', async () => {
    await page.getByRole('button', { name: 'Billing settings' }).click();
    await page.getByTestId('billing-settings').waitFor({ timeout: 20_000 });
    // The saved settings are shown.
    await expect.poll(() => input('npi').inputValue(), { timeout: 10_000 }).toBe('1234567893');

    const typed: [string, string][] = [
      ['name', 'Danbury Ambulance Billing'], ['npi', '1928374655'], ['taxonomy', '3416A0800X'], ['taxId', '061234999'],
      ['address.street', '20 Main Street'], ['address.city', 'Bethel'], ['address.state', 'CT'], ['address.zip', '06801'],
      ['submitter.id', 'DANBURYAMB'], ['submitter.name', 'Danbury Ambulance'], ['submitter.contactName', 'Pat Biller'], ['submitter.phone', '2035550123'],
      ['receiver.id', 'CLEARHOUSE2'], ['receiver.name', 'Second Clearinghouse'],
      ['payers.0.name', 'Medicare Part B'], ['payers.0.payerId', '13203'], ['payers.0.filingIndicator', 'MB'],
      ['fees.0.code', 'A0426'], ['fees.0.dollars', '912.50'],
    ];
    for (const [field, value] of typed) await input(field).fill(value);
    await input('usage').selectOption('P');
    await input('unsignedClaims').selectOption('send');
    // A new payer and a new fee, typed into the rows the buttons add.
    const payers = await page.getByTestId('payer-row').count();
    await page.getByTestId('add-payer').click();
    await input(`payers.${payers}.name`).fill('Aetna');
    await input(`payers.${payers}.payerId`).fill('60054');
    await input(`payers.${payers}.filingIndicator`).fill('CI');
    const fees = await page.getByTestId('fee-row').count();
    await page.getByTestId('add-fee').click();
    await input(`fees.${fees}.code`).fill('a0999');
    await input(`fees.${fees}.dollars`).fill('$1,250');
    await page.getByTestId('save-billing-settings').click();
    await page.getByTestId('billing-settings-saved').waitFor({ timeout: 20_000 });

    const saved = (await billing())!;
    expect(saved).toMatchObject({
      name: 'Danbury Ambulance Billing', npi: '1928374655', taxonomy: '3416A0800X', taxId: '061234999',
      address: { street: '20 Main Street', city: 'Bethel', state: 'CT', zip: '06801' },
      submitter: { id: 'DANBURYAMB', name: 'Danbury Ambulance', contactName: 'Pat Biller', phone: '2035550123' },
      receiver: { id: 'CLEARHOUSE2', name: 'Second Clearinghouse' },
      usage: 'P', unsignedClaims: 'send',
    });
    expect(saved.payers[0]).toEqual({ name: 'Medicare Part B', payerId: '13203', filingIndicator: 'MB' });
    expect(saved.payers.at(-1)).toEqual({ name: 'Aetna', payerId: '60054', filingIndicator: 'CI' });
    expect(saved.payers).toHaveLength(payers + 1);
    expect(saved.feeSchedule['A0426']).toBe(91250);
    expect(saved.feeSchedule['A0999']).toBe(125000);
    // The rest of the agency's settings are untouched.
    expect((await readAgencySettings(server.server!.app.store, TENANT))?.agencyNumber).toBe(demoAgencySettings().agencyNumber);
    // What the screen shows after saving is what the server holds.
    expect(await input('fees.0.dollars').inputValue()).toBe('912.50');
    await screenshot(page, 'billing-settings-saved');
  }, 180_000);

  it('values the server refuses are said at their fields, and nothing is saved', async () => {
    const before = JSON.stringify(await billing());
    await input('npi').fill('1234567890');
    await input('fees.0.dollars').fill('lots');
    await input('payers.0.filingIndicator').fill('XX');
    await page.getByTestId('save-billing-settings').click();
    await page.getByTestId('billing-settings-refused').waitFor({ timeout: 20_000 });
    expect(await textOf(problemAt('npi'))).toContain('billing.npi 1234567890 is not a National Provider Identifier: its check digit is wrong');
    expect(await textOf(problemAt('fees'))).toContain('billing.feeSchedule.A0426 must be a whole number of cents');
    expect(await textOf(problemAt('payers.0.filingIndicator'))).toContain('filingIndicator "XX" is not an X12 claim filing indicator code');
    expect(await page.getByTestId('settings-problems').count()).toBe(0);
    expect(JSON.stringify(await billing())).toBe(before);
    await screenshot(page, 'billing-settings-refused');

    // Fixed, it saves, and the problems go.
    await input('npi').fill('1234567893');
    await input('fees.0.dollars').fill('850');
    await input('payers.0.filingIndicator').fill('MB');
    await page.getByTestId('save-billing-settings').click();
    await page.getByTestId('billing-settings-saved').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('setting-problem').count()).toBe(0);
    expect((await billing())?.npi).toBe('1234567893');
    expect((await billing())?.feeSchedule['A0426']).toBe(85000);

    // A code listed twice would keep only one charge: refused on the screen, nothing sent.
    const rows = await page.getByTestId('fee-row').count();
    await page.getByTestId('add-fee').click();
    await input(`fees.${rows}.code`).fill('A0426');
    await input(`fees.${rows}.dollars`).fill('1');
    await page.getByTestId('save-billing-settings').click();
    await expect.poll(() => textOf(problemAt('fees')), { timeout: 10_000 }).toContain('A0426 is listed twice');
    expect((await billing())?.feeSchedule['A0426']).toBe(85000);
  }, 120_000);

  it('only the roles the access declaration names may read or change them', async () => {
    const call = (token: string, method: 'GET' | 'PUT') => fetch(`${server.url}${pathOf(method === 'GET' ? AGENCY.billingSettings : AGENCY.putBillingSettings)}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(method === 'PUT' ? { body: '{}' } : {}),
    });
    for (const role of ['crew', 'dispatcher', 'technician', 'office']) {
      const refused = await call(`dev:${TENANT}:${role}:someone`, 'PUT');
      expect(refused.status, role).toBe(403);
      expect(await refused.text()).toContain('kept by admin and biller');
      expect((await call(`dev:${TENANT}:${role}:someone`, 'GET')).status, role).toBe(403);
    }
    expect((await call(`dev:${TENANT}:biller:desk-1`, 'GET')).status).toBe(200);
    expect((await call(ADMIN_TOKEN, 'GET')).status).toBe(200);
  }, 60_000);
});
