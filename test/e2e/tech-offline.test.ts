/**
 * Technician phone app in real Chromium: a job made by the server's order → ticket → job chain
 * reaches the phone, is worked and completed with the network cut, and syncs later.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Order, Ticket } from '../../shared/schemas/index.ts';
import {
  goOffline, goOnline, launchBrowser, screenshot, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole,
} from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(21);
const CABLE_PORT = e2ePort(22);

describe('technician jobs offline (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let browser: Browser;
  let ctx: BrowserContext;
  const errors: string[] = [];
  const orderId = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    // The technician is known by a position fix near the site; the completed order starts the chain.
    await server.seed('gps_points', [{ id: randomUUID(), sourceType: 'technician', sourceId: 'tech-7', lat: 40.001, lng: -75.001, recordedAt: offsetNow() }]);
    await server.seed('orders', [{
      id: orderId, orderNumber: 'SO-77001', status: 'completed', priority: 'high',
      customer: { name: 'Harbor Clinic', phone: '215-555-0142' },
      serviceAddress: { street: '9 Dock Rd', city: 'Camden', zip: '08101' }, location: { lat: 40.0, lng: -75.0 },
      equipment: [{ serial: 'GW-4471-A', model: 'Gateway 4' }, { serial: 'SN-0098812' }],
      deployment: { vlan: '40', ssid: 'clinic-staff' },
    }]);
    await waitFor(async () => (await server.docs<Job>('jobs')).some((j) => j.orderId === orderId && j.assigneeId === 'tech-7'), 'the job made from the order', 20_000);
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  });

  afterAll(async () => {
    await browser?.close();
    await cable?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('completes a job offline and the completion reaches the server later', async () => {
    const page = await ctx.newPage();
    watchConsole(page, 'tech', errors);
    await signInWithToken(page, cable.origin, `dev:${TENANT}:technician:phone-7:tech-7`, '/tech/');
    await waitForServiceWorker(page);
    const job = page.locator('[data-testid="job"]');
    await job.first().waitFor({ timeout: 20_000 });
    await expect.poll(() => job.first().locator('[data-testid="badge"]').getAttribute('data-state'), { timeout: 10_000 }).toBe('synced');
    expect(await textOf(job.first())).toContain('Harbor Clinic');
    await screenshot(page, 'tech-jobs');

    await goOffline(ctx, cable);
    await page.reload();
    await job.first().waitFor();
    await expect.poll(() => page.getByTestId('connectivity').getAttribute('data-state')).toBe('offline');
    await job.first().click();
    const detail = page.getByTestId('job-detail');
    await detail.waitFor();
    expect(await textOf(detail)).toContain('GW-4471-A');
    expect(await textOf(detail)).toContain('9 Dock Rd');
    expect(await textOf(detail)).toContain('vlan: 40');
    await page.getByTestId('job-en_route').click();
    await page.getByTestId('job-on_site').click();
    await page.getByLabel('Completion notes').fill('Gateway mounted and configured; staff network tested.');
    await page.getByTestId('job-complete').click();
    await expect.poll(() => page.getByTestId('job-status').getAttribute('data-status')).toBe('completed');
    await expect.poll(() => detail.locator('[data-testid="badge"]').first().getAttribute('data-state')).toBe('pending');
    await screenshot(page, 'tech-job-offline');
    const [offlineJob] = (await server.docs<Job>('jobs')).filter((j) => j.orderId === orderId);
    expect(offlineJob?.status).toBe('assigned');

    await goOnline(ctx, cable);
    await expect.poll(() => detail.locator('[data-testid="badge"]').first().getAttribute('data-state'), { timeout: 20_000 }).toBe('synced');
    const [done] = (await server.docs<Job>('jobs')).filter((j) => j.orderId === orderId);
    expect(done).toMatchObject({ status: 'completed', notes: 'Gateway mounted and configured; staff network tested.' });
    expect(done?.statusAt).toMatch(/[+-]\d{2}:\d{2}$/);
    // The chain on the server: the completed order, the ticket made from it, the completed job.
    const [order] = await server.docs<Order>('orders', [orderId]);
    expect(order?.status).toBe('completed');
    const [ticket] = (await server.docs<Ticket>('tickets')).filter((t) => t.orderId === orderId);
    expect(ticket?.id).toBe(done?.ticketId);
    expect(ticket?.type).toBe('installation_request');
  });
});
