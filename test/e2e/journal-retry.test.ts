/**
 * The autosave journal (client/ui/autosave.ts) keeps each keystroke on the device before it is
 * saved, so a killed tab or browser loses nothing the screen showed. When a journal write fails
 * (the journal's IndexedDB database was unavailable for a moment), the edit must be tried again:
 * it used to stay in the page's memory only until the field changed again, and a reload or crash
 * in between lost it.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchDevice, newProfileDir, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { dbNameOf, journalRecordsOf, lockableDraft } from './support/epcr.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(3200);

describe('autosave journal: a write that failed is tried again (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    page.on('console', (message) => {
      if (message.type() === 'warning' && message.text().startsWith('fieldsync')) warnings.push(message.text());
    });
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-1:M1`, '/crew/');
  }, 120_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const statusLine = () => textOf(page.getByTestId('pending-count'));

  it('keeps a draft typed while the journal could not be written, once it can be again: it survives a reload', async () => {
    const report = lockableDraft('M1');
    await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    await page.getByTestId('section-vitals').click();
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
    await expect.poll(async () => (await journalKeys()).filter((key) => key.startsWith(`epcrs|${report.id}|`)).length).toBe(1);

    await page.reload();
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    await page.getByTestId('section-vitals').click();
    await expect.poll(() => page.getByLabel('Systolic BP (mmHg)', { exact: true }).inputValue()).toBe('14O');
    await expect.poll(statusLine).toBe('1 field not saved: Systolic BP — Numbers only.');
  }, 90_000);
});
