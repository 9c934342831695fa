/**
 * Issue 20, field service end to end in real Chromium against the real server (the product's
 * hooks): the technician's phone reports its position only while a job is active; a signed order
 * event becomes order → ticket → job for the nearest *available* technician whose phone reported
 * a position; a replayed, badly signed or stale event is refused and changes nothing; the
 * technician works the job offline (checklist, part with serial, time on site) and completes it;
 * the ticket and the order close; reopening with a reason opens them again.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { signEvent } from '../../server/order-intake/signature.ts';
import { ADMIN, HEADERS, INTEGRATIONS, pathOf } from '../../shared/protocol/index.ts';
import type { Job, Order, Ticket } from '../../shared/schemas/index.ts';
import {
  goOffline, goOnline, launchBrowser, screenshot, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole,
} from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2510);
const CABLE_PORT = e2ePort(2511);
const SECRET = '7f0c1e2d3b4a59687f0c1e2d3b4a59687f0c1e2d3b4a5968';
/** Where tech-7's phone is: a few hundred metres from the new order's site. */
const PHONE_AT = { latitude: 40.003, longitude: -75.002 };
const SITE = { lat: 40.0, lng: -75.0 };

describe('field service: signed orders, nearest available technician, the job worked offline (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: 'product', cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const firstJobId = randomUUID();

  const orderEvent = (orderId: string, customer: string) => JSON.stringify({
    type: 'order.completed', orderId, priority: 'high',
    customer: { name: customer, phone: '215-555-0142' },
    serviceAddress: { street: '9 Dock Rd', city: 'Camden', state: 'NJ', zip: '08101' },
    location: SITE,
    items: [{ sku: 'GW-4', description: 'Gateway 4', quantity: 1, serial: 'GW-4471-A' }],
  });
  async function send(body: string, options: { timestamp?: number; secret?: string } = {}) {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const response = await fetch(server.url + pathOf(INTEGRATIONS.orderEvent, { agency: TENANT }), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HEADERS.signatureTimestamp]: String(timestamp), [HEADERS.signature]: signEvent(options.secret ?? SECRET, timestamp, body) },
      body,
    });
    return { status: response.status, body: (await response.json()) as { orderId?: string; status?: string; error?: { code: string } } };
  }
  const jobOf = async (orderId: string) => (await server.docs<Job>('jobs')).find((j) => j.orderId === orderId);
  const counts = async () => ({
    orders: (await server.docs('orders')).length, tickets: (await server.docs('tickets')).length, jobs: (await server.docs('jobs')).length,
  });
  const phoneFixes = async () => (await server.docs<{ sourceType: string; sourceId: string }>('gps_points')).filter((p) => p.sourceType === 'technician' && p.sourceId === 'tech-7');

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...demoAgencySettings(), orderIntake: { signingSecret: SECRET }, jobChecklists: { installation: ['Gateway mounted', 'Staff Wi-Fi tested'] } }),
    });
    expect(put.status).toBe(200);
    // Another technician, farther from the site, whose phone reported a position earlier.
    await server.seed('gps_points', [{ id: randomUUID(), sourceType: 'technician', sourceId: 'tech-9', lat: 40.2, lng: -75.0, recordedAt: offsetNow() }]);
    // tech-7 is on site at another job: its phone reports its position while it is.
    await server.seed('jobs', [{
      id: firstJobId, status: 'on_site', statusAt: offsetNow(), assigneeId: 'tech-7', kind: 'repair', customer: { name: 'Pier Cafe' },
      serviceAddress: { street: '1 Pier Rd', city: 'Camden', zip: '08101' },
    }]);
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, geolocation: PHONE_AT, permissions: ['geolocation'] });
    page = await ctx.newPage();
    watchConsole(page, 'tech', errors);
    await signInWithToken(page, cable.origin, `dev:${TENANT}:technician:phone-7:tech-7`, '/tech/');
    await waitForServiceWorker(page);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cable?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('reports the phone\'s position only while a job is active, and says so', async () => {
    const sharing = page.getByTestId('position-sharing');
    await expect.poll(() => sharing.getAttribute('data-state'), { timeout: 20_000 }).toBe('on');
    expect(await textOf(sharing)).toMatch(/shared with the office while job .* on site/);
    const fix = await waitFor(async () => (await phoneFixes())[0], 'a position from tech-7\'s phone', 30_000);
    expect(fix).toMatchObject({ lat: PHONE_AT.latitude, lng: PHONE_AT.longitude });

    // While tech-7 is busy, a new order goes to the farther technician who is available.
    const busy = await send(orderEvent('SO-7001', 'Harbor Clinic'));
    expect(busy.status).toBe(201);
    const first = (await waitFor(() => jobOf(busy.body.orderId!), 'the job of SO-7001', 20_000))!;
    expect(first.assigneeId).toBe('tech-9');

    // The job done, the phone stops sharing its position and says so.
    await page.locator(`[data-testid="job"][data-id="${firstJobId}"]`).click();
    await page.getByTestId('job-complete').click();
    await expect.poll(async () => (await server.docs<Job>('jobs', [firstJobId]))[0]?.status, { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => sharing.getAttribute('data-state')).toBe('off');
    expect(await textOf(sharing)).toContain('not shared');
    await page.getByRole('button', { name: 'Back to jobs' }).click();
  });

  it('a signed order goes to the nearest available technician by its phone\'s position; replays and bad signatures change nothing', async () => {
    const body = orderEvent('SO-7002', 'Lake Avenue Dental');
    const created = await send(body);
    expect(created.status).toBe(201);
    const orderId = created.body.orderId!;
    const job = (await waitFor(() => jobOf(orderId), 'the job of SO-7002', 20_000))!;
    // tech-7 (its phone ≈ 360 m away, available again) rather than tech-9 (22 km).
    expect(job).toMatchObject({ assigneeId: 'tech-7', status: 'assigned', equipmentSerials: ['GW-4471-A'] });
    expect(job.checklist?.map((c) => c.label)).toEqual(['Gateway mounted', 'Staff Wi-Fi tested']);
    const ticket = (await server.docs<Ticket>('tickets')).find((t) => t.orderId === orderId);
    expect(ticket?.status).toBe('open');
    // The phone shows it by itself, first in today's list.
    const entry = page.locator(`[data-testid="job"][data-id="${job.id}"]`);
    await entry.waitFor({ timeout: 20_000 });
    expect(await textOf(page.locator('[data-testid="day-entry"]').first())).toContain('Lake Avenue Dental');

    const before = await counts();
    const jobRev = job.rev;
    const replay = await send(body);
    expect(replay).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    const forged = await send(orderEvent('SO-7003', 'Forged Inc'), { secret: 'not-the-agency-secret-at-all-0123456789' });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'BAD_SIGNATURE' } } });
    const stale = await send(orderEvent('SO-7004', 'Old Capture LLC'), { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale).toMatchObject({ status: 401, body: { error: { code: 'STALE_SIGNATURE' } } });
    const changed = await send(orderEvent('SO-7002', 'Someone Else'));
    expect(changed).toMatchObject({ status: 409, body: { error: { code: 'ORDER_CONFLICT' } } });
    expect(await counts()).toEqual(before);
    expect((await jobOf(orderId))?.rev).toBe(jobRev);
    expect((await server.docs<Order>('orders', [orderId]))[0]?.customer?.name).toBe('Lake Avenue Dental');
  });

  it('the technician works the job offline (navigation, checklist, part with serial, time on site) and completes it; ticket and order close', async () => {
    const orderId = (await server.docs<Order>('orders')).find((o) => o.orderNumber === 'SO-7002')!.id;
    const job = (await jobOf(orderId))!;
    await goOffline(ctx, cable);
    await page.reload();
    await expect.poll(() => page.getByTestId('connectivity').getAttribute('data-state'), { timeout: 20_000 }).toBe('offline');
    await page.locator(`[data-testid="job"][data-id="${job.id}"]`).click();
    const detail = page.getByTestId('job-detail');
    await detail.waitFor();
    expect(await page.getByTestId('navigate-geo').getAttribute('href')).toBe(`geo:40,-75?q=${encodeURIComponent('40,-75(9 Dock Rd, Camden, NJ, 08101)')}`);
    expect(await page.getByTestId('navigate-web').getAttribute('href')).toContain('destination=40%2C-75');

    await page.getByTestId('job-en_route').click();
    await expect.poll(() => page.getByTestId('position-sharing').getAttribute('data-state')).toBe('on');
    await page.getByTestId('job-on_site').click();
    await expect.poll(() => page.getByTestId('visit').count()).toBe(1);
    await page.getByTestId('checklist-c1').selectOption('done');
    await page.getByTestId('checklist-c2').selectOption('not_applicable');
    await page.getByTestId('add-part').click();
    await page.getByTestId('part-name').fill('Gateway bracket');
    await page.getByTestId('part-serial').fill('BRK-0042-77');
    await page.getByTestId('part-quantity').fill('2');
    await page.getByLabel('Completion notes').fill('Gateway mounted on the bracket; staff network tested.');
    await page.getByTestId('job-complete').click();
    await expect.poll(() => page.getByTestId('job-status').getAttribute('data-status')).toBe('completed');
    await expect.poll(() => page.getByTestId('position-sharing').getAttribute('data-state')).toBe('off');
    await screenshot(page, 'tech-field-job-offline');
    expect((await jobOf(orderId))?.status).toBe('assigned');

    await goOnline(ctx, cable);
    await expect.poll(() => detail.locator('[data-testid="badge"]').first().getAttribute('data-state'), { timeout: 30_000 }).toBe('synced');
    const done = (await jobOf(orderId))!;
    expect(done).toMatchObject({
      status: 'completed', notes: 'Gateway mounted on the bracket; staff network tested.',
      checklist: [{ id: 'c1', label: 'Gateway mounted', result: 'done' }, { id: 'c2', label: 'Staff Wi-Fi tested', result: 'not_applicable' }],
    });
    expect(done.parts).toEqual([{ id: expect.any(String), name: 'Gateway bracket', serial: 'BRK-0042-77', quantity: 2 }]);
    expect(done.visits).toHaveLength(1);
    expect(done.visits![0]!.arrivedAt).toMatch(/[+-]\d{2}:\d{2}$/);
    expect(Date.parse(done.visits![0]!.departedAt!)).toBeGreaterThanOrEqual(Date.parse(done.visits![0]!.arrivedAt));
    await expect.poll(async () => (await server.docs<Ticket>('tickets')).find((t) => t.orderId === orderId)?.status, { timeout: 20_000 }).toBe('closed');
    await expect.poll(async () => (await server.docs<Order>('orders', [orderId]))[0]?.status, { timeout: 20_000 }).toBe('closed');
  });

  it('reopening the job takes a reason, which reaches the server; ticket and order open again', async () => {
    const orderId = (await server.docs<Order>('orders')).find((o) => o.orderNumber === 'SO-7002')!.id;
    const job = (await jobOf(orderId))!;
    await page.getByTestId('job-reopen').click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Say why' }).count()).toBe(1);
    expect((await jobOf(orderId))?.status).toBe('completed');
    const reason = 'Customer reports no signal in the upstairs office';
    await page.getByTestId('reopen-reason').fill(reason);
    await page.getByTestId('job-reopen').click();
    await expect.poll(async () => (await jobOf(orderId))?.reopenReason, { timeout: 20_000 }).toBe(reason);
    expect((await jobOf(orderId))?.status).toBe('assigned');
    expect((await jobOf(orderId))?.id).toBe(job.id);
    await expect.poll(async () => (await server.docs<Ticket>('tickets')).find((t) => t.orderId === orderId)?.status, { timeout: 20_000 }).toBe('open');
    await expect.poll(async () => (await server.docs<Order>('orders', [orderId]))[0]?.status, { timeout: 20_000 }).toBe('completed');
    expect(await textOf(page.getByTestId('reopen-note'))).toContain(reason);

    // The office sees where the order's job stands: the part and its serial, the reopening.
    const office = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const desk = await office.newPage();
    watchConsole(desk, 'office', errors);
    await signInWithToken(desk, server.url, `dev:${TENANT}:office:desk-1`, '/office/');
    const row = desk.locator(`[data-testid="order-row"][data-id="${orderId}"]`);
    await row.waitFor({ timeout: 20_000 });
    await expect.poll(() => textOf(row.getByTestId('order-job')), { timeout: 20_000 }).toContain('BRK-0042-77');
    expect(await textOf(row.getByTestId('order-job'))).toContain(reason);
    expect(await textOf(row.getByTestId('order-status'))).toContain('Completed');
    await office.close();
  });
});
