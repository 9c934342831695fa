/**
 * Issue 16 item 2, the crew's side, in real Chromium with the real service worker: a report that
 * locks with national Schematron warnings shows each warning at its field, under the input the
 * warning's element comes from, in words (like a returned problem); with the network cut and the
 * page reloaded from the service worker, the warnings are still there, read from the report in
 * the device's database (where they are stored encrypted with the clinical sections). A warning is
 * about the value it was found on: on a report back in draft, the crew changing that value removes it.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveAgencySettings } from '../../server/agencies/directory.ts';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { nemsisCheckKey } from '../../server/hooks/workflows/epcr-finalized.ts';
import { sharedSchematronValidator } from '../../server/nemsis/schematron.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { goOffline, launchDevice, newProfileDir, screenshot, signInWithToken, textOf, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, ensureApps, NEMSIS_DIR, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(2950);
const CABLE_PORT = e2ePort(2951);
const NALOXONE = '7242';

describe('national warnings at their fields, offline too (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { nemsisCheck: true, cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await sharedSchematronValidator({ nemsisDir: NEMSIS_DIR }).ready();
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    await saveAgencySettings(server.server!.app.store, TENANT, demoAgencySettings(), { kind: 'system', tenantId: TENANT, userId: 'e2e-setup' });
    profile = await newProfileDir();
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, cable.origin, `dev:${TENANT}:crew:tablet-w1:M1`, '/crew/');
    await waitForServiceWorker(page);
  }, 600_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, cable, server, profile, errors });
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];

  /** Each warning shown, with the test id of the input of the field it is under (undefined: not under a field). */
  const shownWarnings = () => page.locator('[data-testid="finalize-warning"]').evaluateAll((nodes) => nodes.map((node) => {
    const field = node.closest('.field');
    const input = field?.querySelector('input, select, textarea');
    return { path: node.getAttribute('data-path'), text: node.textContent ?? '', under: input?.getAttribute('data-testid') ?? undefined };
  }));

  it('a report refused with national warnings: the crew changes a warned value and that warning leaves its field, the others stay', async () => {
    // No first name: the server's completeness check refuses it; the national rules on the device do not.
    const report = lockableDraft('M1', { patient: { lastName: 'Reyes', age: 67, ageUnits: '2516009', sex: '9919001' } });
    await server.seed('epcrs', [report]);
    await page.goto(`${cable.origin}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    await page.getByTestId('section-treatment').click();
    await page.getByRole('button', { name: /Add medication/ }).click();
    await page.getByLabel('Medication (RxNorm code)', { exact: true }).fill(NALOXONE);
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe(NALOXONE);
    await page.getByTestId('finalize').click();
    await expect.poll(async () => {
      const doc = await stored(report.id);
      return doc?.status === 'draft' && (doc.finalizeErrors?.length ?? 0) > 0;
    }, { timeout: 90_000 }).toBe(true);
    const refused = (await stored(report.id))!;
    const warnings = refused.finalizeWarnings ?? [];
    const medId = refused.medications![0]!.id;
    const dosePath = `medications[${medId}].dose`;
    const routePath = `medications[${medId}].route`;
    // The national rules' "dose should be recorded" (nemSch_e147) and "route should be recorded" (nemSch_e146), among others.
    expect(warnings.map((w) => w.path)).toEqual(expect.arrayContaining([dosePath, routePath]));
    const under = async (path: string) => (await shownWarnings()).filter((w) => w.path === path && w.under === path).length;
    await expect.poll(() => under(dosePath), { timeout: 30_000 }).toBe(1);
    expect(await under(routePath)).toBe(1);
    expect(await page.getByTestId('finalize-warnings').getAttribute('data-count')).toBe(String(warnings.length));

    // The crew records the dose: the warning about the missing dose leaves its field and the count; the route's stays.
    await page.getByTestId(dosePath).fill('2');
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.dose, { timeout: 20_000 }).toBe(2);
    await expect.poll(() => under(dosePath), { timeout: 20_000 }).toBe(0);
    expect((await shownWarnings()).some((w) => w.path === dosePath)).toBe(false);
    expect(await under(routePath)).toBe(1);
    expect(await page.getByTestId('finalize-warnings').getAttribute('data-count')).toBe(String(warnings.length - 1));
    // The server's record is unchanged until the next check: the device decides by the value.
    expect((await stored(report.id))?.finalizeWarnings?.some((w) => w.path === dosePath)).toBe(true);
    await screenshot(page, 'warning-leaves-changed-field');
  }, 300_000);

  it('a report locked with national warnings shows each at its field; reloaded with the network cut, they are still there', async () => {
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await page.goto(`${cable.origin}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    // A medication with no performer and given after the unit was back in service: national warnings (nemSch_e140, e150).
    await page.getByTestId('section-treatment').click();
    await page.getByRole('button', { name: /Add medication/ }).click();
    await page.getByLabel('Medication (RxNorm code)', { exact: true }).fill(NALOXONE);
    await expect.poll(async () => (await stored(report.id))?.medications?.[0]?.medication, { timeout: 20_000 }).toBe(NALOXONE);
    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 90_000 }).toContain('Locked by the server');

    const check = JSON.parse((await server.server!.app.store.getArtifact(nemsisCheckKey(report.id), TENANT))!.content) as { warnings: { path: string; message: string; rule: string }[] };
    expect(check.warnings.length).toBeGreaterThan(0);
    // The form's fields: the warnings whose path is a field the crew can see are the ones expected under it.
    const fieldIds = new Set(await page.locator('.field').evaluateAll((fields) => fields.map((f) => f.querySelector('input, select, textarea')?.getAttribute('data-testid')).filter(Boolean)));
    const atFields = check.warnings.filter((w) => fieldIds.has(w.path));
    expect(atFields.length, `warnings: ${JSON.stringify(check.warnings.map((w) => w.path))}`).toBeGreaterThan(0);

    const expectShown = async () => {
      await expect.poll(async () => (await shownWarnings()).length, { timeout: 30_000 }).toBe(check.warnings.length);
      const shown = await shownWarnings();
      for (const w of check.warnings) expect(shown.some((s) => s.path === w.path && s.text.includes(w.rule)), `${w.rule} at ${w.path}`).toBe(true);
      // Each warning whose field is on the form is under that field's input, in words.
      for (const w of atFields) {
        const there = shown.filter((s) => s.path === w.path);
        expect(there.every((s) => s.under === w.path), `${w.rule} under ${w.path}: ${JSON.stringify(there)}`).toBe(true);
        expect(there.some((s) => /^National warning: /.test(s.text))).toBe(true);
      }
      expect(await textOf(page.getByTestId('finalize-warnings'))).toMatch(/national warnings?: worth checking, not required/);
    };
    await expectShown();
    console.info(`[warnings at fields] ${check.warnings.length} national warnings; ${atFields.length} at a field of the form (${new Set(atFields.map((w) => w.path)).size} fields), ${check.warnings.length - atFields.length} in the panel (no field: ${[...new Set(check.warnings.filter((w) => !fieldIds.has(w.path)).map((w) => w.path))].join(', ')})`);
    await screenshot(page, 'warnings-at-fields');

    // The network cut, the page reloaded from the service worker: read from the device's database.
    await goOffline(ctx!, cable);
    await page.reload();
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state'), { timeout: 20_000 }).toBe('offline');
    await expectShown();
    await screenshot(page, 'warnings-at-fields-offline');
  }, 300_000);
});
