/**
 * Issue 20, the map in real Chromium with the real service worker: the dispatch console draws the
 * agency's own tile archive, served by this server by byte range (an archive of solid magenta
 * tiles generated here, so a pixel tells that the tiles were drawn); a dispatcher types an
 * address, picks the suggestion of a stand-in geocoder (a real HTTP server) and the incident holds
 * the typed address and the picked point; a click on the map sets the point and looks up the
 * address there; an MDT shows the route to its call from its GPS position, looks an address up,
 * saves the offline area (size shown first, progress bar) and draws the map
 * again with the network cut, from the saved ranges.
 *
 * WebGL in headless Chromium: SwiftShader (`--use-angle=swiftshader --enable-unsafe-swiftshader`).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { ADMIN, MAPS, pathOf } from '../../shared/protocol/index.ts';
import type { Incident } from '../../shared/schemas/index.ts';
import { nominatimStandIn, osrmStandIn, type StandIn } from '../helpers/geo-stand-ins.ts';
import { writeTestArchive } from '../../server/maps/pmtiles-writer.ts';
import { CHROMIUM, goOffline, screenshot, signInWithToken, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2317);
const CABLE_PORT = e2ePort(2318);
const GEOCODER_PORT = e2ePort(2319);
const ROUTER_PORT = e2ePort(2320);
const CENTER = { lat: 41.3948, lng: -73.454 };
const MAGENTA: [number, number, number] = [200, 30, 120];
const GL_FLAGS = ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The share of a screenshot's pixels that are the archive's magenta (decoded by the browser itself). */
async function magentaShare(page: Page, target: Locator): Promise<number> {
  const png = await target.screenshot();
  return page.evaluate(async ([b64, rgb]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = canvas.getContext('2d')!;
    g.drawImage(bitmap, 0, 0);
    const d = g.getImageData(0, 0, bitmap.width, bitmap.height).data;
    let hits = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - rgb[0]) < 24 && Math.abs(d[i + 1]! - rgb[1]) < 24 && Math.abs(d[i + 2]! - rgb[2]) < 24) hits++;
    return hits / (d.length / 4);
  }, [png.toString('base64'), MAGENTA] as const);
}

describe('map: the agency\'s own tiles, addresses, offline area (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let browser: Browser;
  let geocoder: StandIn;
  let router: StandIn;
  const errors: string[] = [];
  /** Archive requests that reached the server (not answered by a service worker). */
  let archiveRequests = 0;

  beforeAll(async () => {
    await ensureApps();
    geocoder = await nominatimStandIn([
      { label: '12 Elm Street, Danbury, 06810', lat: 41.3951, lng: -73.4530, houseNumber: '12', road: 'Elm Street', city: 'Danbury', postcode: '06810' },
      { label: '40 Main Street, Danbury, 06810', lat: CENTER.lat, lng: CENTER.lng, houseNumber: '40', road: 'Main Street', city: 'Danbury', postcode: '06810' },
    ], GEOCODER_PORT);
    router = await osrmStandIn(ROUTER_PORT);
    writeTestArchive(path.join(server.dataDir, 'tiles', 'e2e.pmtiles'), CENTER, [11, 15], MAGENTA, 3);
    await server.start();
    server.server!.app.server.on('request', (req) => { if ((req.url ?? '').startsWith(pathOf(MAPS.archive))) archiveRequests++; });
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...demoAgencySettings(), map: {
        tileArchive: 'e2e.pmtiles', offlineArea: { west: -73.462, south: 41.389, east: -73.446, north: 41.4, minZoom: 11, maxZoom: 15 },
        geocoder: { url: geocoder.url, kind: 'nominatim' }, routerUrl: router.url,
      } }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    await server.seed('units', [{ id: randomUUID(), callSign: 'M31', status: 'available', statusAt: offsetNow(), lastPosition: { lat: CENTER.lat + 0.002, lng: CENTER.lng - 0.003 }, lastPositionAt: offsetNow() }]);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: GL_FLAGS });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await cable?.close();
    await server.dispose();
    await geocoder?.close();
    await router?.close();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('dispatch: the map draws the archive\'s tiles; a typed address with a picked suggestion and a map click make incidents', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    watchConsole(page, 'dispatch', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:dispatcher:console-31`, '/dispatch/');
    const map = page.locator('[data-testid="dispatch-map"][data-map="tiles"]');
    await expect.poll(() => map.getAttribute('data-state'), { timeout: 60_000 }).toBe('idle');
    expect(archiveRequests).toBeGreaterThan(0);
    await expect.poll(() => map.locator('[data-testid="marker-unit"]').getAttribute('data-status')).toBe('available');
    await expect.poll(() => magentaShare(page, map), { timeout: 20_000 }).toBeGreaterThan(0.3);
    // Field service on the same map: a technician's position arrives through the live feed.
    await server.seed('gps_points', [{ id: randomUUID(), sourceType: 'technician', sourceId: 'tech-31', lat: CENTER.lat - 0.002, lng: CENTER.lng + 0.002, recordedAt: offsetNow() }]);
    await expect.poll(() => map.locator('[data-testid="marker-technician"]').count(), { timeout: 15_000 }).toBe(1);
    await screenshot(page, 'map-dispatch-tiles');

    // An address typed, a suggestion picked: the point is the suggestion's, the street is as typed.
    await page.getByTestId('new-incident').click();
    const form = page.getByTestId('new-incident-form');
    await form.getByLabel('Incident number').fill('MAP-1');
    await form.getByLabel('Street').fill('12 elm');
    const suggestion = form.getByTestId('address-suggestion');
    await expect.poll(() => suggestion.first().textContent(), { timeout: 15_000 }).toBe('12 Elm Street, Danbury, 06810');
    await suggestion.first().click();
    await expect.poll(() => form.getByLabel('Latitude').inputValue()).toBe('41.3951');
    expect(await form.getByLabel('Longitude').inputValue()).toBe('-73.453');
    expect(await form.getByLabel('City').inputValue()).toBe('Danbury');
    expect(await form.getByLabel('Street').inputValue()).toBe('12 elm');
    await screenshot(page, 'map-address-picked');
    await form.getByRole('button', { name: 'Create incident' }).click();
    await page.getByTestId('incident-table').waitFor();
    await expect.poll(async () => (await server.docs<Incident>('incidents')).find((i) => i.incidentNumber === 'MAP-1'), { timeout: 20_000 }).toMatchObject({
      address: { street: '12 elm', city: 'Danbury', zip: '06810' }, location: { lat: 41.3951, lng: -73.453 },
    });
    expect(geocoder.requests.some((u) => u.pathname === '/search' && u.searchParams.get('q') === '12 elm')).toBe(true);

    // The selected call's route: from its unit to the call, through the router.
    const row = page.locator('[data-testid="incident-row"][data-incident="MAP-1"]');
    await row.getByTestId('assign-unit').selectOption('M31');
    await row.getByTestId('select-incident').click();
    await expect.poll(() => map.locator('[data-testid="route-line"]').count(), { timeout: 15_000 }).toBe(1);
    expect(router.requests.some((u) => u.pathname.startsWith('/route/v1/driving/'))).toBe(true);

    // A click on the map: the point clicked, and the address there filled in where nothing was typed.
    await page.getByTestId('new-incident').click();
    await form.getByLabel('Incident number').fill('MAP-2');
    const pickMap = page.locator('[data-testid="new-incident-map"][data-map="tiles"]');
    await expect.poll(() => pickMap.getAttribute('data-state'), { timeout: 30_000 }).toBe('idle');
    await pickMap.click();
    await expect.poll(() => form.getByLabel('Street').inputValue(), { timeout: 15_000 }).toBe('40 Main Street');
    const lat = Number(await form.getByLabel('Latitude').inputValue());
    const lng = Number(await form.getByLabel('Longitude').inputValue());
    expect(Math.abs(lat - CENTER.lat)).toBeLessThan(0.05);
    expect(Math.abs(lng - CENTER.lng)).toBeLessThan(0.05);
    expect(await page.getByTestId('address-nearby').textContent()).toContain('40 Main Street, Danbury');
    await form.getByRole('button', { name: 'Create incident' }).click();
    await page.getByTestId('incident-table').waitFor();
    await expect.poll(async () => (await server.docs<Incident>('incidents')).find((i) => i.incidentNumber === 'MAP-2'), { timeout: 20_000 }).toMatchObject({
      address: { street: '40 Main Street', city: 'Danbury' }, location: { lat, lng },
    });
    expect(geocoder.requests.some((u) => u.pathname === '/reverse')).toBe(true);
    await ctx.close();
  }, 300_000);

  it('MDT: the offline area is saved with its size shown first, and the map draws with the network cut', async () => {
    // The tablet's GPS a few hundred metres from the call: the MDT routes from there.
    const ctx: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 1000 }, geolocation: { latitude: CENTER.lat + 0.003, longitude: CENTER.lng - 0.004 }, permissions: ['geolocation'] });
    const page = await ctx.newPage();
    watchConsole(page, 'mdt', errors);
    await server.seedAssignedCall({ incidentId: randomUUID(), callSign: 'M32', incidentNumber: 'MAP-3', complaint: 'Fall', priority: '2205001', address: { street: '40 Main Street' }, location: CENTER });
    await signInWithToken(page, cable.origin, `dev:${TENANT}:crew:mdt-32:M32`, '/mdt/');
    await waitForServiceWorker(page);
    const map = page.locator('[data-testid="mdt-map"][data-map="tiles"]');
    await expect.poll(() => map.getAttribute('data-state'), { timeout: 60_000 }).toBe('idle');
    // The crew looks an address up: the place is shown on the map (nothing is saved).
    await page.getByTestId('map-find').fill('12 elm');
    await page.getByTestId('address-suggestion').first().click();
    await expect.poll(() => map.locator('[data-testid="marker-dest"][data-id="found"]').getAttribute('data-lat')).toBe('41.395100');
    expect(await page.getByTestId('map-found').textContent()).toContain('12 Elm Street, Danbury');
    // The route from the unit's position to the call, through the router; and the address where the unit is.
    await expect.poll(() => map.locator('[data-testid="route-line"]').count(), { timeout: 20_000 }).toBe(1);
    expect(router.requests.some((u) => u.pathname.includes(`${CENTER.lng},${CENTER.lat}`))).toBe(true);
    await expect.poll(() => page.getByTestId('near-address').textContent(), { timeout: 15_000 }).toContain('Danbury');
    const card = page.getByTestId('map-area');
    const save = card.getByTestId('map-area-save');
    await expect.poll(() => save.textContent(), { timeout: 20_000 }).toMatch(/^Save map area \([0-9.]+ KB, \d+ tiles\)$/);
    await save.click();
    await expect.poll(() => card.getAttribute('data-saved'), { timeout: 30_000 }).toBe('current');
    expect(await card.getByTestId('map-area-status').textContent()).toMatch(/^Saved .*: [0-9.]+ KB, \d+ tiles\.$/);
    await screenshot(page, 'map-mdt-area-saved');

    await goOffline(ctx, cable);
    const before = archiveRequests;
    await page.reload();
    await expect.poll(() => map.getAttribute('data-state'), { timeout: 60_000 }).toBe('idle');
    await expect.poll(() => magentaShare(page, map), { timeout: 20_000 }).toBeGreaterThan(0.3);
    expect(archiveRequests).toBe(before);
    await screenshot(page, 'map-mdt-offline');
    await ctx.close();
  }, 300_000);
});
