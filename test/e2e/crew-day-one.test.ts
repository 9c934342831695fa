/**
 * Issue 14, "where an issue is silent": what a crew expects of the ePCR on day one. Vitals as a
 * table over time (latest first, each set still editable), the GCS total counted, "copy previous
 * set", the age from the date of birth (never over an age the crew typed), discarding an
 * accidental empty report (here and on the server), the signed-in person by name, and Settings
 * returning to where the person was.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchDevice, newProfileDir, openSection, screenshot, signInWithPassword, textOf, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(1421);
const USERNAME = 'dana-whitfield';
const PASSWORD = 'Stretcher-Blue-Seven-7';

/** Today's date (YYYY-MM-DD) in New York, the tablet's zone. */
function todayInNewYork(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date());
}

/** Whole years between a date of birth and today's date in New York. */
function yearsOld(dateOfBirth: string): number {
  const [y, m, d] = todayInNewYork().split('-').map(Number) as [number, number, number];
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** Today's date a year from now in New York (a date of birth in the future). */
function aYearFromToday(): string {
  const today = todayInNewYork();
  return `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`;
}

describe('crew ePCR day-one features (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    await server.server!.app.auth.createUser(TENANT, { username: USERNAME, password: PASSWORD, role: 'crew', unitId: 'M3', displayName: 'Dana Whitfield' });
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithPassword(page, server.url, '/crew/', { tenant: TENANT, username: USERNAME, password: PASSWORD, device: 'tablet-d1' });
  });

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  async function newReport(): Promise<string> {
    await page.getByRole('button', { name: 'Calls and reports' }).click();
    await page.getByRole('button', { name: 'New report without a call' }).click();
    const form = page.getByTestId('epcr-form');
    await form.waitFor();
    return (await form.getAttribute('data-id'))!;
  }

  const storedReport = async (id: string) => (await server.docs<Epcr & { _deleted?: boolean }>('epcrs', [id]))[0];

  it('discards an accidental empty report here and on the server, and offers it only while nothing is typed', async () => {
    const id = await newReport();
    await expect.poll(async () => (await storedReport(id))?.id, { timeout: 20_000 }).toBe(id);
    await page.getByTestId('discard-report').click();
    await page.getByTestId('discard-yes').click();
    // Back where it was started from; the report is gone from the lists.
    await page.locator('#calls-title').waitFor();
    await expect.poll(() => page.locator(`[data-testid="epcr-link"][data-id="${id}"]`).count()).toBe(0);
    await page.getByRole('button', { name: 'Report history', exact: true }).click();
    await page.getByTestId('report-history').waitFor();
    await expect.poll(() => page.locator(`[data-testid="history-report"][data-id="${id}"]`).count()).toBe(0);
    await expect.poll(async () => (await storedReport(id))?._deleted, { timeout: 20_000 }).toBe(true);

    // Once anything is typed, the report can no longer be discarded.
    await newReport();
    await expect.poll(() => page.getByTestId('discard-report').isVisible()).toBe(true);
    await openSection(page, 'patient');
    await page.getByLabel('Last name').fill('Vasquez');
    await expect.poll(() => page.getByTestId('discard-report').count()).toBe(0);
  });

  it('names the signed-in person, and Settings returns to the report section it was opened from', async () => {
    const id = await newReport();
    const signedIn = page.getByTestId('epcr-form').getByText(/^Signed in as /);
    expect(await textOf(signedIn)).toBe('Signed in as Dana Whitfield on tablet-d1.');

    // Settings and back: the same report, not the call list.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('settings').waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('epcr-form').waitFor();
    expect(await page.getByTestId('epcr-form').getAttribute('data-id')).toBe(id);

    // And the same section of it.
    await openSection(page, 'times');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('settings').waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('epcr-form').waitFor();
    expect(await page.getByTestId('epcr-form').getAttribute('data-id')).toBe(id);
    expect(await page.getByLabel('Back in service (UTC-05:00)').isVisible()).toBe(true);
  });

  it('computes the age from the date of birth and never overwrites an age the crew typed', async () => {
    const id = await newReport();
    await openSection(page, 'patient');
    await page.getByLabel('Date of birth (YYYY-MM-DD)').fill('1958-03-14');
    const age = String(yearsOld('1958-03-14'));
    await expect.poll(() => page.getByLabel('Age', { exact: true }).inputValue()).toBe(age);
    await expect.poll(() => page.getByLabel('Age in').inputValue()).toBe('2516009');
    expect(await textOf(page.getByTestId('age-from-birth'))).toContain(`${age} years`);
    await expect.poll(async () => (await storedReport(id))?.patient, { timeout: 20_000 }).toMatchObject({ dateOfBirth: '1958-03-14', age: Number(age), ageUnits: '2516009' });

    // The crew types an age of its own; a later date of birth does not replace it, the difference is shown.
    await page.getByLabel('Age', { exact: true }).fill('70');
    await expect.poll(async () => (await storedReport(id))?.patient?.age, { timeout: 20_000 }).toBe(70);
    await page.getByLabel('Date of birth (YYYY-MM-DD)').fill('1960-03-14');
    await expect.poll(() => textOf(page.getByTestId('age-from-birth'))).toContain('Check both');
    await expect.poll(async () => (await storedReport(id))?.patient?.dateOfBirth, { timeout: 20_000 }).toBe('1960-03-14');
    expect(await page.getByLabel('Age', { exact: true }).inputValue()).toBe('70');
    expect((await storedReport(id))?.patient?.age).toBe(70);
  });

  it('refuses a date of birth in the future or that does not exist, and a time in the future, at the field; the stored values stay', async () => {
    const id = await newReport();
    await openSection(page, 'patient');
    const dob = page.getByLabel('Date of birth (YYYY-MM-DD)');
    await dob.fill('1958-03-14');
    await expect.poll(async () => (await storedReport(id))?.patient?.dateOfBirth, { timeout: 20_000 }).toBe('1958-03-14');
    await dob.fill(aYearFromToday());
    await expect.poll(() => textOf(dob.locator('xpath=ancestor::*[contains(@class,"field")][1]'))).toContain('This date of birth is in the future. Check the year.');
    await dob.fill('1958-02-31');
    await expect.poll(() => textOf(dob.locator('xpath=ancestor::*[contains(@class,"field")][1]'))).toContain('There is no 1958-02-31.');

    // A time two days ahead (a wrong day): refused at the field, never stored.
    await openSection(page, 'times');
    const back = page.getByLabel('Back in service (UTC-05:00)');
    const ahead = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    }).format(new Date(Date.now() + 2 * 86_400_000)).replace(', ', 'T');
    await back.fill(ahead);
    await expect.poll(() => textOf(back.locator('xpath=ancestor::*[contains(@class,"field")][1]'))).toContain('This time is in the future');
    const stored = await storedReport(id);
    expect(stored?.patient?.dateOfBirth).toBe('1958-03-14');
    expect(stored?.times?.backInService).toBeUndefined();
  });

  it('keeps every section tab where it is in the form when a badge changes (a refused value adds "1 not saved"), on a landscape and a portrait tablet; the badge shows "not saved" first', async () => {
    const tabs = page.getByTestId('section-nav').locator('button');
    // Each tab's box from the form's top-left corner: what the form itself lays out. (The app's
    // status bar above the form still grows by a line with "1 field not saved: …" and moves the
    // whole page down: docs/protocol.md, current limitations.)
    const boxes = () => tabs.evaluateAll((buttons) => buttons.map((b) => {
      const form = b.closest('[data-testid="epcr-form"]')!.getBoundingClientRect();
      const r = b.getBoundingClientRect();
      return `${b.getAttribute('data-testid')} ${Math.round(r.x - form.x)},${Math.round(r.y - form.y)} ${Math.round(r.width)}×${Math.round(r.height)}`;
    }));
    const landscape = page.viewportSize()!;
    try {
      for (const size of [landscape, { width: 768, height: 1024 }]) {
        await page.setViewportSize(size);
        await newReport();
        await openSection(page, 'patient');
        const before = await boxes();
        const patientBadge = page.getByTestId('section-patient').getByTestId('section-badge');
        expect(await patientBadge.getAttribute('data-not-saved')).toBe('0');
        // A refused value: the Patient badge gains "1 not saved", the form lists the value not
        // saved, the report's sync badge may change. A crew's tap aimed at Times a moment later
        // must land on Times: no tab may move or change size.
        await page.getByLabel('Date of birth (YYYY-MM-DD)').fill(aYearFromToday());
        await expect.poll(() => patientBadge.getAttribute('data-not-saved')).toBe('1');
        await page.getByTestId('finalize-blocked').waitFor();
        expect(await boxes(), `${size.width}×${size.height}`).toEqual(before);
        // The badge may be cut short on a narrow tab, never before "1 not saved" (it comes
        // first); its whole text is its title and what a screen reader reads.
        expect(await textOf(patientBadge)).toMatch(/^1 not saved/);
        expect(await patientBadge.getAttribute('title')).toMatch(/^1 not saved/);
        expect(await patientBadge.evaluate((badge) => {
          const text = badge.firstChild!;
          const range = document.createRange();
          range.setStart(text, 0);
          range.setEnd(text, (text.textContent ?? '').indexOf('not saved') + 'not saved'.length);
          return range.getBoundingClientRect().right <= badge.getBoundingClientRect().right + 0.5;
        }), `"1 not saved" shown whole at ${size.width}×${size.height}`).toBe(true);
      }
    } finally {
      await page.setViewportSize(landscape);
    }
  });

  it('a section opened from the sticky tabs while scrolled down shows its heading below the tabs, not behind them (portrait tablet)', async () => {
    const landscape = page.viewportSize()!;
    try {
      await page.setViewportSize({ width: 768, height: 1024 });
      await newReport();
      await openSection(page, 'patient');
      // Scrolled to the end of a long section, the tabs stuck at the top of the screen.
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await openSection(page, 'history');
      const covered = () => page.evaluate(() => {
        const nav = document.querySelector('[data-testid="section-nav"]')!.getBoundingClientRect();
        const legend = document.querySelector('#sec-history legend')!.getBoundingClientRect();
        return { navBottom: Math.round(nav.bottom), legendTop: Math.round(legend.top), scrolled: Math.round(window.scrollY) };
      });
      await expect.poll(async () => {
        const at = await covered();
        return at.legendTop >= at.navBottom ? 'below the tabs' : `behind the tabs (legend at ${at.legendTop}, tabs end at ${at.navBottom}, scrolled ${at.scrolled})`;
      }).toBe('below the tabs');
    } finally {
      await page.setViewportSize(landscape);
    }
  });

  it('shows vitals as a table over time, latest first, with the GCS total; copies the previous set; edits any set', async () => {
    const id = await newReport();
    await openSection(page, 'vitals');
    await page.getByTestId('add-vitals').click();
    await page.getByLabel('Heart rate (/min)').fill('88');
    await page.getByLabel('GCS eye').fill('4');
    await page.getByLabel('GCS verbal').fill('4');
    await page.getByLabel('GCS motor').fill('6');
    const openSet = page.locator('[data-testid="vital-set"]:visible');
    await expect.poll(() => openSet.getByTestId('gcs-total').getAttribute('data-total')).toBe('14');
    expect(await textOf(openSet.getByTestId('gcs-total'))).toContain('14');

    // Copy the previous set: a new set (time: now) with the same values, then what changed.
    await page.getByTestId('copy-vitals').click();
    await expect.poll(() => page.locator('[data-testid="vitals-row"]').count()).toBe(2);
    await expect.poll(() => textOf(openSet.locator('h3'))).toContain('Set 2');
    await expect.poll(() => openSet.getByLabel('Heart rate (/min)').inputValue()).toBe('88');
    expect(await openSet.getByLabel('GCS motor').inputValue()).toBe('6');
    await openSet.getByLabel('Heart rate (/min)').fill('96');

    // The table: latest first, heart rate in the third column, GCS total counted.
    const rows = page.locator('[data-testid="vitals-row"]');
    const heartRates = () => rows.evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll('td')[2]?.textContent ?? ''));
    await expect.poll(heartRates).toEqual(['96', '88']);
    expect(await rows.getByTestId('vitals-row-gcs').allTextContents()).toEqual(['14', '14']);
    await screenshot(page, 'crew-vitals-table');

    // The older set is still editable from its row.
    await rows.nth(1).getByRole('button', { name: 'Edit set 1' }).click();
    await expect.poll(() => textOf(openSet.locator('h3'))).toContain('Set 1');
    await openSet.getByLabel('Heart rate (/min)').fill('90');
    await expect.poll(heartRates).toEqual(['96', '90']);
    await expect.poll(async () => (await storedReport(id))?.vitals?.map((v) => [v.heartRate, v.gcsEye, v.gcsVerbal, v.gcsMotor]), { timeout: 20_000 })
      .toEqual([[90, 4, 4, 6], [96, 4, 4, 6]]);
  });
});
