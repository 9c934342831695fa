/**
 * Dispatch console and MDT together in real Chromium, one server and one browser launch:
 * a dispatcher creates and assigns an incident; the crew's MDT gets it, acknowledges and changes
 * status; the crew's ePCR progress and the unit's GPS track reach the console live, without reload.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr, GpsPoint, Incident, Unit } from '../../shared/schemas/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(11);
const CABLE_PORT = e2ePort(12);
const START = { latitude: 39.9500, longitude: -75.1700 };
/** About 150 m apart, heading north-east. */
const ROUTE = Array.from({ length: 10 }, (_, i) => ({ latitude: START.latitude + 0.001 * (i + 1), longitude: START.longitude + 0.001 * (i + 1) }));

describe('dispatch console and MDT (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let browser: Browser;
  let dispatchCtx: BrowserContext;
  let crewCtx: BrowserContext;
  let dispatch: Page;
  let mdt: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    await server.seed('units', [
      { id: randomUUID(), callSign: 'M2', status: 'available', statusAt: offsetNow(), lastPosition: { lat: START.latitude, lng: START.longitude }, lastPositionAt: offsetNow() },
      { id: randomUUID(), callSign: 'M7', status: 'out_of_service', statusAt: offsetNow(), lastPosition: { lat: 39.962, lng: -75.158 }, lastPositionAt: offsetNow(new Date(Date.now() - 3_600_000)) },
    ]);
    browser = await launchBrowser();
    dispatchCtx = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    crewCtx = await browser.newContext({ viewport: { width: 1280, height: 800 }, geolocation: START, permissions: ['geolocation'] });
    dispatch = await dispatchCtx.newPage();
    mdt = await crewCtx.newPage();
    watchConsole(dispatch, 'dispatch', errors);
    watchConsole(mdt, 'mdt', errors);
  });

  afterAll(async () => {
    await browser?.close();
    await cable?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  const unitRow = () => dispatch.locator('[data-testid="unit-row"][data-unit="M2"]');

  it('shows the assignment on the MDT and the crew\'s status and ePCR progress on the console, live', async () => {
    await signInWithToken(dispatch, server.url, `dev:${TENANT}:dispatcher:console-1`, '/dispatch/');
    await unitRow().waitFor({ timeout: 20_000 });
    await signInWithToken(mdt, cable.origin, `dev:${TENANT}:crew:tablet-2:M2`, '/mdt/');
    await waitForServiceWorker(mdt);
    await mdt.locator('[data-testid="unit-status"][data-status="available"]').waitFor({ timeout: 20_000 });
    await dispatch.evaluate(() => { (window as unknown as { stayedLoaded: boolean }).stayedLoaded = true; });

    // The dispatcher creates an incident and assigns M2.
    await dispatch.getByTestId('new-incident').click();
    const form = dispatch.getByTestId('new-incident-form');
    const incidentNumber = await form.getByLabel('Incident number').inputValue();
    await form.getByLabel('Complaint').fill('difficulty breathing');
    await form.getByLabel('Street').fill('400 Spruce St');
    await form.getByLabel('City').fill('Philadelphia');
    await form.getByLabel('ZIP').fill('19106');
    await form.getByLabel('Latitude').fill(String(ROUTE[ROUTE.length - 1]!.latitude));
    await form.getByLabel('Longitude').fill(String(ROUTE[ROUTE.length - 1]!.longitude));
    await form.getByLabel('Assign unit').selectOption('M2');
    await form.getByRole('button', { name: 'Create incident' }).click();
    await dispatch.locator(`[data-testid="incident-row"][data-incident="${incidentNumber}"]`).waitFor();

    // The MDT shows it by itself; the crew acknowledges and goes en route.
    const assignment = mdt.getByTestId('assignment');
    await expect.poll(() => textOf(assignment), { timeout: 20_000 }).toContain(`Call ${incidentNumber}`);
    expect(await textOf(assignment)).toContain('difficulty breathing');
    await mdt.getByTestId('acknowledge').click();
    await mdt.getByTestId('acknowledged').waitFor();
    await mdt.getByTestId('status-en_route').click();
    await expect.poll(() => mdt.getByTestId('status-en_route').getAttribute('aria-pressed')).toBe('true');

    // The console follows without a reload.
    await expect.poll(() => unitRow().getAttribute('data-status'), { timeout: 15_000 }).toBe('en_route');
    expect(await textOf(unitRow())).toContain('acknowledged');
    await screenshot(dispatch, 'dispatch-board');

    // The crew opens the ePCR stub the server made for the assignment and finalizes it too early.
    const crew = await crewCtx.newPage();
    watchConsole(crew, 'crew', errors);
    await crew.goto(`${cable.origin}/crew/`);
    const link = crew.locator('[data-testid="epcr-link"]');
    await link.first().waitFor({ timeout: 20_000 });
    const progress = dispatch.locator(`[data-testid="incident-row"][data-incident="${incidentNumber}"] [data-testid="epcr-progress"]`);
    await expect.poll(() => textOf(progress), { timeout: 15_000 }).toContain('M2: draft');
    await link.first().click();
    await crew.getByTestId('section-patient').click();
    await crew.getByLabel('Last name').fill('Okafor');
    await crew.getByTestId('finalize').click();

    // The server checks it and returns it: the crew sees the problems at their fields, dispatch sees the state.
    await crew.getByTestId('finalize-errors').waitFor({ timeout: 20_000 });
    await expect.poll(() => crew.getByTestId('field-server-error').count()).toBeGreaterThan(3);
    expect(await textOf(crew.locator('.field', { has: crew.getByLabel('First name') }))).toContain('Patient first name: needed to finalize.');
    await expect.poll(() => textOf(progress), { timeout: 15_000 }).toMatch(/M2: returned to the crew \(\d+ to fix\)/);
    expect(await dispatch.evaluate(() => (window as unknown as { stayedLoaded?: boolean }).stayedLoaded)).toBe(true);
    const epcrId = (await crew.getByTestId('epcr-form').getAttribute('data-id'))!;
    const [stored] = await server.docs<Epcr>('epcrs', [epcrId]);
    expect(stored?.status).toBe('draft');
    expect(stored?.finalizeErrors?.length).toBeGreaterThan(3);
    await crew.close();

    const [unit] = (await server.docs<Unit>('units')).filter((u) => u.callSign === 'M2');
    expect(unit).toMatchObject({ status: 'en_route' });
    expect(unit?.assignmentAcknowledgedAt).toBeDefined();
    const [incident] = (await server.docs<Incident>('incidents')).filter((i) => i.incidentNumber === incidentNumber);
    expect(incident?.assignedUnitId).toBe('M2');
  });

  it('records the MDT\'s GPS in batches and moves the unit on the dispatch map', async () => {
    const gpsFor = async () => (await server.docs<GpsPoint>('gps_points')).filter((p) => p.sourceId === 'M2');
    const before = (await gpsFor()).length;
    const pushesBefore = server.pushRequests.get('gps_points') ?? 0;
    for (const point of ROUTE) {
      await crewCtx.setGeolocation(point);
      await mdt.waitForTimeout(600);
    }
    const last = ROUTE[ROUTE.length - 1]!;
    const atLast = (p: GpsPoint) => Math.abs(p.lat - last.latitude) < 1e-6 && Math.abs(p.lng - last.longitude) < 1e-6;
    // Wait for the end of the route itself: on a busy machine the MDT may record extra fixes of
    // earlier positions first, so a count alone says nothing about where the unit ended up.
    await waitFor(async () => {
      const now = await gpsFor();
      return now.length >= before + 2 && now.some(atLast);
    }, 'the route on the server', 30_000);
    const points = await gpsFor();
    expect(points.some((p) => Math.abs(p.lat - last.latitude) < 1e-6 && Math.abs(p.lng - last.longitude) < 1e-6)).toBe(true);
    expect(points.every((p) => /[+-]\d{2}:\d{2}$/.test(p.recordedAt))).toBe(true);
    // Batched: fewer push requests than points.
    const pushes = (server.pushRequests.get('gps_points') ?? 0) - pushesBefore;
    expect(pushes).toBeGreaterThan(0);
    expect(pushes).toBeLessThan(ROUTE.length);
    // The MDT's map shows its track; the console's map has moved the unit to the last point.
    await expect.poll(() => mdt.getByTestId('gps-state').getAttribute('data-recorded')).not.toBe('0');
    expect(await mdt.locator('[data-testid="mdt-map"] polyline.track').count()).toBe(1);
    const marker = dispatch.locator('[data-testid="dispatch-map"] [data-testid="marker-unit"][data-id="M2"]');
    await expect.poll(async () => Number(await marker.getAttribute('data-lat')), { timeout: 15_000 }).toBeCloseTo(last.latitude, 5);
    expect(Number(await marker.getAttribute('data-lng'))).toBeCloseTo(last.longitude, 5);
    expect(await textOf(unitRow().getByTestId('unit-position'))).toContain(last.latitude.toFixed(4));
    await screenshot(mdt, 'mdt-main');
    await screenshot(dispatch, 'dispatch-map-moved');
  });
});
