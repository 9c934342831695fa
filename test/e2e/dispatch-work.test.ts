/**
 * Issue 20, "Dispatch work", in Chromium against a real server with the product's workflows: a
 * dispatcher whose console clock is an hour fast creates a call by coordinates needing an ALS unit,
 * sees the nearest free ALS unit recommended with its distance (a nearer BLS unit and a nearer busy
 * ALS unit are not), and assigns it with one click. Timers count in the server's time. The MDT shows
 * the call and the dispatcher's note and marks it read; the console shows it read. The call, not
 * acknowledged within the agency's threshold (5 s, set through the admin API), flashes and beeps;
 * the MDT's Acknowledge stops it, and the console says how it was acknowledged. Closing the call
 * takes it off the board, the MDT (after Available) and the crew app's open calls.
 * Time is not mocked here: the threshold is short, and only the console's wall clock is moved.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { codeOf } from '../../shared/nemsis/codes.ts';
import { ADMIN, pathOf } from '../../shared/protocol/index.ts';
import type { Incident, Unit } from '../../shared/schemas/index.ts';
import { launchBrowser, signInWithToken, textOf, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2437);
const ALS = codeOf('eResponse.07', 'Ground Transport (ALS Equipped)');
const BLS = codeOf('eResponse.07', 'Ground Transport (BLS Equipped)');
const SCENE = { lat: 41.3948, lng: -73.454 };
/**
 * The dispatcher's computer is an hour fast: its timers must still count from the server's times
 * (counted on its own clock, a call received seconds ago would read an hour, and alert at once).
 */
const CONSOLE_SKEW_MS = 3600_000;
const NUMBER = 'DW-0001';

describe('dispatch work: recommend, assign, notes, unacknowledged alert, close (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: 'product' });
  let browser: Browser;
  let dispatchCtx: BrowserContext;
  let crewCtx: BrowserContext;
  let dispatch: Page;
  let mdt: Page;
  let crewApp: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    const put = await fetch(`${server.url}${pathOf(ADMIN.putAgency)}`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...demoAgencySettings(), dispatch: { unacknowledgedAlertSeconds: 5 } }),
    });
    expect(put.status).toBe(200);
    await server.seed('units', [
      // ≈ 3 km north: the nearest free ALS unit.
      { id: randomUUID(), callSign: 'M1', capability: ALS, status: 'available', statusAt: offsetNow(), lastPosition: { lat: 41.4218, lng: -73.454 }, lastPositionAt: offsetNow() },
      // ≈ 300 m: nearer, but BLS.
      { id: randomUUID(), callSign: 'B2', capability: BLS, status: 'available', statusAt: offsetNow(), lastPosition: { lat: 41.3975, lng: -73.454 }, lastPositionAt: offsetNow() },
      // ≈ 100 m, ALS, but busy.
      { id: randomUUID(), callSign: 'M3', capability: ALS, status: 'en_route', statusAt: offsetNow(), lastPosition: { lat: 41.3957, lng: -73.454 }, lastPositionAt: offsetNow() },
      // ALS, free, position unknown: listed after those with a distance.
      { id: randomUUID(), callSign: 'M4', capability: ALS, status: 'available', statusAt: offsetNow() },
    ]);
    browser = await launchBrowser();
    dispatchCtx = await browser.newContext({ viewport: { width: 1600, height: 1100 } });
    crewCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    dispatch = await dispatchCtx.newPage();
    await dispatch.clock.install({ time: Date.now() + CONSOLE_SKEW_MS });
    mdt = await crewCtx.newPage();
    crewApp = await crewCtx.newPage();
    watchConsole(dispatch, 'dispatch', errors);
    watchConsole(mdt, 'mdt', errors);
    watchConsole(crewApp, 'crew', errors);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
    if (errors.length) console.log(errors.slice(0, 40).join('\n'));
  });

  const incident = async () => (await server.docs<Incident>('incidents')).find((i) => i.incidentNumber === NUMBER);
  const unit = async (callSign: string) => (await server.docs<Unit>('units')).find((u) => u.callSign === callSign);
  const row = () => dispatch.locator(`[data-testid="incident-row"][data-incident="${NUMBER}"]`);
  const panel = () => dispatch.getByTestId('call-panel');

  it('from a new call to its close, across the console, the MDT and the crew app', async () => {
    // ---- the dispatcher creates the call by coordinates, needing an ALS unit --------------------
    await signInWithToken(dispatch, server.url, `dev:${TENANT}:dispatcher:console-dw`, '/dispatch/');
    await dispatch.getByTestId('unit-table').waitFor();
    // The console knows its clock is an hour fast, from the server's answer.
    await expect.poll(async () => Number(await dispatch.getByTestId('server-clock').getAttribute('data-offset-ms') || 0), { timeout: 30_000 }).toBeLessThan(-3500_000);
    await dispatch.getByTestId('new-incident').click();
    const form = dispatch.getByTestId('new-incident-form');
    await form.getByLabel('Incident number').fill(NUMBER);
    await form.getByLabel('Complaint').fill('chest pain, 58 M');
    await form.getByLabel('Priority').selectOption({ label: 'Critical' });
    await form.getByLabel('Unit capability needed').selectOption(ALS);
    await form.getByLabel('Latitude').fill(String(SCENE.lat));
    await form.getByLabel('Longitude').fill(String(SCENE.lng));
    await form.getByRole('button', { name: 'Create incident' }).click();
    await row().waitFor({ timeout: 20_000 });
    await expect.poll(async () => (await incident())?.requiredCapability, { timeout: 20_000 }).toBe(ALS);
    await expect.poll(async () => (await incident())?.history?.some((e) => e.kind === 'received'), { timeout: 20_000 }).toBe(true);
    // Server time, not the console's: a call received seconds ago reads seconds, not an hour.
    await expect.poll(() => textOf(row().getByTestId('timer-received')), { timeout: 20_000 }).toMatch(/^0:\d\d$/);

    // ---- the recommendation, and the one-click assignment -------------------------------------
    await row().getByTestId('select-incident').click();
    await panel().waitFor();
    const recommended = panel().getByTestId('recommended-unit');
    await expect.poll(() => recommended.evaluateAll((els) => els.map((e) => e.getAttribute('data-unit'))), { timeout: 20_000 }).toEqual(['M1', 'M4']);
    const distance = Number(await recommended.first().getAttribute('data-distance-m'));
    expect(distance).toBeGreaterThan(2800);
    expect(distance).toBeLessThan(3200);
    expect(await textOf(recommended.first())).toMatch(/3\.0 km/);
    await recommended.first().getByTestId('assign-recommended').click();
    await expect.poll(async () => (await incident())?.assignedUnitId, { timeout: 20_000 }).toBe('M1');
    await expect.poll(async () => (await unit('M1'))?.status, { timeout: 20_000 }).toBe('dispatched');
    await expect.poll(async () => (await incident())?.history?.some((e) => e.kind === 'assigned' && e.unitId === 'M1'), { timeout: 20_000 }).toBe(true);
    await row().getByTestId('timer-dispatched').waitFor({ timeout: 20_000 });

    // ---- not acknowledged within 5 s: the row flashes and the console beeps ------------------
    await expect.poll(() => row().getAttribute('data-alert'), { timeout: 30_000 }).toBe('true');
    const alert = dispatch.getByTestId('ack-alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-calls')).toContain(NUMBER);
    await expect.poll(async () => Number(await alert.getAttribute('data-beeps')), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await row().getAttribute('class')).toContain('alert');

    // ---- the MDT shows the call; a note reaches it and is marked read ----------------------
    await signInWithToken(mdt, server.url, `dev:${TENANT}:crew:mdt-dw:M1`, '/mdt/');
    await waitForServiceWorker(mdt);
    await expect.poll(() => textOf(mdt.getByTestId('assignment')), { timeout: 30_000 }).toContain(`Call ${NUMBER}`);
    // The crew's tablet app, in the same browser as the MDT: the crew's session opens it.
    await crewApp.goto(`${server.url}/crew/`);
    await crewApp.locator('[data-testid="status-bar"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => crewApp.locator('[data-testid="call"][data-current="true"]').count(), { timeout: 30_000 }).toBe(1);

    await panel().getByLabel(/New note to the crew/).fill('Gate code 4411, dog in the yard');
    await panel().getByTestId('send-note').click();
    await expect.poll(async () => (await incident())?.dispatchNotes?.map((n) => n.text), { timeout: 20_000 }).toEqual(['Gate code 4411, dog in the yard']);
    const note = mdt.getByTestId('crew-note');
    await expect.poll(() => textOf(note), { timeout: 30_000 }).toContain('Gate code 4411, dog in the yard');
    expect(await note.getAttribute('data-read')).toBe('false');
    await mdt.getByTestId('mark-notes-read').click();
    await expect.poll(() => note.getAttribute('data-read'), { timeout: 20_000 }).toBe('true');
    const noteId = (await incident())!.dispatchNotes![0]!.id;
    await expect.poll(async () => (await unit('M1'))?.readNoteIds, { timeout: 20_000 }).toEqual([noteId]);
    await expect.poll(() => panel().getByTestId('dispatch-note').getAttribute('data-read'), { timeout: 30_000 }).toBe('true');
    expect(await textOf(panel().getByTestId('dispatch-note'))).toMatch(/read by M1 at/);
    // Reading a note is not acknowledging the call: it still alerts.
    expect(await row().getAttribute('data-alert')).toBe('true');

    // ---- the MDT acknowledges: the alert stops, and the console says how -------------------
    await mdt.getByTestId('acknowledge').click();
    await mdt.getByTestId('acknowledged').waitFor({ timeout: 20_000 });
    await expect.poll(() => row().getAttribute('data-alert'), { timeout: 30_000 }).toBe('false');
    await expect.poll(() => alert.count()).toBe(0);
    const ack = row().getByTestId('acknowledged-state');
    expect(await ack.getAttribute('data-via')).toBe('acknowledge');
    expect(await textOf(ack)).toContain('the MDT\'s Acknowledge button');
    const acks = (await incident())!.history!.filter((e) => e.kind === 'acknowledged');
    expect(acks).toEqual([expect.objectContaining({ unitId: 'M1', via: 'acknowledge' })]);

    // ---- en route and on scene: the on-scene timer, and the timeline ------------------------
    for (const status of ['en_route', 'on_scene']) {
      await mdt.getByTestId(`status-${status}`).click();
      await expect.poll(() => mdt.getByTestId('unit-status').getAttribute('data-status')).toBe(status);
    }
    await expect.poll(() => textOf(row().getByTestId('timer-on-scene')), { timeout: 30_000 }).toMatch(/^0:\d\d$/);
    const kinds = await panel().getByTestId('timeline-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(expect.arrayContaining(['received', 'assigned', 'note', 'notes-read', 'acknowledged', 'unit-status']));
    // One acknowledgement: en route after the button is a status, not a second one.
    expect(kinds.filter((k) => k === 'acknowledged')).toHaveLength(1);

    // ---- closing the call takes it off every current list -------------------------------------
    await row().getByTestId('close-incident').click();
    const end = row().getByTestId('end-incident-form');
    await end.getByLabel('Reason').selectOption('Patient transported');
    await end.getByTestId('confirm-end-incident').click();
    await expect.poll(() => row().count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(async () => (await incident())?.status, { timeout: 20_000 }).toBe('closed');
    await expect.poll(async () => (await incident())?.history?.at(-1), { timeout: 20_000 }).toMatchObject({ kind: 'status', status: 'closed', text: 'Patient transported' });
    await expect.poll(() => mdt.getByTestId('assignment-ended').getAttribute('data-status'), { timeout: 30_000 }).toBe('closed');
    await mdt.getByTestId('status-available').click();
    await expect.poll(() => mdt.getByTestId('assignment').getAttribute('data-incident'), { timeout: 20_000 }).toBe('');
    await expect.poll(() => crewApp.locator('[data-testid="call"][data-current="true"]').count(), { timeout: 30_000 }).toBe(0);
  }, 300_000);
});
