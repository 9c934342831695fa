/**
 * Issue 20: the office enters an order with an address and no coordinates, completes it, and sees
 * its job go to the technician nearest to where the agency's geocoder (the stand-in Nominatim the
 * map tests use) puts the address, with the place it was found at; an address the geocoder does
 * not know shows the job unassigned with the reason; the office then corrects the address (the
 * server places it again) or assigns a technician by hand, typing into every input of the
 * unassigned job, and reads each value back from the server. Real server, product hooks, Chromium.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { ADMIN, pathOf } from '../../shared/protocol/index.ts';
import type { Job } from '../../shared/schemas/index.ts';
import { nominatimStandIn, type StandIn } from '../helpers/geo-stand-ins.ts';
import { launchBrowser, signInWithToken, watchConsole } from './support/browser.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(3000);
const GEOCODER_PORT = e2ePort(3001);
const ELM = { lat: 41.3905, lng: -73.4741 };

describe('office: orders without coordinates are placed by address (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: 'product' });
  let geocoder: StandIn;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    geocoder = await nominatimStandIn([{ label: '12 Elm St, Norwalk, CT 06850', ...ELM, houseNumber: '12', road: 'Elm St', city: 'Norwalk', postcode: '06850', state: 'CT' }], GEOCODER_PORT);
    const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...demoAgencySettings(), map: { geocoder: { url: geocoder.url, kind: 'nominatim' } } }),
    });
    expect(put.status).toBe(200);
    // tech-alpha is far away (and first by name, so it would take a job placed nowhere); tech-zed's phone is near 12 Elm St.
    await server.seed('gps_points', [
      { id: randomUUID(), sourceType: 'technician', sourceId: 'tech-alpha', lat: 40.2, lng: -75.0, recordedAt: offsetNow() },
      { id: randomUUID(), sourceType: 'technician', sourceId: 'tech-zed', lat: 41.393, lng: -73.47, recordedAt: offsetNow() },
    ]);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    watchConsole(page, 'office', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:office:desk-1`, '/office/');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await geocoder?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  async function enterAndComplete(number: string, street: string, city: string) {
    await page.getByTestId('new-order').click();
    await page.locator('#no-orderNumber').fill(number);
    await page.locator('#no-name').fill('Elm Street Dental');
    await page.locator('#no-street').fill(street);
    await page.locator('#no-city').fill(city);
    await page.getByRole('button', { name: 'Create order' }).click();
    const row = page.locator('[data-testid="order-row"]', { hasText: number });
    await row.getByTestId('complete-order').click();
    return row;
  }

  it('an order typed with only an address goes to the technician nearest to it, and the office sees where it was placed', async () => {
    const row = await enterAndComplete('OF-100', '12 Elm St', 'Norwalk');
    await expect.poll(async () => row.getByTestId('order-job').innerText(), { timeout: 60_000 }).toMatch(/Assigned · tech-zed/);
    expect(await row.getByTestId('order-job-geocoded').innerText()).toBe('placed by address: 12 Elm St, Norwalk, CT 06850');
    const job = (await server.docs<Job>('jobs')).find((j) => j.orderNumber === 'OF-100');
    expect(job).toMatchObject({ assigneeId: 'tech-zed', location: ELM, serviceAddress: { street: '12 Elm St', city: 'Norwalk' } });
  }, 120_000);

  it('an address the geocoder does not know: the job waits unassigned and the office reads why', async () => {
    const row = await enterAndComplete('OF-101', '99 Nowhere Lane', 'Atlantis');
    const reason = row.getByTestId('order-job-unassigned');
    await expect.poll(async () => (await reason.count()) > 0 ? reason.innerText() : '', { timeout: 60_000 }).toContain('"99 Nowhere Lane, Atlantis"');
    expect(await row.getByTestId('order-job').innerText()).toMatch(/^Unassigned/);
    expect(await reason.innerText()).toMatch(/found no place .* assign a technician by hand/);
  }, 120_000);

  const jobOf = async (number: string) => (await server.docs<Job>('jobs')).find((j) => j.orderNumber === number);

  it('the office corrects the address of the unassigned job: typed values reach the server, which places it and assigns the nearest technician', async () => {
    const row = page.locator('[data-testid="order-row"]', { hasText: 'OF-101' });
    const panel = row.getByTestId('unassigned-job');
    await panel.waitFor();
    // A value the form refuses is said at its field and nothing is sent.
    await panel.getByLabel('ZIP').fill('6850');
    await panel.getByRole('button', { name: 'Correct address' }).click();
    await expect.poll(async () => panel.getByTestId('job-address-problem').innerText()).toContain('A ZIP code is 5 digits');
    expect((await jobOf('OF-101'))?.serviceAddress).toEqual({ street: '99 Nowhere Lane', city: 'Atlantis' });
    for (const [label, value] of [['Street', '12 Elm St'], ['City', 'Norwalk'], ['State', 'CT'], ['ZIP', '06850']] as const) {
      await panel.getByLabel(label, { exact: true }).fill(value);
      expect(await panel.getByLabel(label, { exact: true }).inputValue()).toBe(value);
    }
    await panel.getByRole('button', { name: 'Correct address' }).click();
    await expect.poll(async () => (await jobOf('OF-101'))?.status, { timeout: 60_000 }).toBe('assigned');
    const job = await jobOf('OF-101');
    expect(job?.serviceAddress).toEqual({ street: '12 Elm St', city: 'Norwalk', state: 'CT', zip: '06850' });
    expect(job).toMatchObject({ assigneeId: 'tech-zed', location: ELM, geocodedAs: '12 Elm St, Norwalk, CT 06850' });
    expect(job?.unassignedReason).toBeUndefined();
    await expect.poll(async () => row.getByTestId('order-job').innerText(), { timeout: 30_000 }).toMatch(/Assigned · tech-zed/);
    expect(await row.getByTestId('unassigned-job').count()).toBe(0);
  }, 120_000);

  it('the office assigns an unassigned job to a technician it picks from the list', async () => {
    const row = await enterAndComplete('OF-102', '5 Lost Road', 'Mu');
    const panel = row.getByTestId('unassigned-job');
    await panel.waitFor({ timeout: 60_000 });
    // Assign without choosing: said at the select, nothing sent.
    await panel.getByRole('button', { name: 'Assign' }).click();
    expect(await panel.getByTestId('job-assignee-problem').innerText()).toBe('Choose the technician to assign the job to.');
    const select = panel.getByLabel('Technician to assign');
    await expect.poll(async () => select.locator('option[value="tech-alpha"]').count(), { timeout: 30_000 }).toBe(1);
    await select.selectOption('tech-alpha');
    expect(await select.inputValue()).toBe('tech-alpha');
    await panel.getByRole('button', { name: 'Assign' }).click();
    await expect.poll(async () => {
      const job = await jobOf('OF-102');
      return job && { status: job.status, assigneeId: job.assigneeId, reason: job.unassignedReason };
    }, { timeout: 60_000 }).toEqual({ status: 'assigned', assigneeId: 'tech-alpha', reason: undefined });
    expect((await jobOf('OF-102'))?.statusAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$/);
    await expect.poll(async () => row.getByTestId('order-job').innerText(), { timeout: 30_000 }).toMatch(/Assigned · tech-alpha/);
  }, 120_000);
});
