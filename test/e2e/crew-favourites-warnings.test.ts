/**
 * Issue 16 items 1 and 2, the crew's side, in real Chromium through the real crew form:
 * - the agency's favourites (its settings, the demo agency's: naloxone, then aspirin) reach the
 *   tablet (`GET AGENCY.deviceSettings`, kept for offline) and are offered first in the
 *   medication search;
 * - a report that locks with national Schematron warnings shows them in the form, as warnings
 *   (the report is locked all the same), as many as the server's own check holds (each at its
 *   field: test/e2e/crew-warnings-offline.test.ts).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveAgencySettings } from '../../server/agencies/directory.ts';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { nemsisCheckKey } from '../../server/hooks/workflows/epcr-finalized.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { screenshot, textOf } from './support/browser.ts';
import { openCrewTablet, startNationalCheckServer } from './support/crew-tablet.ts';
import { lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(2727);
const NALOXONE = '7242';

describe('the crew form: agency favourites first, national warnings shown (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { nemsisCheck: true });
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await startNationalCheckServer(server);
    // The demo agency's settings, favourites included (medications: naloxone, then aspirin).
    await saveAgencySettings(server.server!.app.store, TENANT, demoAgencySettings(), { kind: 'system', tenantId: TENANT, userId: 'e2e-setup' });
    ({ profile, ctx, page } = await openCrewTablet(server.url, 'tablet-f1:M1', errors));
  }, 600_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  const MEDICATION = 'Medication (RxNorm code)';

  it('the medication search offers the agency\'s favourite first; a report locked with warnings shows them, as many as the server\'s check', async () => {
    expect(demoAgencySettings().favourites?.medication?.[0]).toBe(NALOXONE);
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    await page.getByTestId('section-treatment').click();
    await page.getByRole('button', { name: /Add medication/ }).click();

    // What the medication field offers (its datalist), in order: the agency's favourites first.
    const offered = () => page.locator('datalist#nemsis-medications-medication option').evaluateAll((options) => options.slice(0, 2).map((o) => (o as HTMLOptionElement).value));
    await expect.poll(offered, { timeout: 30_000 }).toEqual(demoAgencySettings().favourites!.medication!.slice(0, 2));
    // Kept on the device for offline use.
    expect(await page.evaluate(() => localStorage.getItem('fieldsync.device-settings'))).toContain(NALOXONE);

    // The crew picks the first offered, and finalizes: the report locks with national warnings
    // (e.g. the medication given after the unit was back in service, nemSch_e140), which do not hold it back.
    await page.getByLabel(MEDICATION, { exact: true }).fill(NALOXONE);
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe(NALOXONE);
    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 90_000 }).toContain('Locked by the server');

    const check = JSON.parse((await server.server!.app.store.getArtifact(nemsisCheckKey(report.id), TENANT))!.content) as { valid: boolean; warnings: { path: string; message: string; rule: string }[] };
    expect(check.valid).toBe(true);
    expect(check.warnings.length).toBeGreaterThan(0);
    const shown = page.getByTestId('finalize-warning');
    await expect.poll(() => shown.count(), { timeout: 30_000 }).toBe(check.warnings.length);
    const panel = page.getByTestId('finalize-warnings');
    expect(await textOf(panel)).toMatch(/national warnings?: worth checking, not required/);
    expect(await textOf(panel)).toContain('do not stop the report from locking');
    // Each of the check's warnings is shown, its rule named; the medication's (given after back in service, nemSch_e140, or no performer, nemSch_e150) at a field of the medication.
    const texts = await shown.allTextContents();
    for (const w of check.warnings) expect(texts.some((t) => t.includes(w.rule))).toBe(true);
    const paths = await shown.evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute('data-path')} ${n.textContent}`));
    expect(paths.some((t) => t.startsWith('medications[') && /nemSch_e1[45]0/.test(t))).toBe(true);
    await screenshot(page, 'finalize-warnings');
    expect((await stored(report.id))?.lockedAt).toBeDefined();
  }, 240_000);
});
