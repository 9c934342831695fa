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
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/browser.ts';
import { readStored, sha256Of } from './support/attachments.ts';
import { lastDeliveryFailure, queuedCount } from './support/outbox.ts';
import { createdSha, CREATION, oneChunkPhotoOffline, tabletBehindLink, UPLOAD_REQUEST } from './support/uploads-behind-link.ts';
import { e2ePort } from './support/server.ts';
import type { AttachmentLink } from '../../server/attachments/storage.ts';
import { gateCalls } from '../server/attachments/support.ts';

const SERVER_PORT = e2ePort(3306);
const CABLE_PORT = e2ePort(3307);
/** Far longer than a 1.5 MB chunk's time limit: waits, never a verdict. */
const DELIVERY_WAIT_MS = 240_000;
const PHOTO_BYTES = 1_500_000;


describe('a photo\'s finish still running when coverage returns: 423, asked again after Retry-After (browser, real link without IPv6)', () => {
  const t = tabletBehindLink({ serverPort: SERVER_PORT, cablePort: CABLE_PORT, unit: 'M37', incidentNumber: '2026-003306' });
  const { server, token, offline } = t;

  it('the HEAD meets the running finish (423): the device asks again after a second, is told complete, no failure, no byte sent twice', async () => {
    // An ECG strip kept at full quality, captured out of coverage: one PATCH (under UPLOAD_CHUNK_BYTES).
    const { page, cable, epcrId, strip, sha } = await oneChunkPhotoOffline(t, PHOTO_BYTES);

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
