/**
 * A crash keeps what was typed (issue 14, defect 11), in real Chromium with a persistent profile:
 * the browser is killed (SIGKILL, every process of it) half a second after signing in, and the
 * tablet is still signed in with its data readable when it starts again (the session and the
 * wrapped database key are in IndexedDB, not in localStorage, which reaches the disk seconds
 * late). Then a long narrative and vital signs are typed, the browser is killed 250 ms after the
 * last keystroke, and started again on the same profile. The report shows everything that was on
 * the screen, finalizing it right away waits for the replayed edits, and the report the server
 * locks holds all of it.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchDevice, newProfileDir, signInWithToken, watchConsole } from './support/browser.ts';
import { chromiumPids, lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(741);

/** About 4,000 characters of narrative, as a crew writes it at the end of a call. */
function longNarrative(): string {
  const sentences = [
    'Dispatched emergent to a residence for a 67 y/o female with chest pain.',
    'Found seated upright in the kitchen, alert and oriented x4, pale and diaphoretic.',
    'Reports substernal pressure radiating to the left arm since 40 minutes, 8/10.',
    'History of hypertension and type 2 diabetes; allergic to penicillin.',
    '12-lead shows ST elevation in II, III and aVF; STEMI alert called to the receiving facility.',
    'Aspirin 324 mg chewed, IV access 18 g left AC, nitroglycerin withheld for the inferior STEMI.',
  ];
  let text = '';
  for (let i = 0; text.length < 4000; i++) text += `${sentences[i % sentences.length]} `;
  return text.trim();
}

describe('autosave journal across a browser crash (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
  }, 120_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];

  /** Kills every process of the browser (no chance to clean up) and waits for the context to notice. */
  async function kill(pids: readonly number[]): Promise<void> {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited with its parent
      }
    }
    const dead = ctx!;
    ctx = undefined;
    await Promise.race([dead.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }

  async function openReport(page: Page, id: string): Promise<void> {
    await page.goto(`${server.url}/crew/#/epcr/${id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${id}"]`).waitFor({ timeout: 20_000 }).catch(async (error: unknown) => {
      throw new Error(`the report did not open; the page shows: ${(await page.evaluate(() => document.body.innerText)).slice(0, 500)}`, { cause: error });
    });
  }

  it('keeps the sign-in through a crash right after signing in; restores a long narrative and vital signs typed 250 ms before the browser was killed, and locks the report with them', async () => {
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    let page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'before-crash', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-1:M1`, '/crew/');
    // The browser dies half a second after the app opened: the sign-in and the key of the
    // (encrypted) local database must be on disk already.
    const signedInPids = await chromiumPids(profile);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await kill(signedInPids);
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'after-sign-in-crash', errors);
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    // Still signed in (no sign-in form), and the data opens: the report (synced from the server into the local database) shows.
    await page.goto(`${server.url}/crew/`);
    await page.locator('[data-testid="status-bar"], [data-testid="sign-in"], [data-testid="unlock"]').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid="sign-in"], [data-testid="unlock"]').count(), 'asked to sign in or unlock again after the crash').toBe(0);
    await openReport(page, report.id);

    // The narrative's body, the vitals, then the narrative's last sentence, typed key by key.
    const narrative = longNarrative();
    const tail = ' Transferred care to the ED team at bedside, report given.';
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative', { exact: true }).fill(narrative);
    await page.getByTestId('section-vitals').click();
    await page.getByLabel('Systolic BP (mmHg)', { exact: true }).fill('142');
    await page.getByLabel('Diastolic BP (mmHg)', { exact: true }).fill('88');
    await page.getByLabel('SpO₂ (%)', { exact: true }).fill('97');
    const pids = await chromiumPids(profile);
    expect(pids.length, 'the browser process of the profile').toBeGreaterThan(0);
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative', { exact: true }).focus();
    await page.keyboard.press('End');
    await page.keyboard.type(tail);
    const lastKeystroke = Date.now();

    // The browser dies 250 ms after the last keystroke: every process of it, with no chance to clean up.
    await new Promise((resolve) => setTimeout(resolve, 250 - (Date.now() - lastKeystroke)));
    if (process.env['FIELDSYNC_E2E_VERBOSE']) console.log(`[crash-journal] killing ${Date.now() - lastKeystroke} ms after the last keystroke`);
    await kill(pids);

    // Started again on the same profile: the report comes back with everything typed.
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'after-crash', errors);
    await openReport(page, report.id);
    // Finalized at once: the edits read back from the journal go in first.
    await page.getByTestId('finalize').click();
    await expect.poll(async () => (await stored(report.id))?.lockedAt, { timeout: 30_000 }).toBeTruthy();
    const locked = await stored(report.id);
    const typed = narrative + tail;
    const summary = (text: string | undefined) => ({ characters: text?.length, ending: text?.slice(-80), complete: text === typed });
    expect(summary(locked?.narrative?.text), 'the locked narrative').toEqual(summary(typed));
    expect(locked?.vitals?.[0]).toMatchObject({ systolic: 142, diastolic: 88, spo2: 97 });
    expect(summary(await page.getByLabel('Narrative', { exact: true }).inputValue()), 'the narrative on the screen').toEqual(summary(typed));
    expect(await page.getByLabel('SpO₂ (%)', { exact: true }).inputValue()).toBe('97');
  }, 120_000);
});
