/**
 * The ePCR form's drafts in real Chromium (issue 14, defects 1-3): what a crew types is what the
 * record holds. Allergies, medical history and current medications are saved as lists, one per
 * line; a value the form or the database refused is shown at its field, counted as not saved
 * (the status line never says "synced"), survives a reload until it is fixed or discarded, and
 * blocks finalizing on the device, so the report the server locks is the one on the screen.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchDevice, newProfileDir, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { dbNameOf, journalRecordsOf, lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(731);

describe('ePCR drafts: lists, refused values, finalize (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];
  /** What the crew page warned (a journal write that failed says so): shown when a journal check fails. */
  const warnings: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    page.on('console', (message) => {
      if (message.type() === 'warning' && message.text().startsWith('fieldsync')) warnings.push(message.text().slice(0, 300));
    });
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-1:M1`, '/crew/');
  }, 120_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  // Each test starts from an empty journal: a test that failed with a draft left would otherwise
  // fail the next ones too (the status line counts every draft on the device).
  afterEach(async () => {
    const dbName = await dbNameOf(page).catch(() => undefined);
    if (!dbName) return;
    await page.evaluate(async (name) => {
      localStorage.removeItem(`fieldsync.journal.${name}`);
      // The app closes its connection when asked (journal-store.ts `blocking`), then it is deleted.
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(`fieldsync-journal--${name}`);
        request.onsuccess = request.onerror = resolve;
      });
    }, dbName);
    await page.reload();
    await page.locator('[data-testid="pending-count"]').waitFor();
  }, 60_000);

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  /** A field as the person sees it: its label, its input, its message. */
  const fieldOf = (label: string) => page.locator('.field').filter({ has: page.getByLabel(label, { exact: true }) });
  const problemAt = (label: string) => textOf(fieldOf(label).getByRole('alert'));
  const statusLine = () => textOf(page.getByTestId('pending-count'));
  /** The form shows one section at a time: open it as the crew does, from the section list. */
  const openSection = (p: Page, anchor: string) => p.getByTestId(`section-${anchor}`).click();

  async function seedAndOpen(extra: Record<string, unknown> = {}): Promise<string> {
    const report = lockableDraft('M1', extra);
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    return report.id;
  }

  // The history lists in the crew's own words (beside the coded lists, issue 16); the coded lists take codes only.
  const ALLERGIES = 'Allergies in your words (if no code fits)';
  const HISTORY = 'Medical history in your words (if no code fits)';
  const MEDICATIONS = 'Current medications in your words (if no code fits)';

  it('the coded history lists take codes, one per line, and refuse words at the field', async () => {
    const id = await seedAndOpen();
    await openSection(page, 'history');
    await page.getByLabel('Allergies (codes)', { exact: true }).fill('Z88.0\n7980');
    await page.getByLabel('Medical history (ICD-10-CM codes)', { exact: true }).fill('I10\nE11.9');
    await expect.poll(async () => (await stored(id))?.history, { timeout: 20_000 }).toEqual({ allergies: ['Z88.0', '7980'], medicalHistory: ['I10', 'E11.9'] });
    // Each code's label from NEMSIS's lists is shown under the field.
    await expect.poll(() => textOf(fieldOf('Allergies (codes)').getByTestId('code-labels'))).toContain('Z88.0: Penicillin');
    await page.getByLabel('Allergies (codes)', { exact: true }).fill('Z88.0\nPenicillin');
    await expect.poll(() => problemAt('Allergies (codes)')).toContain('Line 2 ("Penicillin"): Not an allergy code');
    expect((await stored(id))?.history?.allergies).toEqual(['Z88.0', '7980']);
    await fieldOf('Allergies (codes)').getByTestId('discard-draft').click();
    await expect.poll(statusLine, { timeout: 15_000 }).toBe('All changes synced');
  }, 90_000);

  it('saves allergies, medical history and current medications as lists, one item per line', async () => {
    const id = await seedAndOpen();
    await openSection(page, 'history');
    await page.getByLabel(ALLERGIES, { exact: true }).fill('Penicillin\nLatex');
    await page.getByLabel(HISTORY, { exact: true }).fill('Hypertension\n\n  Type 2 diabetes  ');
    await page.getByLabel(MEDICATIONS, { exact: true }).fill('Metoprolol 25 mg\nMetformin 500 mg');
    await expect.poll(async () => (await stored(id))?.history, { timeout: 20_000 }).toEqual({
      allergiesText: ['Penicillin', 'Latex'],
      medicalHistoryText: ['Hypertension', 'Type 2 diabetes'],
      currentMedicationsText: ['Metoprolol 25 mg', 'Metformin 500 mg'],
    });
    await expect.poll(statusLine, { timeout: 15_000 }).toBe('All changes synced');

    // A line longer than the report holds is refused at its field and never stored.
    await page.getByLabel(ALLERGIES, { exact: true }).fill(`Penicillin\n${'Latex '.repeat(40)}`);
    await expect.poll(() => problemAt(ALLERGIES)).toContain('Line 2 is too long: at most 200 characters.');
    await expect.poll(statusLine).toContain('1 field not saved: Allergies');
    // The History section's badge counts it as not saved too (the list fields included).
    const historyBadge = page.getByTestId('section-history').getByTestId('section-badge');
    await expect.poll(() => historyBadge.getAttribute('data-not-saved')).toBe('1');
    expect(await textOf(historyBadge)).toContain('1 not saved');
    await fieldOf(ALLERGIES).getByTestId('discard-draft').click();
    await expect.poll(() => historyBadge.getAttribute('data-not-saved')).toBe('0');

    // Read back after a reload: one item per line.
    await page.reload();
    await page.locator('[data-testid="epcr-form"]').waitFor();
    await expect.poll(() => page.getByLabel(ALLERGIES, { exact: true }).inputValue()).toBe('Penicillin\nLatex');
    await expect.poll(() => page.getByLabel(HISTORY, { exact: true }).inputValue()).toBe('Hypertension\nType 2 diabetes');
    expect((await stored(id))?.history?.allergiesText).toEqual(['Penicillin', 'Latex']);
  }, 90_000);

  it('refuses to finalize while a field holds a value it could not save, naming each; the locked report is the one on the screen', async () => {
    const id = await seedAndOpen();
    await openSection(page, 'vitals');
    await page.getByLabel('Systolic BP (mmHg)', { exact: true }).fill('14O');
    await expect.poll(() => problemAt('Systolic BP (mmHg)')).toContain('Numbers only.');
    await openSection(page, 'narrative');
    const tooLong = 'Pt found seated, diaphoretic, pale. '.repeat(556); // 20,016 characters: over the 20,000 the report holds
    await page.getByLabel('Narrative', { exact: true }).fill(tooLong);
    await expect.poll(() => problemAt('Narrative')).toContain('At most 20000 characters.');

    await page.getByTestId('finalize').click();
    const blocked = page.getByTestId('finalize-blocked');
    await expect.poll(() => blocked.getAttribute('data-refused')).toBe('true');
    const named = await blocked.getByTestId('finalize-blocker').allTextContents();
    expect(named.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      'Systolic BP (Vitals, set 1): Numbers only.',
      'Narrative (Narrative): At most 20000 characters.',
    ]);
    await screenshot(page, 'epcr-finalize-refused');
    // Still a draft on the device: it can be edited and finalized again.
    expect(await page.getByTestId('finalize').count()).toBe(1);

    // Picking a named field opens its section (the Narrative is on screen now) and puts the cursor in it.
    const systolic = page.getByLabel('Systolic BP (mmHg)', { exact: true });
    expect(await systolic.isVisible()).toBe(false);
    await blocked.getByTestId('finalize-blocker').filter({ hasText: 'Systolic BP' }).getByRole('link').click();
    await expect.poll(() => page.getByTestId('epcr-form').getAttribute('data-section')).toBe('vitals');
    await expect.poll(() => systolic.evaluate((input) => input === document.activeElement)).toBe(true);
    expect(await systolic.isVisible()).toBe(true);

    // Fixed: the report finalizes, and the server locks exactly what the screen shows.
    const narrative = 'Pt found seated, diaphoretic, pale. 12-lead shows ST elevation II, III, aVF.';
    await page.getByLabel('Systolic BP (mmHg)', { exact: true }).fill('142');
    await openSection(page, 'narrative');
    await page.getByLabel('Narrative', { exact: true }).fill(narrative);
    await expect.poll(() => blocked.count()).toBe(0);
    await page.getByTestId('finalize').click();
    await expect.poll(async () => (await stored(id))?.lockedAt, { timeout: 30_000 }).toBeTruthy();
    const locked = await stored(id);
    expect(locked?.vitals?.[0]?.systolic).toBe(142);
    expect(locked?.narrative?.text).toBe(narrative);
    await expect.poll(() => page.getByTestId('addendum').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByLabel('Systolic BP (mmHg)', { exact: true }).inputValue()).toBe('142');
  }, 90_000);

  it('keeps a draft that cannot be saved at its field, counted as not saved, across reloads until it is discarded', async () => {
    const id = await seedAndOpen();
    await openSection(page, 'vitals');
    const systolic = page.getByLabel('Systolic BP (mmHg)', { exact: true });
    await systolic.fill('14O');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
    await screenshot(page, 'epcr-draft-not-saved');

    await page.reload();
    await page.locator('[data-testid="epcr-form"]').waitFor();
    await expect.poll(() => systolic.inputValue()).toBe('14O');
    await expect.poll(() => problemAt('Systolic BP (mmHg)')).toContain('Numbers only.');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
    expect(await statusLine()).not.toContain('synced');
    await fieldOf('Systolic BP (mmHg)').scrollIntoViewIfNeeded();
    await screenshot(page, 'epcr-draft-at-field', { keepScroll: true });

    // Discarding it shows the stored value again; nothing is left to save.
    await fieldOf('Systolic BP (mmHg)').getByTestId('discard-draft').click();
    await expect.poll(() => systolic.inputValue()).toBe('98');
    await expect.poll(statusLine, { timeout: 15_000 }).toBe('All changes synced');
    await page.reload();
    await page.locator('[data-testid="epcr-form"]').waitFor();
    await expect.poll(() => systolic.inputValue()).toBe('98');
    expect(await fieldOf('Systolic BP (mmHg)').getByRole('alert').count()).toBe(0);
    expect((await stored(id))?.vitals?.[0]?.systolic).toBe(98);
  }, 90_000);

  it('seals again a draft an earlier version of the app left in the journal in clear, and still shows it at its field', async () => {
    const id = await seedAndOpen();
    await openSection(page, 'vitals');
    const systolic = page.getByLabel('Systolic BP (mmHg)', { exact: true });
    await systolic.fill('14O');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
    const dbName = await dbNameOf(page);
    /** The journal's records of this report (IndexedDB `fieldsync-journal--<db>`), as stored. */
    const journalRecords = async () => (await journalRecordsOf(page, dbName)).filter(([key]) => key.startsWith(`epcrs|${id}|`));
    /** Every key the journal holds (any report), for the message when the check below fails. */
    const journalKeys = async () => (await journalRecordsOf(page, dbName)).map(([key]) => key);
    await expect.poll(async () => (await journalRecords()).length).toBe(1).catch(async (error: Error) => {
      throw new Error(`${error.message}: the typed draft never reached the journal on the device (report ${id}; the journal holds ${JSON.stringify(await journalKeys())}; the page warned: ${JSON.stringify(warnings.slice(-8))})`);
    });
    // What an earlier version of the app stored: the same draft, in clear.
    await page.evaluate(async ({ name, records }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(`fieldsync-journal--${name}`);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction('entries', 'readwrite');
      for (const [key, record] of records) {
        const { sealed: _sealed, ...about } = record;
        tx.objectStore('entries').put({ ...about, raw: '14O', valid: false, problem: 'Numbers only.', label: 'Systolic BP', at: Number(record['at']) + 1, tab: 'earlier' }, key);
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }, { name: dbName, records: await journalRecords() });
    expect(JSON.stringify(await journalRecords())).toContain('"raw":"14O"');

    await page.reload();
    await page.locator('[data-testid="epcr-form"]').waitFor();
    await expect.poll(() => systolic.inputValue()).toBe('14O');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
    // Read back, and stored again sealed: nothing typed is left readable in the journal.
    await expect.poll(async () => JSON.stringify(await journalRecords()), { timeout: 10_000 }).toContain('"sealed"');
    expect(JSON.stringify(await journalRecords())).not.toContain('14O');

    await fieldOf('Systolic BP (mmHg)').getByTestId('discard-draft').click();
    await expect.poll(async () => (await journalRecords()).length).toBe(0);
  }, 90_000);

  it('shows a value the database refused at its field, never says synced, and saves it once it is retyped', async () => {
    const id = await seedAndOpen();
    // What the landed app left on devices: allergies journaled as one string, which the report's schema refuses.
    const dbName = await dbNameOf(page);
    await page.evaluate(({ dbName, id }) => {
      const path = ['history', 'allergiesText'];
      localStorage.setItem(`fieldsync.journal.${dbName}`, JSON.stringify({
        [`epcrs|${id}|${JSON.stringify(path)}`]: { collection: 'epcrs', id, path, raw: 'Penicillin\nLatex', value: 'Penicillin\nLatex', valid: true, at: Date.now(), tab: 'earlier' },
      }));
    }, { dbName, id });
    await page.reload();
    await page.locator('[data-testid="epcr-form"]').waitFor();
    await openSection(page, 'history');
    const allergies = page.getByLabel(ALLERGIES, { exact: true });
    await expect.poll(() => problemAt(ALLERGIES), { timeout: 15_000 }).toMatch(/refused this value.*Change it, or discard this draft\./);
    expect(await allergies.inputValue()).toBe('Penicillin\nLatex');
    await expect.poll(statusLine).toMatch(/^1 field not saved: Allergies in your words \(if no code fits\) — The device's database refused this value/);
    await page.getByTestId('finalize').click();
    await expect.poll(() => page.getByTestId('finalize-blocked').getAttribute('data-refused')).toBe('true');
    expect(await textOf(page.getByTestId('finalize-blocker'))).toMatch(/^Allergies in your words \(if no code fits\) \(History\): The device's database refused/);

    // Typed again in today's field, it is saved as a list and nothing is left unsaved.
    await allergies.fill('Penicillin\nLatex');
    await expect.poll(async () => (await stored(id))?.history?.allergiesText, { timeout: 20_000 }).toEqual(['Penicillin', 'Latex']);
    await expect.poll(statusLine, { timeout: 15_000 }).toBe('All changes synced');
    expect(await fieldOf(ALLERGIES).getByRole('alert').count()).toBe(0);
  }, 90_000);
  it('shows a draft another tab could not save in this tab too, blocks finalizing here, and clears when that tab discards it', async () => {
    const id = await seedAndOpen();
    const other = await ctx!.newPage();
    watchConsole(other, 'crew-tab-2', errors);
    try {
      await other.goto(`${server.url}/crew/#/epcr/${id}`);
      await other.locator(`[data-testid="epcr-form"][data-id="${id}"]`).waitFor({ timeout: 20_000 });
      await openSection(other, 'vitals');
      await other.getByLabel('Systolic BP (mmHg)', { exact: true }).fill('14O');
      // This tab hears of it: the field (in its section), the status line and Finalize say so.
      await expect.poll(() => page.getByLabel('Systolic BP (mmHg)', { exact: true }).inputValue(), { timeout: 10_000 }).toBe('14O');
      await openSection(page, 'vitals');
      await expect.poll(() => problemAt('Systolic BP (mmHg)')).toContain('Numbers only.');
      await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
      await page.getByTestId('finalize').click();
      await expect.poll(() => page.getByTestId('finalize-blocked').getAttribute('data-refused')).toBe('true');
      // A valid edit in the other tab reaches this one as usual.
      await other.getByLabel('Heart rate (/min)', { exact: true }).fill('96');
      await expect.poll(() => page.getByLabel('Heart rate (/min)', { exact: true }).inputValue(), { timeout: 10_000 }).toBe('96');
      // Discarded there: gone here too.
      await other.locator('.field').filter({ has: other.getByLabel('Systolic BP (mmHg)', { exact: true }) }).getByTestId('discard-draft').click();
      await expect.poll(() => page.getByLabel('Systolic BP (mmHg)', { exact: true }).inputValue(), { timeout: 10_000 }).toBe('98');
      await expect.poll(statusLine, { timeout: 15_000 }).toBe('All changes synced');
      expect(await page.getByTestId('finalize-blocked').count()).toBe(0);
      await expect.poll(async () => (await stored(id))?.vitals?.[0], { timeout: 15_000 }).toMatchObject({ systolic: 98, heartRate: 96 });
    } finally {
      await other.close();
    }
  }, 90_000);

  // A journal write that failed is tried again: it used to stay in the page's memory only until
  // the field changed again, and a reload or crash in between lost it.
  it('keeps a draft typed while the journal could not be written, once it can be again: it survives a reload', async () => {
    const id = await seedAndOpen();
    await openSection(page, 'vitals');
    const systolic = page.getByLabel('Systolic BP (mmHg)', { exact: true });
    await expect.poll(() => systolic.inputValue()).toBe('98');
    const dbName = await dbNameOf(page);

    // Another version of the journal database takes its place: the app's connection is closed
    // (it gives way to the upgrade) and it cannot open the journal again until that is gone.
    await page.evaluate(async (name) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(`fieldsync-journal--${name}`, 2);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      db.close();
    }, dbName);

    await systolic.fill('14O');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
    await expect.poll(() => warnings.some((w) => w.includes('could not keep an edit in the journal'))).toBe(true);

    // The journal can be written again (the other version is gone): the draft reaches it without
    // another keystroke, so a reload (or a crash) keeps it.
    await page.evaluate(async (name) => {
      await new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase(`fieldsync-journal--${name}`);
        request.onsuccess = resolve;
        request.onerror = () => reject(request.error);
      });
    }, dbName);
    const journalKeys = async () => (await journalRecordsOf(page, dbName)).map(([key]) => key);
    await expect.poll(async () => (await journalKeys()).filter((key) => key.startsWith(`epcrs|${id}|`)).length).toBe(1);

    await page.reload();
    await page.locator(`[data-testid="epcr-form"][data-id="${id}"]`).waitFor({ timeout: 20_000 });
    await openSection(page, 'vitals');
    await expect.poll(() => page.getByLabel('Systolic BP (mmHg)', { exact: true }).inputValue()).toBe('14O');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
  }, 90_000);
});
