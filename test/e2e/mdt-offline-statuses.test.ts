/**
 * Issue 14, defect 10: unit statuses pressed out of coverage all arrive. A Chromium MDT with the
 * cable cut presses en route, on scene, transporting, at destination and available; when coverage
 * returns the server holds five status events in the order pressed, the call's timeline and the
 * report's times carry each status with the time the device recorded it, and the CAD stand-in
 * heard each status, in order, once.
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr, Incident, Unit, UnitStatusEvent } from '../../shared/schemas/index.ts';
import { stubEpcrId } from '../../server/hooks/workflows/support.ts';
import { CadPeer } from '../helpers/cad-peer.ts';
import {
  goOffline, goOnline, launchDevice, newProfileDir, screenshot, signInWithToken, textOf, waitFor,
  waitForServiceWorker, watchConsole,
} from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(81);
const CABLE_PORT = e2ePort(82);
const CAD_TOKEN = 'cad-e2e-secret';
const PRESSED = ['en_route', 'on_scene', 'transporting', 'at_destination', 'available'] as const;
/** The timeline (NEMSIS eTimes) key each press must stamp. */
const STAMPS = { en_route: 'unitEnRoute', on_scene: 'unitOnScene', transporting: 'unitLeftScene', at_destination: 'atDestination', available: 'backInService' } as const;

describe('MDT statuses pressed offline (browser)', () => {
  const cad = new CadPeer(CAD_TOKEN);
  let server: E2eServer;
  let cable: Cable;
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];
  const incidentId = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await cad.start();
    server = new E2eServer(SERVER_PORT, { cad: { url: cad.url, token: CAD_TOKEN }, cablePorts: [CABLE_PORT] });
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    profile = await newProfileDir();
    await server.seedAssignedCall({
      incidentId, callSign: 'M4', incidentNumber: '2026-000410', complaint: 'fall, hip pain', priority: 'P2',
      address: { street: '9 Elm St', city: 'Springfield' }, timeline: { psapCall: offsetNow(new Date(Date.now() - 300_000)), unitNotified: offsetNow(new Date(Date.now() - 240_000)) },
    });
  });

  afterAll(async () => {
    await tearDownDevice({ ctx, cable, server, profile, errors });
    await cad.stop();
  });

  const press = async (page: Page, status: string) => {
    await page.getByTestId(`status-${status}`).click();
    await expect.poll(() => page.getByTestId('unit-status').getAttribute('data-status')).toBe(status);
  };

  it('delivers every status in order with the device\'s times: server events, incident timeline, ePCR times and CAD', async () => {
    ctx = await launchDevice(profile, { timezoneId: 'America/Chicago' });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'mdt', errors);
    await signInWithToken(page, cable.origin, `dev:${TENANT}:crew:mdt-4:M4`, '/mdt/');
    await waitForServiceWorker(page);
    await expect.poll(() => textOf(page.getByTestId('assignment')), { timeout: 20_000 }).toContain('Call 2026-000410');
    // The report stub the server made for the call, which the statuses' times must reach.
    const epcrId = stubEpcrId(TENANT, incidentId, 'M4');
    await waitFor(async () => (await server.docs<Epcr>('epcrs', [epcrId])).length === 1, 'the ePCR stub');

    const cadHeardBefore = cad.received.length; // the seeded unit's own status ("dispatched") came before
    // Out of coverage for the whole call: five presses, each a second or more apart (distinct times).
    await goOffline(ctx, cable);
    await expect.poll(() => page.locator('[data-testid="connectivity"]').getAttribute('data-state')).toBe('offline');
    for (const status of PRESSED) {
      await press(page, status);
      await page.waitForTimeout(1100);
    }
    // Going available ended the unit's part in the call.
    await expect.poll(() => textOf(page.getByTestId('assignment'))).toContain('No assignment');
    // The MDT kept every press, not only the last.
    expect(await page.getByTestId('status-log').locator('li').count()).toBe(PRESSED.length);
    expect(await server.docs<UnitStatusEvent>('unit_status_events')).toHaveLength(0);
    await screenshot(page, 'mdt-offline-statuses');

    // Coverage returns.
    await goOnline(ctx, cable);
    const events = (await waitFor(async () => {
      const found = (await server.docs<UnitStatusEvent>('unit_status_events')).filter((e) => e.unitId === 'M4');
      return found.length >= PRESSED.length ? found : undefined;
    }, 'five status events on the server', 40_000))!;
    // Server commit order (the pull order) is the order pressed; each carries its own recorded time.
    expect(events.map((e) => e.status)).toEqual([...PRESSED]);
    expect(events.every((e) => e.incidentId === incidentId)).toBe(true);
    expect(new Set(events.map((e) => e.recordedAt)).size).toBe(PRESSED.length);
    expect(events.every((e) => /-0[56]:00$/.test(e.recordedAt))).toBe(true); // the tablet's own offset, never Z
    const recorded = Object.fromEntries(events.map((e) => [e.status, e.recordedAt])) as Record<(typeof PRESSED)[number], string>;
    const expected = Object.fromEntries(PRESSED.map((s) => [STAMPS[s], recorded[s]]));

    // The call's timeline: every status with the device's time, and the call moved forward.
    const incident = (await waitFor(async () => {
      const [doc] = await server.docs<Incident>('incidents', [incidentId]);
      return doc && PRESSED.every((s) => doc.timeline?.[STAMPS[s]] !== undefined) ? doc : undefined;
    }, 'the incident timeline to have every status', 30_000))!;
    expect(incident.timeline).toMatchObject(expected);
    expect(incident.status).toBe('transporting');

    // The report's times, filled where the crew had typed none.
    const epcr = (await waitFor(async () => {
      const [doc] = await server.docs<Epcr>('epcrs', [epcrId]);
      return doc && PRESSED.every((s) => doc.times?.[STAMPS[s]] !== undefined) ? doc : undefined;
    }, 'the ePCR times', 30_000))!;
    expect(epcr.times).toMatchObject(expected);

    // CAD heard each status once, in the order pressed, with the device's time.
    const heard = (await waitFor(() => {
      const statuses = cad.received.slice(cadHeardBefore).filter((e) => e.event === 'unit:status' && e.payload['unitId'] === 'M4');
      return statuses.length >= PRESSED.length ? statuses : undefined;
    }, 'CAD to hear every status', 30_000))!;
    expect(heard.map((e) => e.payload['status'])).toEqual([...PRESSED]);
    expect(heard.map((e) => e.payload['at'])).toEqual(PRESSED.map((s) => recorded[s]));

    // The unit is free: available, no current call.
    // The unit's own document travels in its own push, which may land after the status events
    // CAD heard (seen once in a CI-like run: read while still "dispatched").
    const unitNow = async () => (await server.docs<Unit>('units')).find((u) => u.callSign === 'M4');
    await expect.poll(async () => (await unitNow())?.status, { timeout: 30_000 }).toBe('available');
    const unit = await unitNow();
    expect(unit).toMatchObject({ status: 'available', statusAt: recorded.available });
    expect(unit?.currentIncidentId).toBeUndefined();
  });
});
