/**
 * The service worker's outbound queue in real Chromium (issue #7): changes written in the apps
 * wait in the service worker's durable queue and reach the server without any page open, once,
 * most urgent first, even when the server was down or its answer got lost on the way.
 *
 * One crew tablet (its own profile, and a cable: an HTTP-aware proxy the test cuts, or makes lose
 * an answer) in front of one real server with the ePCR workflows. The tablet has a call (and so a
 * report) per test; every test leaves its queue empty, and asserts only on its own report.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Epcr, GpsPoint } from '../../shared/schemas/index.ts';
import { goOffline, goOnline, screenshot, textOf, waitFor } from './support/browser.ts';
import {
  formBadge, openReport, queueLine, queuedCount, queueSettled, recordBackgroundSync, resetDevice, serviceWorkerControl, startCrewDevice, type CrewDevice,
} from './support/outbox.ts';
import { createLink } from './support/link.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(201);
/**
 * How long a test waits for a delivery the service worker must make on its own: far below the
 * five minutes Chromium waits after a failed sync event, so a delivery that only a retry of the
 * browser's would make fails the test. (The delays are printed, never asserted.)
 */
const DELIVERY_WAIT_MS = 60_000;
const LINK_CABLE_PORT = e2ePort(203);
const CABLE_PORT = e2ePort(202);

describe('the service worker delivers the outbound queue (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  const errors: string[] = [];
  let d: CrewDevice;
  /** One report per test. */
  let reports: string[];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    d = await startCrewDevice(server, { cablePort: CABLE_PORT, unit: 'M71', incidentNumber: '2026-000701', calls: 7, errors });
    reports = [...d.epcrIds];
    // Building the apps, a server and a tablet behind its own link: over a minute on a loaded machine.
  }, 180_000);

  afterAll(async () => {
    await d?.dispose().catch(() => {});
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  beforeEach(async () => {
    // A test that stopped the server (or cut the cable) and failed must not take the next ones down with it.
    if (!server.server) await server.start();
    if (d) await resetDevice(d);
  });

  const serverEpcr = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  const serverPatient = async (id: string) => (await serverEpcr(id))?.patient?.lastName;
  /** The server's finalize check ran: it locked the report or returned it with the problems. */
  const finalizeChecked = (doc: Epcr | undefined) => !!doc && (doc.lockedAt !== undefined || (doc.finalizeErrors?.length ?? 0) > 0);
  const auditWrites = async (id: string) => (await server.server!.app.store.queryAudit({ tenantId: TENANT, documentId: id, limit: 100 }))
    .filter((entry) => entry.action === 'write');

  it('delivers a report written offline with every app closed, and the server\'s finalize check runs on it', async () => {
    const { ctx, cable, page: app } = d;
    const epcrId = reports[0]!;
    let page = app;

    await goOffline(ctx, cable);
    await openReport(page, epcrId);
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Abara');
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('Slipped on ice, alert, no loss of consciousness.');
    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(formBadge(page)), { timeout: 10_000 }).toBe('Saved on device');
    await expect.poll(() => queueLine(page)).toMatch(/^In the outbox: 1 patient care report, waiting since \d{2}:\d{2} \(just now\)$/);
    await screenshot(page, 'outbox-crew-offline-queued');

    // Every page closes; then the network returns. Only the service worker is left to deliver.
    // (It keeps running here: DevTools' offline mode cannot be lifted for a stopped worker. The
    // stopped-worker case runs behind a real link below.)
    for (const p of ctx.pages()) await p.close();
    expect(finalizeChecked(await serverEpcr(epcrId))).toBe(false);
    const t0 = Date.now();
    await goOnline(ctx, cable);
    await waitFor(async () => (await serverEpcr(epcrId))?.patient?.lastName === 'Abara', 'delivery with no page open', DELIVERY_WAIT_MS);
    console.log(`[outbox] offline -> online, every app closed: delivered ${Date.now() - t0} ms after the network returned`);
    expect(ctx.pages().filter((p) => p.url().startsWith(cable.origin))).toHaveLength(0);

    // The server holds it and its hook ran: the finalize check locked it or returned it.
    await waitFor(async () => finalizeChecked(await serverEpcr(epcrId)), 'the finalize check on the server');
    const stored = (await serverEpcr(epcrId))!;
    expect(stored.narrative?.text).toBe('Slipped on ice, alert, no loss of consciousness.');
    expect(server.writes.filter((w) => w.id === epcrId)).toHaveLength(1);

    // The crew opens the app again: the result is there, nothing waits.
    page = await d.openApp(`/crew/#/epcr/${epcrId}`);
    await page.getByTestId('epcr-form').waitFor();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 15_000 }).toMatch(/^(Returned by the server|Locked by the server)/);
    await expect.poll(() => formBadge(page).getAttribute('data-state')).toBe('synced');
    await expect.poll(() => textOf(page.getByTestId('pending-count'))).toBe('All changes synced');
    expect(await queueLine(page)).toBe('');
  });

  it('keeps the batch while the server is down when the sync fires, and delivers it once when the server is back', async () => {
    const { ctx, cable, page: app } = d;
    const epcrId = reports[1]!;
    let page = app;
    await openReport(page, epcrId);

    await server.stop();
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('Written while the server was down.');
    await expect.poll(() => queueLine(page), { timeout: 10_000 }).toContain('1 patient care report');
    await expect.poll(() => textOf(page.getByTestId('connectivity')), { timeout: 10_000 }).toBe('Server unreachable');
    expect(await textOf(formBadge(page))).toBe('Saved on device');
    // Settings shows the queue in full.
    await page.goto(`${cable.origin}/crew/#/settings`);
    const details = page.getByTestId('queue-details');
    await details.waitFor();
    await expect.poll(() => details.locator('[data-testid="queue-kind"][data-collection="epcrs"]').getAttribute('data-count')).toBe('1');
    expect(await textOf(details.getByTestId('queue-oldest'))).toMatch(/^\d{2}:\d{2} \(/);
    await expect.poll(() => textOf(details.getByTestId('queue-last-error'))).toMatch(/^server unreachable \(/);
    await details.scrollIntoViewIfNeeded();
    await screenshot(page, 'outbox-settings-server-down', { keepScroll: true });

    // Every app closes. The sync event the queued change registered runs while the server is still
    // down (the browser is online); then the server comes back. Nothing fires the event from
    // outside: the service worker must deliver on its own.
    for (const p of ctx.pages()) await p.close();
    await new Promise((r) => setTimeout(r, 3000));
    await server.start();
    expect((await serverEpcr(epcrId))?.narrative?.text).toBeUndefined();
    const t0 = Date.now();
    await waitFor(async () => (await serverEpcr(epcrId))?.narrative?.text === 'Written while the server was down.', 'delivery after the server came back', DELIVERY_WAIT_MS);
    console.log(`[outbox] server down, every app closed: delivered ${Date.now() - t0} ms after the server came back`);
    expect(server.writes.filter((w) => w.id === epcrId)).toHaveLength(1);
    expect((await auditWrites(epcrId)).filter((e) => e.actor.kind === 'device')).toHaveLength(1);

    page = await d.openApp(`/crew/#/epcr/${epcrId}`);
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('synced');
    expect(await page.getByLabel('Narrative').inputValue()).toBe('Written while the server was down.');
    expect(await queuedCount(page)).toBe(0);
  });


  /** Writes offline (so the report travels as one queued row), then the first push's answer is lost on the way back. */
  async function loseFirstAnswer(edit: () => Promise<void>): Promise<void> {
    await goOffline(d.ctx, d.cable);
    await edit();
    await expect.poll(() => queuedCount(d.page), { timeout: 10_000 }).toBe(1);
    await queueSettled(d.page);
    d.cable.loseResponses(/\/api\/sync\/epcrs\/push/, 1);
    await goOnline(d.ctx, d.cable);
  }

  it('a replay whose answer was lost writes nothing twice', async () => {
    const { cable, page } = d;
    const epcrId = reports[2]!;
    const pushesBefore = cable.log.length;
    await openReport(page, epcrId);
    await page.getByTestId('section-narrative').click();
    await loseFirstAnswer(() => page.getByLabel('Narrative').fill('Answer lost once; written once.'));
    await waitFor(async () => (await serverEpcr(epcrId))?.narrative?.text === 'Answer lost once; written once.', 'the write on the server');
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page)).toBe(0);

    const pushes = cable.log.slice(pushesBefore).filter((entry) => entry.path.includes('/api/sync/epcrs/push'));
    expect(pushes.map((p) => p.outcome).slice(0, 2)).toEqual(['lost', 'answered']);
    // The service worker sent the same revision again; the server wrote it once.
    const attempts = server.writes.filter((w) => w.id === epcrId);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((w) => w.rev)).size).toBe(1);
    expect((await auditWrites(epcrId)).filter((e) => e.actor.kind === 'device')).toHaveLength(1);
    expect(await server.server!.app.store.getDocuments('epcrs', TENANT, [epcrId])).toHaveLength(1);
  });

  it('a replay whose answer was lost after the server\'s finalize hook already ran makes no second hook run', async () => {
    const { cable, page } = d;
    const epcrId = reports[3]!;
    const pushesBefore = cable.log.length;
    await openReport(page, epcrId);
    const before = new Set((await auditWrites(epcrId)).map((e) => e.id));
    // Every section on screen: the edits and the finalize follow each other without a pause.
    await page.getByTestId('section-all').click();
    await loseFirstAnswer(async () => {
      await page.getByLabel('Last name').fill('Lindqvist');
      await page.getByLabel('Chief complaint').fill('wrist pain after fall');
      await page.getByTestId('finalize').click();
    });
    await waitFor(async () => finalizeChecked(await serverEpcr(epcrId)), 'the finalize check on the server');
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page)).toBe(0);
    expect(cable.log.slice(pushesBefore).find((entry) => entry.path.includes('/api/sync/epcrs/push'))?.outcome).toBe('lost');
    await new Promise((r) => setTimeout(r, 500)); // a second hook run would have landed by now (hook poll 100 ms)

    expect(await server.server!.app.store.getDocuments('epcrs', TENANT, [epcrId])).toHaveLength(1);
    const writes = (await auditWrites(epcrId)).filter((e) => !before.has(e.id)).reverse();
    const story = writes.map((e) => `${e.actor.kind}: ${e.documents?.[0]?.beforeRev} -> ${e.documents?.[0]?.afterRev}`).join('; ');
    // One write from the device (the finalize request), one from the finalize check: nothing twice.
    expect(writes.filter((e) => e.actor.kind === 'device'), `device writes (${story})`).toHaveLength(1);
    expect(writes.filter((e) => e.actor.kind !== 'device'), `hook writes (${story})`).toHaveLength(1);
    const stored = (await serverEpcr(epcrId))!;
    expect(stored.patient?.lastName).toBe('Lindqvist');
    expect(stored.finalizeErrors?.length ?? 0).toBeGreaterThan(0);
  });

  it('sends a finalized report before a backlog of 3,000 GPS points queued earlier', async () => {
    const { ctx, cable, unit, page } = d;
    const epcrId = reports[4]!;
    await openReport(page, epcrId);

    // An hour in a dead zone: 3,000 position fixes, then the crew finalizes the report.
    await goOffline(ctx, cable);
    await page.evaluate(async ({ tenantId, unitId }) => {
      const api = (window as unknown as { fieldsync: { db: { api: { bulkInsert(c: string, d: unknown[]): Promise<number> } } } }).fieldsync.db.api;
      const pad = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
      const stamp = (d: Date) => {
        const off = -d.getTimezoneOffset();
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${off < 0 ? '-' : '+'}${pad(off / 60)}:${pad(off % 60)}`;
      };
      const start = Date.now() - 3_600_000;
      for (let i = 0; i < 3000; i += 500) {
        await api.bulkInsert('gps_points', Array.from({ length: 500 }, (_, j) => ({
          id: crypto.randomUUID(), tenantId, sourceType: 'unit', sourceId: unitId,
          lat: 39.85 + (i + j) * 1e-5, lng: -75.35 - (i + j) * 1e-5, recordedAt: stamp(new Date(start + (i + j) * 1200)),
        })));
      }
    }, { tenantId: TENANT, unitId: unit });
    await expect.poll(() => queuedCount(page), { timeout: 20_000 }).toBe(3000);
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Okonkwo');
    await page.getByTestId('finalize').click();
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(3001);
    expect(await queueLine(page)).toMatch(/^In the outbox: 1 patient care report, 3,000 GPS points, waiting since \d{2}:\d{2}/);
    await screenshot(page, 'outbox-gps-backlog');

    await goOnline(ctx, cable);
    const gpsOfUnit = async () => (await server.docs<GpsPoint>('gps_points')).filter((p) => p.sourceId === unit);
    await waitFor(async () => (await gpsOfUnit()).length === 3000, 'the GPS backlog on the server', 30_000);
    await waitFor(async () => finalizeChecked(await serverEpcr(epcrId)), 'the finalize check on the server');

    // The report was committed before the first GPS point of the backlog.
    const reportSeq = server.committed.find((c) => c.collection === 'epcrs' && c.id === epcrId && c.actor === 'device')!.seq;
    const firstGpsSeq = Math.min(...(await server.server!.app.store.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq: 0, limit: 10_000 })).documents
      .filter((doc) => (JSON.parse(doc.json) as GpsPoint).sourceId === unit).map((doc) => doc.seq));
    expect(reportSeq).toBeLessThan(firstGpsSeq);
    // The backlog went in large, compressed batches.
    const gpsPushes = cable.log.filter((entry) => entry.path.includes('/api/sync/gps_points/push') && entry.outcome === 'answered');
    expect(gpsPushes.length).toBeLessThanOrEqual(3);
    expect(gpsPushes.every((p) => p.encoding === 'gzip')).toBe(true);

    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => textOf(page.getByTestId('pending-count')), { timeout: 15_000 }).toBe('All changes synced');
  });
  it('a sync event that ran while the link was down costs no five-minute wait: delivered within seconds of the link returning, every app closed', async () => {
    // A tablet behind a real link (its own network namespace): the browser's idea of "online", and
    // Background Sync's, follow the link itself, as on a tablet leaving coverage.
    const link = createLink(LINK_CABLE_PORT);
    const tablet = await startCrewDevice(server, { cablePort: LINK_CABLE_PORT, unit: 'M72', incidentNumber: '2026-000702', errors, link });
    const { ctx, cable, epcrId, page } = tablet;
    const recorder = await recordBackgroundSync(ctx);
    const t0 = Date.now();
    try {
      await openReport(page, epcrId);
      await page.getByTestId('section-patient').click();
      // Coverage ends. For the next seconds the browser still says "online" (Chromium takes 1.5-2 s
      // to notice), so the report finalized now registers a sync event that fires at once and fails.
      await cable.cut();
      await page.getByLabel('Last name').fill('Varga');
      await page.getByTestId('finalize').click();
      await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
      await waitFor(() => recorder.log.some((e) => /dispatch/i.test(e.event)), 'the sync event, run while the link was down', 10_000);
      link.down();
      await waitFor(() => page.evaluate(() => !navigator.onLine), 'the browser to see it is offline');
      // The event ends (failed, or handed on to a new registration); the crew closes the app and
      // the browser stops the idle worker (Playwright would keep it alive; a tablet does not).
      // (Settled: the last thing the browser did was to take a registration back or fail an event, 2 s ago.)
      await waitFor(() => {
        const last = recorder.log.at(-1);
        return !!last && /reregistered|fail/i.test(last.event) && Date.now() - last.at > 2000;
      }, 'the sync event to end', 20_000);
      for (const p of ctx.pages()) if (p.url().startsWith(cable.origin)) await p.close();
      const sw = await serviceWorkerControl(ctx, cable.origin);
      await sw.stopWorkers();
      await sw.close();
      expect(await serverPatient(epcrId)).toBeUndefined();

      // Coverage returns with every app closed.
      const back = Date.now();
      await cable.restore();
      link.up();
      await waitFor(async () => (await serverPatient(epcrId)) === 'Varga', 'delivery with every app closed', DELIVERY_WAIT_MS);
      console.log(`[outbox] sync event failed while the link was down, every app closed: delivered ${Date.now() - back} ms after the link returned`);
      expect(ctx.pages().filter((p) => p.url().startsWith(cable.origin))).toHaveLength(0);
      await waitFor(async () => finalizeChecked(await serverEpcr(epcrId)), 'the finalize check on the server');
      expect(server.writes.filter((w) => w.id === epcrId)).toHaveLength(1);
    } finally {
      console.log(`[outbox] Background Sync as the browser recorded it:\n${recorder.print(t0)}`);
      await recorder.close();
      await tablet.dispose().catch(() => {});
      link.dispose();
    }
  }, 120_000);

  it('in a dead zone (online, but no data flows) with the app open, the report goes out within seconds of data flowing again', async () => {
    const { cable } = d;
    const epcrId = reports[5]!;
    const page = d.page;
    await openReport(page, epcrId);

    // The edge of coverage: connections open, nothing comes back; the browser says "online" throughout.
    cable.stall(true);
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill('Finalized at the edge of coverage.');
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Moreau');
    await page.getByTestId('finalize').click();
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
    await waitFor(() => cable.log.some((e) => e.outcome === 'stalled' && e.path.includes('/api/sync/epcrs/push')), 'a push swallowed by the dead zone');
    expect(await page.evaluate(() => navigator.onLine)).toBe(true);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await serverEpcr(epcrId))?.narrative?.text).toBeUndefined();
    await expect.poll(() => queueLine(page)).toMatch(/^In the outbox: 1 patient care report/);

    // Data flows again (the push swallowed earlier is never answered).
    const back = Date.now();
    cable.stall(false);
    await waitFor(async () => (await serverEpcr(epcrId))?.narrative?.text === 'Finalized at the edge of coverage.', 'delivery after the dead zone', DELIVERY_WAIT_MS);
    console.log(`[outbox] dead zone, app open: delivered ${Date.now() - back} ms after data flowed again`);
    await expect.poll(() => formBadge(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('synced');
    await expect.poll(() => queuedCount(page), { timeout: 15_000 }).toBe(0);
    expect(new Set(server.writes.filter((w) => w.id === epcrId).map((w) => w.rev)).size).toBe(server.writes.filter((w) => w.id === epcrId).length);
  }, 120_000);
  it('in a dead zone with every app closed, the report goes out within seconds of data flowing again', async () => {
    const { ctx, cable } = d;
    const epcrId = reports[6]!;
    const page = d.page;
    await openReport(page, epcrId);
    const recorder = await recordBackgroundSync(ctx);
    const t0 = Date.now();
    try {
      cable.stall(true);
      await page.getByTestId('section-narrative').click();
      await page.getByLabel('Narrative').fill('Dead zone, tablet put away.');
      await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
      await waitFor(() => cable.log.some((e) => e.outcome === 'stalled' && e.path.includes('/api/sync/epcrs/push')), 'a push swallowed by the dead zone');
      // The crew puts the tablet away: every app closes while no data flows.
      for (const p of ctx.pages()) if (p.url().startsWith(cable.origin)) await p.close();
      await new Promise((r) => setTimeout(r, 5000));
      expect((await serverEpcr(epcrId))?.narrative?.text).toBeUndefined();

      const back = Date.now();
      cable.stall(false);
      await waitFor(async () => (await serverEpcr(epcrId))?.narrative?.text === 'Dead zone, tablet put away.', 'delivery after the dead zone, every app closed', DELIVERY_WAIT_MS);
      console.log(`[outbox] dead zone, every app closed: delivered ${Date.now() - back} ms after data flowed again`);
      expect(new Set(server.writes.filter((w) => w.id === epcrId).map((w) => w.rev)).size).toBe(1);
    } finally {
      console.log(`[outbox] Background Sync as the browser recorded it:\n${recorder.print(t0)}`);
      await recorder.close();
    }
  }, 120_000);
});
