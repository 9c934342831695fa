/**
 * The coverage of NEMSIS's national elements (issue 16, item 3), measured: the crew form is
 * opened in Chromium, every section shown with one item of each list added, and the fields its
 * inputs declare (client/ui/record-field.ts) are the fields the crew can reach. With what the
 * schema holds and what the export writes (server/nemsis/coverage.ts), that is
 * docs/nemsis-coverage.md: this test compares it, or writes it with NEMSIS_COVERAGE_WRITE=1
 * (`npm run nemsis:coverage`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureCoverage, renderCoverage } from '../../server/nemsis/coverage.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import * as fixtures from '../server/nemsis/fixtures.ts';
import { launchDevice, newProfileDir, signInWithToken, watchConsole } from './support/browser.ts';
import { lockableDraft } from './support/epcr.ts';
import { tearDownDevice } from './support/teardown.ts';
import { E2eServer, e2ePort, ensureApps, NEMSIS_DIR, TENANT } from './support/server.ts';

const PORT = e2ePort(1671);
const REPORT = path.resolve(import.meta.dirname, '../../docs/nemsis-coverage.md');

/** Every report fixture (the exports of all of them show what the export can write). */
function fixtureReports(): Epcr[] {
  // manyVitalsEpcr takes the number of vital sets; the others take nothing and ignore it.
  return Object.entries(fixtures)
    .filter(([name, make]) => typeof make === 'function' && /Epcr$/.test(name))
    .map(([, make]) => (make as (vitalCount: number) => Epcr)(3));
}

/** The general paths (`vitals[].systolic`) of every input of the open form, each section shown, one item of each list added. */
async function formFieldPaths(page: Page): Promise<Set<string>> {
  const form = page.getByTestId('epcr-form');
  const sections = [...new Set(await page.locator('[data-testid^="section-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!)))];
  for (const section of sections) {
    await page.locator(`[data-testid="${section}"]`).first().click();
    // Lists' items render their fields: add one of each whose button is on screen.
    for (const name of [/^Add vital signs/, /^Add medication/, /^Add procedure/, /^Add crew member/]) {
      const button = page.getByRole('button', { name }).first();
      if (await button.isVisible().catch(() => false)) {
        const before = await form.locator('[data-path]').count();
        await button.click();
        await expect.poll(() => form.locator('[data-path]').count(), { timeout: 10_000 }).toBeGreaterThan(before);
      }
    }
  }
  const paths = await form.locator('[data-path]').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')!));
  return new Set(paths.map((p) => p.replace(/\[[^\]]*\]/g, '[]')));
}

describe('NEMSIS national elements: coverage (browser)', () => {
  const server = new E2eServer(PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
  }, 300_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  it('docs/nemsis-coverage.md says how many national elements the model holds, the form reaches and the export writes', async () => {
    const page = ctx!.pages()[0] ?? await ctx!.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-cov:M1`, '/crew/');
    const report = lockableDraft('M1', { vitals: [], medications: [], procedures: [] });
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });

    const formPaths = await formFieldPaths(page);
    const coverage = measureCoverage({ nemsisDir: NEMSIS_DIR, formPaths, reports: fixtureReports(), agency: fixtures.agency });
    console.log(`nemsis coverage: ${coverage.total} national elements; held ${coverage.held}, on the form ${coverage.onForm}, exported with a value ${coverage.exported}`);
    expect(coverage.total).toBe(145);
    const rendered = renderCoverage(coverage);
    if (process.env['NEMSIS_COVERAGE_WRITE'] === '1') writeFileSync(REPORT, rendered);
    expect(rendered, 'docs/nemsis-coverage.md is stale: run `npm run nemsis:coverage` and commit it').toBe(readFileSync(REPORT, 'utf8'));
  }, 180_000);
});
