/**
 * Issue 14, defect 7: a biller's dispatch console never loaded ("Loading…" forever: a biller may
 * not pull units or incidents, which the board waits for). The biller gets the billing worklist:
 * billing records and claims with their state, filtered by state, one opened with its details.
 */
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(471);

describe('the biller\'s billing worklist (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: false });
  let browser: Browser;
  const errors: string[] = [];
  const epcrA = randomUUID();
  const epcrB = randomUUID();
  const epcrC = randomUUID();
  const billA = randomUUID();
  const billB = randomUUID();
  const billC = randomUUID();
  const claimA = randomUUID();
  const claimB = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    browser = await launchBrowser();
    const locked = offsetNow();
    await server.seed('epcrs', [
      { id: epcrA, status: 'finalized', unitId: 'M1', lockedAt: locked, patient: { lastName: 'Okafor', firstName: 'Chidi' }, response: { incidentNumber: 'B-1001' } },
      { id: epcrB, status: 'finalized', unitId: 'M2', lockedAt: locked, patient: { lastName: 'Lindqvist', firstName: 'Maja' }, response: { incidentNumber: 'B-1002' } },
      { id: epcrC, status: 'finalized', unitId: 'M3', lockedAt: locked, patient: { lastName: 'Haddad', firstName: 'Samir' }, response: { incidentNumber: 'B-1003' } },
    ]);
    await server.seed('billing_records', [
      { id: billA, epcrId: epcrA, status: 'claimed', serviceLevel: 'ALS1', hcpcsBase: 'A0427', hcpcsMileage: 'A0425', loadedMiles: 7.4, payer: 'Medicare Part B', icd10: ['S72.001A'] },
      { id: billB, epcrId: epcrB, status: 'claimed', serviceLevel: 'BLS', hcpcsBase: 'A0429', loadedMiles: 3.1, payer: 'Aetna' },
      { id: billC, epcrId: epcrC, status: 'ready', serviceLevel: 'BLS', hcpcsBase: 'A0429', loadedMiles: 12, payer: 'Self-pay' },
    ]);
    await server.seed('claims', [
      { id: claimA, billingRecordId: billA, epcrId: epcrA, status: 'rejected', frequencyCode: '1', submittedAt: locked, payerResponse: 'CO-16: missing pickup ZIP',
        lines: [{ code: 'A0427', units: 1, chargeCents: 85000 }, { code: 'A0425', units: 7.4, chargeCents: 12000 }] },
      { id: claimB, billingRecordId: billB, epcrId: epcrB, status: 'accepted', frequencyCode: '1', submittedAt: locked, lines: [{ code: 'A0429', units: 1 }] },
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('lists billing records with their claim state, filters by state and opens one', async () => {
    const page = await browser.newPage();
    watchConsole(page, 'biller', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:biller:desk-1`, '/dispatch/');
    const rows = page.locator('[data-testid="billing-row"]');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(3);
    // Every record with where it stands; what needs the biller (a rejected claim) first. Rows
    // show as soon as the billing records are on the device; their reports and claims arrive
    // right after (the row says "not on this device" / "Checking…" meanwhile).
    await expect.poll(() => textOf(rows.nth(0)), { timeout: 20_000 }).toContain('B-1001');
    expect(await textOf(rows.nth(0))).toContain('Okafor, Chidi');
    expect(await textOf(rows.nth(0).locator('[data-testid="billing-state"]'))).toContain('Claim rejected');
    expect(await textOf(page.locator('[data-testid="billing-row"][data-id="' + billB + '"] [data-testid="billing-state"]'))).toContain('Claim accepted');
    expect(await textOf(page.locator('[data-testid="billing-row"][data-id="' + billC + '"] [data-testid="billing-state"]'))).toContain('Ready to claim');
    await screenshot(page, 'billing-worklist');

    // Filter by state.
    await page.getByLabel('State').selectOption('billing:ready');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await textOf(rows.first())).toContain('B-1003');
    await page.getByLabel('State').selectOption('claim:rejected');
    await expect.poll(async () => (await rows.count()) === 1 && (await textOf(rows.first())).includes('B-1001')).toBe(true);

    // Open one: the record, its claim with the payer's answer and lines.
    await rows.first().getByRole('button', { name: 'Open' }).click();
    const detail = page.locator('[data-testid="billing-detail"]');
    await detail.waitFor();
    expect(await textOf(detail.locator('[data-testid="billing-detail-state"]'))).toContain('Claim rejected');
    const text = await textOf(detail);
    for (const expected of ['B-1001', 'Okafor, Chidi', 'ALS1', 'A0427', 'A0425', '7.4', 'Medicare Part B', 'S72.001A']) expect(text).toContain(expected);
    const claim = detail.locator('[data-testid="claim"]');
    expect(await claim.count()).toBe(1);
    expect(await textOf(claim.locator('[data-testid="payer-response"]'))).toBe('CO-16: missing pickup ZIP');
    expect(await textOf(claim)).toContain('$850.00');
    await screenshot(page, 'billing-detail');
    // Back to the worklist, still filtered.
    await detail.getByRole('button', { name: 'Back to the worklist' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(errors.filter((e) => /pageerror/.test(e))).toEqual([]);
  }, 120_000);
});
