/**
 * A photo of one chunk whose only PATCH reached the server and was stored, the answer lost with
 * the link (docs/protocol.md §25, a finished upload): when coverage returns the service worker
 * gives the request up (sw/queue/coverage-return.ts) and asks the server where the upload stands
 * (tus HEAD). The server remembers it finished, so the device is done: no new upload, not a byte
 * of the photo sent twice over a weak link, no delivery failure. Before, the HEAD met a 404 and
 * the whole photo went again as a new upload (stored once, but sent twice).
 *
 * Real Chromium, the real service worker, a real link without IPv6 (support/link.ts) and the
 * cable holding the answer at the socket (support/http-cable.ts). The verdict comes from the
 * order of events: had the held request not been given up, it would wait out its own time limit
 * and the queue would record a failure before it empties.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/browser.ts';
import { readStored, sha256Of } from './support/attachments.ts';
import { lastDeliveryFailure, queuedCount } from './support/outbox.ts';
import { createdSha, CREATION, oneChunkPhotoOffline, tabletBehindLink, UPLOAD_REQUEST } from './support/uploads-behind-link.ts';
import { e2ePort } from './support/server.ts';

const SERVER_PORT = e2ePort(3304);
const CABLE_PORT = e2ePort(3305);
/** Far longer than a 1.5 MB chunk's time limit: waits, never a verdict. */
const DELIVERY_WAIT_MS = 240_000;
const PHOTO_BYTES = 1_500_000;


describe('the answer to a photo\'s last PATCH is lost: the server remembers the upload finished (browser, real link without IPv6)', () => {
  const t = tabletBehindLink({ serverPort: SERVER_PORT, cablePort: CABLE_PORT, unit: 'M36', incidentNumber: '2026-003304' });
  const { server, token, offline } = t;

  it('a one-chunk photo stored while its answer was held: once coverage returns the device is done, no byte sent twice, no second upload, no failure', async () => {
    // An ECG strip kept at full quality, captured out of coverage: one PATCH (under UPLOAD_CHUNK_BYTES).
    const { page, cable, epcrId, strip, sha } = await oneChunkPhotoOffline(t, PHOTO_BYTES);

    // Coverage returns long enough for the photo's PATCH to reach the server, be checked and
    // stored; its answer dies with the link (the cable holds it: no reset, no answer).
    cable.holdAnswers(UPLOAD_REQUEST, 1);
    await offline(false);
    await waitFor(() => cable.log.some((e) => e.outcome === 'held'), 'the photo\'s PATCH answered by the server, the answer held', DELIVERY_WAIT_MS);
    const held = cable.log.find((e) => e.outcome === 'held')!;
    expect(held.method).toBe('PATCH');
    expect(held.bytes).toBe(strip.length);
    // The server answered that PATCH only once the photo was stored.
    expect((await readStored(server.url, token, 'epcrs', epcrId, sha)).status).toBe(200);
    await offline(true);

    // Coverage returns for good: the held request is given up and the upload asks where it stands.
    const failedBefore = await lastDeliveryFailure(page);
    const returnedAt = cable.seen.length;
    await offline(false);
    await waitFor(async () => (await queuedCount(page)) === 0 || (await lastDeliveryFailure(page)).at !== failedBefore.at || undefined,
      'the queue to empty (or a delivery to fail)', DELIVERY_WAIT_MS, 250);
    expect(await lastDeliveryFailure(page), 'no delivery failed after coverage returned').toEqual(failedBefore);
    expect(await queuedCount(page)).toBe(0);

    const read = await readStored(server.url, token, 'epcrs', epcrId, sha);
    expect(read.status).toBe(200);
    expect(read.bytes.length).toBe(strip.length);
    expect(sha256Of(read.bytes)).toBe(sha);

    const after = cable.seen.slice(returnedAt).filter((r) => r.path === held.path);
    console.log(`[attachments] finished upload, coverage return: ${after.map((r) => `${r.method} @${String(r.headers['upload-offset'] ?? '-')} ${r.bytes} B`).join(', ')}`);
    // The photo's bytes travelled once: one creation, PATCH bodies adding up to its size.
    const creations = cable.seen.filter((r) => r.method === 'POST' && CREATION.test(r.path) && createdSha(r.headers) === sha);
    // Uploads go one at a time, so the first upload request after a creation is of that upload:
    // this finds the photo's uploads, however many there were (before: a second one, sent whole).
    const photoUploads = new Set(creations.map((c) => cable.seen.slice(cable.seen.indexOf(c) + 1).find((r) => UPLOAD_REQUEST.test(r.path))?.path));
    const patched = cable.seen.filter((r) => r.method === 'PATCH' && photoUploads.has(r.path));
    expect(patched.reduce((sum, r) => sum + r.bytes, 0), 'the photo\'s PATCH bodies add up to its size').toBe(strip.length);
    expect(creations, 'one upload created for the photo').toHaveLength(1);
    expect(after.map((r) => r.method), 'after coverage returned: one HEAD, nothing sent').toEqual(['HEAD']);
  }, 420_000);
});
