/**
 * Issue 16, items 1 and 2, in real Chromium through the real crew form. A medication typed as a
 * name ("Naloxone") is refused at the code field (it is no RxNorm code) and kept in the words
 * field beside it. A number of the XSD's form that is no RxNorm code (8 digits) is taken by the
 * form but fails the national Schematron (nemSch_e145: RxNorm codes have 2-7 digits): finalize is
 * refused, the report comes back as a draft, the problem is shown at the Medication field in words,
 * and the form stays editable; with the RxNorm code, the report locks, and the value typed is the
 * one on the server and in the NEMSIS export. A value the form takes but the export cannot carry
 * (a vehicle number of 35 characters; eResponse.13 allows 25) fails the export's XSD at finalize
 * the same way, said at its field.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nemsisArtifactKey } from '../../server/hooks/workflows/index.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { screenshot, textOf } from './support/browser.ts';
import { openCrewTablet, startNationalCheckServer } from './support/crew-tablet.ts';
import { lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(1431);

describe('finalize is refused when the NEMSIS export would fail (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { nemsisCheck: true });
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await startNationalCheckServer(server);
    ({ profile, ctx, page } = await openCrewTablet(server.url, 'tablet-n1:M1', errors, {
      // This journey is the server's check at finalize. The device's own check (finalize-device-check.test.ts)
      // would refuse the same problems before sending: this tablet never gets the national rules.
      prepare: (device) => device.route('**/api/epcrs/nemsis-rules.sef.json', (route) => route.abort()),
    }));
  }, 600_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  const MEDICATION = 'Medication (RxNorm code)';
  const medicationField = () => page.locator('.field').filter({ has: page.getByLabel(MEDICATION, { exact: true }) });
  const vehicleField = () => page.locator('.field').filter({ has: page.getByLabel('Vehicle number', { exact: true }) });

  it('a medication name is refused at the code field and kept beside it; a number the Schematron refuses is refused at finalize, in words; with its code, the report locks', async () => {
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });

    await page.getByTestId('section-treatment').click();
    await page.getByRole('button', { name: /Add medication/ }).click();
    await page.getByLabel(MEDICATION, { exact: true }).fill('Naloxone');
    await expect.poll(() => medicationField().getByTestId('field-problem').count(), { timeout: 10_000 }).toBe(1);
    expect(await textOf(medicationField().getByTestId('field-problem'))).toContain('Not an RxNorm code');
    // The crew's words go beside the code, and are kept.
    await page.getByLabel('Medication in your words (if no code fits)', { exact: true }).fill('Naloxone');
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medicationText, { timeout: 20_000 }).toBe('Naloxone');
    expect((await stored(report.id))?.medications?.[0]?.medication).toBe('');
    await page.getByLabel(MEDICATION, { exact: true }).fill('12345678');
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe('12345678');

    await page.getByTestId('finalize').click();
    // Returned by the server: the report is a draft again, the problem at the field that feeds eMedications.03.
    await page.getByTestId('finalize-errors').waitFor({ timeout: 60_000 });
    expect(await textOf(page.getByTestId('epcr-status'))).toContain('Returned by the server');
    await page.getByTestId('section-treatment').click();
    const problem = medicationField().getByTestId('field-server-error');
    await expect.poll(() => problem.count(), { timeout: 10_000 }).toBe(1);
    const words = await textOf(problem);
    expect(words).toMatch(/Medication \(medication 1\): Medication Administered should be an RxNorm code/);
    expect(words).not.toContain('Naloxone');
    expect(words).toContain('nemSch_e145');
    expect(words).toContain('(NEMSIS eMedications.03)');
    await screenshot(page, 'finalize-export-refused');
    const refused = await stored(report.id);
    expect(refused?.lockedAt).toBeUndefined();
    expect(refused?.status).toBe('draft');
    expect(refused?.finalizeErrors?.map((e) => e.path)).toEqual([`medications[${refused!.medications![0]!.id}].medication`]);

    // Still editable: the crew types the RxNorm code (naloxone 7242) in the same field and finalizes again.
    await page.getByLabel(MEDICATION, { exact: true }).fill('7242');
    // The code's label from NEMSIS's list is shown under the field.
    await expect.poll(() => textOf(medicationField().getByTestId('code-label')), { timeout: 10_000 }).toBe('Naloxone (Narcan)');
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe('7242');
    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 60_000 }).toContain('Locked by the server');
    const locked = await stored(report.id);
    expect(locked?.lockedAt).toBeDefined();
    expect(locked?.finalizeErrors).toEqual([]);
    expect(locked?.medications?.[0]).toMatchObject({ medication: '7242', medicationText: 'Naloxone' });
    // What was typed is what the export holds.
    await expect.poll(async () => (await server.server!.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT))?.content ?? '', { timeout: 30_000 })
      .toContain('<eMedications.03>7242</eMedications.03>');
  }, 180_000);

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
    await screenshot(page, 'finalize-export-refused-xsd');
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
