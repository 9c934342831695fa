/**
 * A push sent into a link that went away must not hold the queue once coverage returns (issue
 * #21, the end of an offline shift). A tablet behind a real link (support/link.ts) with no IPv6:
 * the link going down brings no address change, so Chromium keeps its connections, and a request
 * on the wire when the link dropped gets no reset: it waits for its own time limit (10 s and
 * more) while the network is back and the queue has work. The service worker must give such a
 * push up when the network comes back and send it again at once, writing nothing twice.
 *
 * The bound is the push's own time limit, not a wall clock: while the held push waits, no other
 * delivery can run (one at a time), so the queue's record of its last failure (client/queue/
 * status.ts) changes before the queue empties exactly when that push waited out its limit.
 * (The default limit, 11 s for one report: the worker's time limit is not configurable from a test.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { waitFor } from './support/browser.ts';
import {
  lastDeliveryFailure, openReport, queuedCount, queueSettled, resetDevice, setCoverage, startCrewDevice, type CrewDevice,
} from './support/outbox.ts';
import { createLink, type Link } from './support/link.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(3300);
const CABLE_PORT = e2ePort(3301);
/** Far longer than a push's time limit (requestTimeoutMs: 10 s and more): waits, never a verdict. */
const DELIVERY_WAIT_MS = 60_000;
const EPCR_PUSH = /\/api\/sync\/epcrs\/push/;

describe('coverage returns while a push is on the wire (browser, real link without IPv6)', () => {
  const server = new E2eServer(SERVER_PORT);
  const errors: string[] = [];
  let link: Link;
  let d: CrewDevice;

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    link = createLink(CABLE_PORT, { ipv6: 'off' });
    d = await startCrewDevice(server, { cablePort: CABLE_PORT, unit: 'M33', incidentNumber: '2026-003300', calls: 2, errors, link });
  }, 180_000);

  afterAll(async () => {
    await d?.dispose().catch(() => {});
    link?.dispose();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  const serverEpcr = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];
  const deviceWrites = async (id: string) => (await server.server!.app.store.queryAudit({ tenantId: TENANT, documentId: id, limit: 100 }))
    .filter((entry) => entry.action === 'write' && entry.actor.kind === 'device');

  const offline = (on: boolean) => setCoverage(d, link, on);
  const lastFailure = () => lastDeliveryFailure(d.page);

  /** Finalizes the report offline, so it waits as one queued row; then the link returns. */
  async function finalizeOffline(epcrId: string, lastName: string): Promise<void> {
    const { page } = d;
    await openReport(page, epcrId);
    await page.getByTestId('section-patient').click();
    await offline(true);
    await page.getByLabel('Last name').fill(lastName);
    await page.getByTestId('finalize').click();
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(1);
    await queueSettled(d.page);
  }

  it('a push that reached the server, its answer lost in the link that went down, is sent again when the link returns: answered as stored, removed once', async () => {
    const page = await resetDevice(d);
    const { cable } = d;
    const epcrId = d.epcrIds[0]!;
    await finalizeOffline(epcrId, 'Halvorsen');

    // Coverage returns, long enough for the push to reach the server; its answer dies with the
    // link (the cable holds it: no reset, no answer, as TCP sees a link that went away).
    cable.holdAnswers(EPCR_PUSH, 1);
    await offline(false);
    await waitFor(() => cable.log.some((e) => e.outcome === 'held' && EPCR_PUSH.test(e.path)), 'the push on the server, its answer held', DELIVERY_WAIT_MS);
    expect((await serverEpcr(epcrId))?.patient?.lastName).toBe('Halvorsen');
    await offline(true);
    expect(await queuedCount(page)).toBe(1);

    // Coverage returns for good. The held push is still waiting for its answer (its time limit
    // is 10 s and more): the queue must empty without any delivery failing meanwhile, i.e.
    // without the held push waiting out that limit.
    const failedBefore = await lastFailure();
    await offline(false);
    await waitFor(async () => (await queuedCount(page)) === 0, 'the queue to empty', DELIVERY_WAIT_MS);
    expect(await lastFailure(), 'no delivery failed after coverage returned').toEqual(failedBefore);

    // Sent twice, written once: the held push was given up and sent again, answered as already stored.
    expect(cable.log.filter((e) => EPCR_PUSH.test(e.path)).map((e) => e.outcome)).toEqual(['held', 'answered']);
    const attempts = server.writes.filter((w) => w.id === epcrId);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((w) => w.rev)).size).toBe(1);
    expect(await deviceWrites(epcrId)).toHaveLength(1);
  }, 180_000);
});
