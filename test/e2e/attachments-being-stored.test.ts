/**
 * A photo's last PATCH reached the server and its finish is still running (held at its commit:
 * a slow database) when coverage returns: the service worker gives the request up
 * (sw/queue/coverage-return.ts) and asks with HEAD at once. The server answers 423
 * UPLOAD_BEING_STORED with Retry-After: 1 (docs/protocol.md §25), never @tus/server's
 * "offset = length" before the finish decided. The service worker asks again after the
 * Retry-After, in the same run and at the same URL: done, no failure recorded (no queue backoff),
 * no new upload, not a byte sent twice. Before, the 423 was a delivery failure ('server') and the
 * queue waited out its backoff.
 *
 * Real Chromium, the real service worker, a real link without IPv6 (support/link.ts) and the
 * cable holding the answer at the socket (support/http-cable.ts). The finish is held by a gate
 * on the real attachment storage's commit, opened once the HEAD was answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/browser.ts';
import { makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import {
  lastDeliveryFailure, openReport, queuedCount, queueSettled, resetDevice, setCoverage, startCrewDevice, type CrewDevice,
} from './support/outbox.ts';
import { createLink, type Link } from './support/link.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { UPLOAD_CHUNK_BYTES } from '../../sw/queue/attachment-upload.ts';
import type { AttachmentLink } from '../../server/attachments/storage.ts';
import { gateCalls } from '../server/attachments/support.ts';

const SERVER_PORT = e2ePort(3306);
const CABLE_PORT = e2ePort(3307);
/** Far longer than a 1.5 MB chunk's time limit: waits, never a verdict. */
const DELIVERY_WAIT_MS = 240_000;
/** The requests of one upload once created (its PATCHes and HEADs), not the creation. */
const UPLOAD_REQUEST = /^\/api\/attachments\/uploads\/[^/?]+/;
const CREATION = /^\/api\/attachments\/uploads\/?(\?|$)/;
const PHOTO_BYTES = 1_500_000;

/** The sha256 an upload's creation names (tus Upload-Metadata: `key base64value` pairs). */
function createdSha(headers: Record<string, string | string[] | undefined>): string | undefined {
  const metadata = String(headers['upload-metadata'] ?? '');
  const pair = metadata.split(',').map((p) => p.trim().split(' ')).find(([key]) => key === 'sha256');
  return pair?.[1] ? Buffer.from(pair[1], 'base64').toString('utf8') : undefined;
}

describe('a photo\'s finish still running when coverage returns: 423, asked again after Retry-After (browser, real link without IPv6)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  const errors: string[] = [];
  const token = `dev:${TENANT}:crew:tablet-m37:M37`;
  let link: Link;
  let d: CrewDevice;

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    link = createLink(CABLE_PORT, { ipv6: 'off' });
    d = await startCrewDevice(server, { cablePort: CABLE_PORT, unit: 'M37', incidentNumber: '2026-003306', errors, link });
  }, 180_000);

  afterAll(async () => {
    await d?.dispose().catch(() => {});
    link?.dispose();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  const offline = (on: boolean) => setCoverage(d, link, on);

  it('the HEAD meets the running finish (423): the device asks again after a second, is told complete, no failure, no byte sent twice', async () => {
    const page = await resetDevice(d);
    const { cable } = d;
    const epcrId = d.epcrId;
    await openReport(page, epcrId);
    await page.getByTestId('section-signatures').click();

    const strip = await makeJpeg(page, 1600, 600, PHOTO_BYTES);
    expect(strip.length).toBeLessThan(UPLOAD_CHUNK_BYTES);
    const sha = sha256Of(strip);
    await offline(true);
    const photo = page.getByTestId('photo-capture');
    await photo.getByTestId('photo-purpose').selectOption('ecg');
    await photo.getByTestId('photo-original').check();
    await photo.getByTestId('photo-file').setInputFiles({ name: 'ecg.jpg', mimeType: 'image/jpeg', buffer: strip });
    await photo.getByTestId('photo-add').click();
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(2);
    await queueSettled(page);

    // Coverage returns long enough for the photo's PATCH to reach the server, whose finish is
    // held at its commit; the PATCH's answer will die with the link (the cable holds it).
    const commit = gateCalls(server.server!.app.attachments, 'commit', ([, link]) => (link as AttachmentLink).sha256 === sha);
    cable.holdAnswers(UPLOAD_REQUEST, 1);
    await offline(false);
    await waitFor(() => commit.held() > 0 || undefined, 'the photo\'s finish to reach its commit', DELIVERY_WAIT_MS);
    const patch = cable.seen.find((r) => r.method === 'PATCH' && UPLOAD_REQUEST.test(r.path))!;
    await offline(true);

    // Coverage returns for good: the held request is given up and the upload asks where it stands,
    // while its finish still runs. The finish ends once that HEAD was answered.
    const failedBefore = await lastDeliveryFailure(page);
    const returnedAt = cable.log.length;
    await offline(false);
    await waitFor(() => cable.log.slice(returnedAt).some((e) => e.method === 'HEAD' && e.path === patch.path && e.outcome === 'answered') || undefined,
      'the upload\'s HEAD answered while its finish runs', DELIVERY_WAIT_MS, 50);
    commit.open();
    await waitFor(async () => (await queuedCount(page)) === 0 || (await lastDeliveryFailure(page)).at !== failedBefore.at || undefined,
      'the queue to empty (or a delivery to fail)', DELIVERY_WAIT_MS, 250);
    expect(await lastDeliveryFailure(page), 'no delivery failed after coverage returned').toEqual(failedBefore);
    expect(await queuedCount(page)).toBe(0);

    const read = await readStored(server.url, token, 'epcrs', epcrId, sha);
    expect(read.status).toBe(200);
    expect(sha256Of(read.bytes)).toBe(sha);

    const after = cable.log.slice(returnedAt).filter((r) => r.path === patch.path);
    console.log(`[attachments] finish running at coverage return: ${after.map((r) => `${r.method} ${r.outcome} ${r.bytes} B`).join(', ')}`);
    const creations = cable.seen.filter((r) => r.method === 'POST' && CREATION.test(r.path) && createdSha(r.headers) === sha);
    expect(creations, 'one upload created for the photo').toHaveLength(1);
    const patched = cable.seen.filter((r) => r.method === 'PATCH' && r.path === patch.path);
    expect(patched.reduce((sum, r) => sum + r.bytes, 0), 'the photo\'s PATCH bodies add up to its size').toBe(strip.length);
    // The first HEAD met the running finish (423); one after a Retry-After was told complete (how
    // many it took depends on how long the finish runs on this machine); no byte was sent again.
    const answered = after.filter((r) => r.outcome === 'answered').map((r) => r.method);
    expect(answered.length, 'after coverage returned: HEADs only').toBeGreaterThanOrEqual(2);
    expect(new Set(answered), 'after coverage returned: HEADs only, nothing sent').toEqual(new Set(['HEAD']));
  }, 420_000);
});
