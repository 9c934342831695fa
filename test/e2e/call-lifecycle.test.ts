/**
 * Issue 14, defect 9: every call can be worked to its end. In Chromium, the crew's MDT takes a
 * call to the hospital, marks the transport completed (the server's transport-completed workflow
 * makes the billing record) and goes available, which drops the call from the MDT and frees the
 * unit; dispatch cancels a second call the unit was sent to (the MDT says why) and closes the
 * first, each with a reason, and the board's open incidents lose them.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingRecord, Incident, Unit } from '../../shared/schemas/index.ts';
import { billingRecordId, stubEpcrId } from '../../server/hooks/workflows/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(84);

describe('a call worked to its end: MDT and dispatch (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: 'product' });
  let browser: Browser;
  let dispatchCtx: BrowserContext;
  let crewCtx: BrowserContext;
  let dispatch: Page;
  let mdt: Page;
  const errors: string[] = [];
  const first = { id: randomUUID(), number: '2026-000501' };
  const second = { id: randomUUID(), number: '2026-000502' };

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    await server.seed('units', [{ id: randomUUID(), callSign: 'M5', status: 'dispatched', statusAt: offsetNow(), currentIncidentId: first.id }]);
    await server.seed('incidents', [
      {
        id: first.id, incidentNumber: first.number, status: 'dispatched', complaint: 'shortness of breath', priority: 'P1', assignedUnitId: 'M5',
        timeline: { psapCall: offsetNow(new Date(Date.now() - 900_000)), unitNotified: offsetNow(new Date(Date.now() - 840_000)) },
      },
      { id: second.id, incidentNumber: second.number, status: 'new', complaint: 'lift assist', priority: 'P3', timeline: { psapCall: offsetNow() } },
    ]);
    browser = await launchBrowser();
    dispatchCtx = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    crewCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    dispatch = await dispatchCtx.newPage();
    mdt = await crewCtx.newPage();
    watchConsole(dispatch, 'dispatch', errors);
    watchConsole(mdt, 'mdt', errors);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  const incident = async (id: string) => (await server.docs<Incident>('incidents', [id]))[0];
  const unitM5 = async () => (await server.docs<Unit>('units')).find((u) => u.callSign === 'M5');
  const row = (number: string) => dispatch.locator(`[data-testid="incident-row"][data-incident="${number}"]`);
  const press = async (status: string) => {
    await mdt.getByTestId(`status-${status}`).click();
    await expect.poll(() => mdt.getByTestId('unit-status').getAttribute('data-status')).toBe(status);
  };
  const endIncident = async (number: string, ending: 'close' | 'cancel', reason: string, details = '') => {
    await row(number).getByTestId(`${ending}-incident`).click();
    const form = row(number).getByTestId('end-incident-form');
    await form.getByLabel('Reason').selectOption(reason);
    if (details) await form.getByLabel(/^Details/).fill(details);
    await form.getByTestId('confirm-end-incident').click();
  };

  it('transport completed and available on the MDT; cancel and close with a reason on the board', async () => {
    await signInWithToken(dispatch, server.url, `dev:${TENANT}:dispatcher:console-9`, '/dispatch/');
    await row(first.number).waitFor({ timeout: 20_000 });
    await signInWithToken(mdt, server.url, `dev:${TENANT}:crew:mdt-5:M5`, '/mdt/');
    await waitForServiceWorker(mdt);
    await expect.poll(() => textOf(mdt.getByTestId('assignment')), { timeout: 20_000 }).toContain(`Call ${first.number}`);

    // The crew works the call to the hospital and marks the transport completed.
    for (const status of ['en_route', 'on_scene', 'transporting', 'at_destination']) await press(status);
    await mdt.getByTestId('complete-transport').click();
    await mdt.getByTestId('transport-completed').waitFor();
    await waitFor(async () => (await incident(first.id))?.transportCompleted === true, 'transport completed on the server');
    expect((await incident(first.id))?.status).toBe('transporting');
    // The server's transport-completed workflow ran: the report has its billing record.
    const billingId = billingRecordId(TENANT, stubEpcrId(TENANT, first.id, 'M5'));
    await waitFor(async () => (await server.docs<BillingRecord>('billing_records', [billingId])).length === 1, 'the billing record of the transport', 30_000);
    await row(first.number).getByTestId('incident-transport-completed').waitFor({ timeout: 15_000 });

    // Back in service: the call leaves the MDT and the unit is free on the server.
    await press('available');
    await expect.poll(() => textOf(mdt.getByTestId('assignment'))).toContain('No assignment');
    await waitFor(async () => {
      const unit = await unitM5();
      return unit?.status === 'available' && unit.currentIncidentId === undefined;
    }, 'M5 available with no current call on the server');
    await waitFor(async () => (await incident(first.id))?.timeline?.backInService !== undefined, 'back in service on the timeline');
    // The crew's tablet no longer counts the call as open once the unit is back in service,
    // although dispatch has not closed it yet (its status is still `transporting`).
    const crew = await crewCtx.newPage();
    watchConsole(crew, 'crew', errors);
    await crew.goto(`${server.url}/crew/`); // the crew's session on this device is the MDT's
    await crew.locator('[data-testid="status-bar"]').waitFor();
    const call = crew.locator(`[data-testid="call"][data-id="${first.id}"]`);
    await expect.poll(() => call.getAttribute('data-current'), { timeout: 20_000 }).toBe('false');
    expect(await textOf(crew.locator('#calls-title + p'))).toContain('0 open');
    await crew.close();

    // Dispatch sends M5 to the second call, then cancels it: the MDT says why until the crew is clear.
    await row(second.number).getByTestId('assign-unit').selectOption('M5');
    await expect.poll(() => textOf(mdt.getByTestId('assignment')), { timeout: 20_000 }).toContain(`Call ${second.number}`);
    // A reason is required: "Other" without words is refused where the dispatcher acted.
    await row(second.number).getByTestId('cancel-incident').click();
    await row(second.number).getByLabel('Reason').selectOption('Other');
    await row(second.number).getByTestId('confirm-end-incident').click();
    await expect.poll(() => textOf(row(second.number).getByTestId('end-incident-problem'))).toContain('Say in a few words why');
    await row(second.number).getByLabel('Reason').selectOption('Cancelled by caller');
    // Details too long beside the reason (the stored reason is at most 200 characters): refused at
    // the Details field, never cut, and the call stays open.
    const details = row(second.number).getByLabel(/^Details/);
    await details.fill('d'.repeat(190));
    expect(await details.inputValue(), 'the browser does not cut the text').toHaveLength(190);
    await row(second.number).getByTestId('confirm-end-incident').click();
    await expect.poll(() => details.evaluate((el) => el.closest('.field')?.querySelector('[role="alert"]')?.textContent ?? '')).toContain('At most 179 characters');
    expect((await incident(second.id))?.status, 'not cancelled with a cut reason').not.toBe('cancelled');
    await details.fill('caller says the patient is fine');
    await row(second.number).getByTestId('confirm-end-incident').click();
    await expect.poll(() => row(second.number).count(), { timeout: 15_000 }).toBe(0);
    const ended = mdt.getByTestId('assignment-ended');
    await expect.poll(() => ended.getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
    expect(await textOf(ended)).toContain('Cancelled by caller: caller says the patient is fine');
    await screenshot(mdt, 'mdt-call-cancelled');
    await waitFor(async () => (await incident(second.id))?.status === 'cancelled', 'the second call cancelled on the server');
    const cancelled = (await incident(second.id))!;
    expect(cancelled.closeReason).toBe('Cancelled by caller: caller says the patient is fine');
    expect(cancelled.closedAt).toMatch(/[+-]\d{2}:\d{2}$/);
    expect(cancelled.timeline?.unitCanceled).toBe(cancelled.closedAt);
    await press('available');
    await expect.poll(() => textOf(mdt.getByTestId('assignment'))).toContain('No assignment');

    // Dispatch closes the first call; the board keeps open incidents only.
    await endIncident(first.number, 'close', 'Patient transported', 'to St. Mary ED');
    await expect.poll(() => row(first.number).count(), { timeout: 15_000 }).toBe(0);
    await waitFor(async () => (await incident(first.id))?.status === 'closed', 'the first call closed on the server');
    expect((await incident(first.id))).toMatchObject({ closeReason: 'Patient transported: to St. Mary ED', transportCompleted: true });
    expect(await textOf(dispatch.locator('#incidents-title'))).toContain('Open incidents (0)');
    await screenshot(dispatch, 'dispatch-calls-closed');
  });
});
