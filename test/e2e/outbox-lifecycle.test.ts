/**
 * The service worker's outbound queue across the life of a device (issue #7): a queue that
 * survives closing the browser, a browser without Background Sync (delivery on the next app
 * open), and a new version of the service worker taking over a non-empty queue.
 *
 * One real server serves a private copy of the built apps, so a test can change the service
 * worker script the devices get (remove Background Sync from it, or deploy a new version).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { CLIENT_DIST } from '../../server/apps/static.ts';
import { goOffline, goOnline, reapplyOffline, screenshot, textOf, waitFor } from './support/browser.ts';
import {
  formBadge, openReport, queueLine, queuedCount, resetDevice, serviceWorkerControl, refuseBackgroundSync, startCrewDevice, type CrewDevice,
} from './support/outbox.ts';
import { E2eServer, e2ePort, ensureApps } from './support/server.ts';

const SERVER_PORT = e2ePort(221);
const cablePort = (n: number) => e2ePort(221 + n);

/**
 * Chromium without Background Sync, as in browsers that do not have it: the API is removed from
 * the service worker's global scope before the app's code runs (prepended to the served script),
 * and from the pages by an init script. The service worker then never gets a `sync` event.
 */
const NO_BACKGROUND_SYNC = `/* e2e: this browser has no Background Sync */
delete self.SyncManager;
Object.defineProperty(ServiceWorkerRegistration.prototype, 'sync', { get() { return undefined; }, configurable: true });
`;
function removeBackgroundSyncFromPages(): void {
  delete (window as unknown as { SyncManager?: unknown }).SyncManager;
  // (Not exposed on about:blank and other non-secure pages.)
  if (typeof ServiceWorkerRegistration !== 'undefined') {
    Object.defineProperty(ServiceWorkerRegistration.prototype, 'sync', { get() { return undefined; }, configurable: true });
  }
}

describe('the outbound queue across restarts, browsers and updates (browser)', () => {
  let clientDir: string;
  let server: E2eServer;
  let originalWorker: string;
  const errors: string[] = [];
  const devices: CrewDevice[] = [];
  /** The tablet of the restart and update tests (a report each). */
  let tablet: CrewDevice;

  beforeAll(async () => {
    await ensureApps();
    clientDir = mkdtempSync(path.join(os.tmpdir(), 'fieldsync-client-'));
    cpSync(CLIENT_DIST, clientDir, { recursive: true });
    originalWorker = readFileSync(path.join(clientDir, 'service-worker.js'), 'utf8');
    server = new E2eServer(SERVER_PORT, { clientDir });
    await server.start();
    tablet = await device(1, 'M81', undefined, 2);
    // A browser started, signed in, its service worker installed and two report stubs synced: as
    // for outbox-delivery's set-up, 60 s ran out on a loaded machine (the limit guards a hang).
  }, 180_000);

  afterAll(async () => {
    for (const device of devices) await device.dispose().catch(() => {});
    await server?.dispose();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
    if (errors.length) console.log(errors.join('\n'));
  });

  const serveWorker = (text: string) => writeFileSync(path.join(clientDir, 'service-worker.js'), text);

  async function device(n: number, unit: string, initScript?: () => void, calls = 1): Promise<CrewDevice> {
    const d = await startCrewDevice(server, { cablePort: cablePort(n), unit, incidentNumber: `2026-0008${n}0`, errors, calls, ...(initScript ? { initScript } : {}) });
    devices.push(d);
    return d;
  }

  const serverNarrative = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0]?.narrative?.text;

  it('a queue left when the browser closed is delivered once after a restart, still offline at first', async () => {
    const d = tablet;
    const epcrId = d.epcrIds[0]!;
    let page = await resetDevice(d);
    await openReport(page, epcrId);
    await goOffline(d.ctx, d.cable);
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('Queued before the tablet was shut down.');
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);

    await d.closeBrowser();
    const ctx = await d.relaunch({ offline: true });
    page = await d.openApp(`/crew/#/epcr/${epcrId}`);
    await reapplyOffline(ctx);
    await page.getByTestId('epcr-form').waitFor();
    expect(await page.getByLabel('Narrative').inputValue()).toBe('Queued before the tablet was shut down.');
    await expect.poll(() => queueLine(page), { timeout: 10_000 }).toMatch(/^In the outbox: 1 patient care report, waiting since \d{2}:\d{2}/);
    expect(await textOf(formBadge(page))).toBe('Saved on device');
    expect(await serverNarrative(epcrId)).toBeUndefined();
    await screenshot(page, 'outbox-after-restart-offline');

    await goOnline(ctx, d.cable);
    const t0 = Date.now();
    await waitFor(async () => (await serverNarrative(epcrId)) === 'Queued before the tablet was shut down.', 'delivery after the restart');
    console.log(`[outbox] after a browser restart: delivered ${Date.now() - t0} ms after the network returned`);
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page)).toBe(0);
    expect(server.writes.filter((w) => w.id === epcrId)).toHaveLength(1);
  });

  it('a new service worker version takes over a queue that holds changes and loses none of them', async () => {
    const d = tablet;
    const { cable } = d;
    const epcrId = d.epcrIds[1]!;
    const page = await resetDevice(d);
    await openReport(page, epcrId);

    // The network is up but every push is turned away: the change stays queued.
    cable.block(/\/api\/sync\/[a-z_]+\/push/);
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Haddad');
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('Written before the update.');
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => textOf(page.getByTestId('queue-error')), { timeout: 10_000 }).toContain('the server could not take the changes (503');

    // Deploy: a new service worker (it also answers a version question, to prove which one runs).
    serveWorker(`${originalWorker}
;self.addEventListener('message', (event) => { if (event.data && event.data.type === 'e2e:release') event.ports[0] && event.ports[0].postMessage('release-2'); });
`);
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    const banner = page.getByTestId('update-banner');
    await banner.waitFor({ timeout: 20_000 });
    await Promise.all([page.waitForEvent('load', { timeout: 20_000 }), banner.getByRole('button', { name: 'Reload now' }).click()]);
    await page.getByTestId('epcr-form').waitFor();
    const release = await page.evaluate(() => new Promise<string>((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(String(event.data));
      navigator.serviceWorker.controller?.postMessage({ type: 'e2e:release' }, [channel.port2]);
      setTimeout(() => resolve('no answer'), 3000);
    }));
    expect(release).toBe('release-2');

    // Nothing was lost: the change still waits, under the new version.
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
    expect(await textOf(formBadge(page))).toBe('Saved on device');
    expect(await page.getByLabel('Narrative').inputValue()).toBe('Written before the update.');
    expect(await serverNarrative(epcrId)).toBeUndefined();
    await screenshot(page, 'outbox-after-update');

    // The server takes pushes again; the next app open sends the change.
    cable.block(undefined);
    await page.reload();
    await waitFor(async () => (await serverNarrative(epcrId)) === 'Written before the update.', 'delivery by the new version');
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page)).toBe(0);
    const stored = (await server.docs<Epcr>('epcrs', [epcrId]))[0];
    expect(stored?.patient?.lastName).toBe('Haddad');
    const revs = server.writes.filter((w) => w.id === epcrId).map((w) => w.rev);
    expect(new Set(revs).size).toBe(revs.length);
  });

  it('without Background Sync, the change waits for the next app open and goes out then', async () => {
    serveWorker(NO_BACKGROUND_SYNC + originalWorker);
    try {
      const d = await device(2, 'M82', removeBackgroundSyncFromPages);
      const { ctx, cable, epcrId } = d;
      let page = d.page;
      expect(await page.evaluate(async () => ({
        page: 'SyncManager' in window,
        registration: (await navigator.serviceWorker.ready as ServiceWorkerRegistration & { sync?: unknown }).sync !== undefined,
      }))).toEqual({ page: false, registration: false });
      await expect.poll(() => textOf(page.getByTestId('delivery-note')), { timeout: 10_000 })
        .toBe('This browser cannot send in the background: waiting changes are sent while this app is open.');
      await openReport(page, epcrId);
      await goOffline(ctx, cable);
      await page.getByTestId('section-narrative').click();
      await page.getByLabel('Narrative').fill('No Background Sync on this tablet.');
      await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);

      // The app closes and the browser stops the idle service worker; then the network returns:
      // nothing can wake the worker. (The browser's offline mode is lifted while the cable is
      // still cut: DevTools cannot change a stopped worker's network state.)
      for (const p of ctx.pages()) await p.close();
      await ctx.setOffline(false);
      const sw = await serviceWorkerControl(ctx, cable.origin);
      await sw.stopWorkers();
      await sw.close();
      await cable.restore();
      await new Promise((r) => setTimeout(r, 1500));
      expect(await serverNarrative(epcrId)).toBeUndefined();

      // The crew opens the app: the service worker starts, gets the kick and delivers.
      const t0 = Date.now();
      page = await d.openApp(`/crew/#/epcr/${epcrId}`);
      await waitFor(async () => (await serverNarrative(epcrId)) === 'No Background Sync on this tablet.', 'delivery on app open');
      console.log(`[outbox] without Background Sync: delivered ${Date.now() - t0} ms after the app was opened`);
      await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('synced');
      await expect.poll(() => queuedCount(page)).toBe(0);
      expect(server.writes.filter((w) => w.id === epcrId)).toHaveLength(1);
    } finally {
      serveWorker(originalWorker);
    }
  });
  it('with Background Sync refused by a site setting, the app says so and delivers while it is open', async () => {
    const d = await device(3, 'M83');
    const { ctx, cable, epcrId } = d;
    await refuseBackgroundSync(ctx, cable.origin);
    const page = await resetDevice(d);
    // The setting really refuses it (the app used to swallow this error).
    expect(await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready as ServiceWorkerRegistration & { sync: { register(tag: string): Promise<void> } };
      return registration.sync.register('e2e-probe').then(() => 'registered', (error: Error) => error.name);
    })).toBe('NotAllowedError');
    const note = page.getByTestId('delivery-note');
    await expect.poll(() => textOf(note), { timeout: 10_000 }).toBe('Background sending is blocked in this browser: waiting changes are sent while this app is open.');
    await screenshot(page, 'outbox-background-sync-refused');

    // A dead zone (the browser keeps saying "online", so no \`online\` event will come): the change waits.
    await openReport(page, epcrId);
    await cable.cut();
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('Background Sync is blocked on this tablet.');
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => textOf(page.getByTestId('connectivity')), { timeout: 20_000 }).toBe('Server unreachable');
    await new Promise((r) => setTimeout(r, 2000)); // the service worker's first tries fail meanwhile
    // The browser stops the idle service worker: from now on only the open app can wake it.
    const sw = await serviceWorkerControl(ctx, cable.origin);
    await sw.stopWorkers();
    await sw.close();
    expect(await serverNarrative(epcrId)).toBeUndefined();

    const back = Date.now();
    await cable.restore();
    await waitFor(async () => (await serverNarrative(epcrId)) === 'Background Sync is blocked on this tablet.', 'delivery driven by the open app', 60_000);
    console.log(`[outbox] Background Sync refused, app open: delivered ${Date.now() - back} ms after data flowed again`);
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page)).toBe(0);
    expect(await textOf(note)).toContain('sent while this app is open');
  }, 120_000);
});
