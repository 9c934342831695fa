/**
 * Issue 21 (3), opening a report during a first sync: the form draws the section on screen when it
 * opens, and the eleven others one at a time after it, not all twelve at once. Drawing every
 * section (hundreds of fields) in the task that opened a new report was the longest task on the
 * page's main thread in bench:browser's typing run (a crew taps "New report" and the tablet
 * freezes while the unit's reports arrive).
 *
 * Behaviour, not timing: what the form holds at the moment it first appears on the page (a
 * MutationObserver records it in the same task as the drawing), then that every section is there
 * in the end and what is typed reaches the server.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { SECTIONS } from '../../client/apps/crew/sections/model.ts';
import { lockableDraft } from './support/epcr.ts';
import { openCrewTablet, type CrewTablet } from './support/crew-tablet.ts';
import { E2eServer, e2ePort, ensureApps } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(2827);

/**
 * Installed before the app: for each report form, the sections that held their fields when the
 * form first appeared (a section not drawn yet holds its legend only).
 */
const RECORD_FIRST_DRAW = `(() => {
  const first = window.__formFirstDrawn = {};
  new MutationObserver(() => {
    for (const form of document.querySelectorAll('[data-testid="epcr-form"]')) {
      const id = form.getAttribute('data-id');
      if (!id || first[id]) continue;
      first[id] = [...form.querySelectorAll('[data-testid="section"]')].filter((s) => s.children.length > 1).map((s) => s.getAttribute('data-section'));
    }
  }).observe(document, { childList: true, subtree: true });
})();`;

/** Opens a report from the call list (a form of its own, not the open one showing another report). */
async function openReport(page: Page, origin: string, id: string, section: string): Promise<void> {
  await page.goto(`${origin}/crew/#/`);
  await page.getByTestId('call-list').waitFor({ state: 'attached', timeout: 20_000 });
  await page.goto(`${origin}/crew/#/epcr/${id}/${section}`);
  await page.locator(`[data-testid="epcr-form"][data-id="${id}"]`).waitFor({ timeout: 20_000 });
}

const firstDrawn = (page: Page, id: string) => page.evaluate((id) => (window as unknown as { __formFirstDrawn: Record<string, string[]> }).__formFirstDrawn[id], id);
const drawnNow = (page: Page) => page.evaluate(() => [...document.querySelectorAll('[data-testid="epcr-form"] [data-testid="section"]')].filter((s) => s.children.length > 1).length);

describe('opening a report (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let tablet: CrewTablet | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    tablet = await openCrewTablet(server.url, 'tablet-opening:M1', errors);
    await tablet.ctx.addInitScript(RECORD_FIRST_DRAW);
    await tablet.page.reload();
    await tablet.page.getByRole('button', { name: 'New report without a call' }).waitFor({ timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await tearDownDevice({ ctx: tablet?.ctx, server, profile: tablet?.profile, errors });
  });

  it('a new report opens with the section on screen drawn, the others follow one at a time, and what is typed is saved', async () => {
    const page = tablet!.page;
    await page.getByRole('button', { name: 'New report without a call' }).click();
    const form = page.locator('[data-testid="epcr-form"]');
    await form.waitFor({ timeout: 20_000 });
    const id = (await form.getAttribute('data-id'))!;
    // It opens on its first section (the call); before, all twelve were drawn in that one task.
    expect(await firstDrawn(page, id)).toEqual(['response']);
    // Every section is drawn in the end, without the crew opening them.
    await expect.poll(() => drawnNow(page), { timeout: 20_000 }).toBe(SECTIONS.length);

    const text = 'Pt found sitting upright, alert.';
    await page.getByTestId('section-narrative').click();
    await page.getByTestId('narrative.text').click();
    await page.keyboard.type(text);
    await expect.poll(async () => (await server.docs<Epcr>('epcrs', [id]))[0]?.narrative?.text, { timeout: 30_000 }).toBe(text);
  }, 120_000);

  it('a report opened at a section draws that section first; the whole report (all) draws every section at once', async () => {
    const page = tablet!.page;
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await openReport(page, server.url, report.id, 'narrative');
    expect(await firstDrawn(page, report.id)).toEqual(['narrative']);
    // What the report holds is in its field.
    await expect.poll(() => page.getByTestId('narrative.text').inputValue(), { timeout: 10_000 }).toBe((report['narrative'] as { text: string }).text);
    await expect.poll(() => drawnNow(page), { timeout: 20_000 }).toBe(SECTIONS.length);

    const whole = lockableDraft('M1');
    await server.seed('epcrs', [whole]);
    await openReport(page, server.url, whole.id, 'all');
    expect(await firstDrawn(page, whole.id)).toEqual(SECTIONS.map(([anchor]) => anchor));
  }, 120_000);
});
