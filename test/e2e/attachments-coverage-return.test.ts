/**
 * An attachment upload sent into a link that went away must not hold the queue once coverage
 * returns (issue #21, the end of an offline shift), no more than a push may
 * (outbox-coverage-return.test.ts). A crew tablet behind a real link (support/link.ts) with no
 * IPv6: the link going down brings no address change, so Chromium keeps its connections, and a
 * photo's chunk on the wire when the link dropped gets no reset: it waits for its own time limit
 * (138 s for a 2 MiB PATCH) while the network is back and the photo waits on the device. The
 * service worker must give that request up when the network comes back and go on with the upload
 * at once, from the offset the server has (tus HEAD): the photo stored once, byte-identical, no
 * byte sent twice. A report finalized meanwhile still goes first (reports before attachments).
 *
 * The bound is the held chunk's own time limit, not a wall clock: while the held request waits,
 * no other delivery can run (one at a time), so the queue's record of its last failure (client/
 * queue/status.ts) changes before the photo is stored exactly when that request waited out its
 * limit. (The worker's time limit is not configurable from a test.)
 */
import { describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { UPLOAD_CHUNK_BYTES } from '../../sw/queue/attachment-upload.ts';
import { waitFor } from './support/browser.ts';
import { makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import { lastDeliveryFailure, openReport, queuedCount, queueLine, queueSettled, resetDevice } from './support/outbox.ts';
import { addOriginalPhoto, tabletBehindLink, UPLOAD_REQUEST } from './support/uploads-behind-link.ts';
import { e2ePort } from './support/server.ts';

const SERVER_PORT = e2ePort(3302);
const CABLE_PORT = e2ePort(3303);
/** Far longer than a 2 MiB chunk's time limit (requestTimeoutMs: 138 s): waits, never a verdict. */
const DELIVERY_WAIT_MS = 240_000;

describe('coverage returns while a photo upload is on the wire (browser, real link without IPv6)', () => {
  const t = tabletBehindLink({ serverPort: SERVER_PORT, cablePort: CABLE_PORT, unit: 'M34', incidentNumber: '2026-003302' });
  const { server, token, offline } = t;
  const lastFailure = () => lastDeliveryFailure(t.d.page);
  const serverEpcr = async (id: string) => (await server.docs<Epcr & { attachments?: { sha256: string }[] }>('epcrs', [id]))[0];

  it('a photo whose first chunk reached the server, its answer lost in the link that went down, goes on from the server\'s offset when the link returns: stored once, byte-identical, nothing sent twice', async () => {
    const page = await resetDevice(t.d);
    const { cable } = t.d;
    const epcrId = t.d.epcrId;
    await openReport(page, epcrId);
    await page.getByTestId('section-signatures').click();

    // A face sheet kept at full quality, captured out of coverage: 3 MB, a PATCH of 2 MiB and one of the rest.
    const sheet = await makeJpeg(page, 2400, 800, 3_000_000);
    await offline(true);
    // The report (with the photo listed) and the photo wait on the device.
    await addOriginalPhoto(page, sheet, 'sheet.jpg');
    expect(await queueLine(page)).toContain('attachment');

    // Coverage returns, long enough for the photo's first chunk to reach the server; its answer
    // dies with the link (the cable holds it: no reset, no answer, as TCP sees a link that went away).
    cable.holdAnswers(UPLOAD_REQUEST, 1);
    await offline(false);
    await waitFor(() => cable.log.some((e) => e.outcome === 'held'), 'the first chunk on the server, its answer held', DELIVERY_WAIT_MS);
    const held = cable.log.find((e) => e.outcome === 'held')!;
    expect(held.method).toBe('PATCH');
    expect(held.bytes).toBe(UPLOAD_CHUNK_BYTES);
    await offline(true);
    // Out of coverage again, the crew finalizes the report: a report goes before attachments
    // (docs/protocol.md, section 16 lanes), also before one that was on the wire.
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Okonkwo');
    await page.getByTestId('finalize').click();
    await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(2);
    await queueSettled(page);

    // Coverage returns for good. The held chunk still waits for its answer (its time limit is
    // 138 s): the photo must reach the server without any delivery failing meanwhile, i.e.
    // without the held request waiting out that limit.
    const failedBefore = await lastFailure();
    const returnedAt = cable.seen.length;
    await offline(false);
    const sha = sha256Of(sheet);
    const stored = async () => (await readStored(server.url, token, 'epcrs', epcrId, sha)).status === 200;
    await waitFor(async () => (await stored()) || (await lastFailure()).at !== failedBefore.at || undefined, 'the photo on the server (or a delivery failing)', DELIVERY_WAIT_MS, 250);
    expect(await lastFailure(), 'no delivery failed after coverage returned').toEqual(failedBefore);

    // The server's copy is the photo, byte for byte, listed once in the report.
    const read = await readStored(server.url, token, 'epcrs', epcrId, sha);
    expect(read.status).toBe(200);
    expect(read.bytes.length).toBe(sheet.length);
    expect(sha256Of(read.bytes)).toBe(sha);
    const report = await serverEpcr(epcrId);
    expect(report?.attachments?.filter((a) => a.sha256 === sha)).toHaveLength(1);
    // What the crew typed before finalizing (the server's finalize check then answers on the report itself).
    expect(report?.patient?.lastName).toBe('Okonkwo');

    // Nothing sent twice: after coverage returned, the upload asked the server where it stood and
    // sent only the rest; its PATCHes carried the photo's bytes exactly once in all.
    const upload = cable.seen.filter((r) => r.path === held.path);
    const after = cable.seen.slice(returnedAt).filter((r) => r.path === held.path);
    console.log(`[attachments] coverage return: ${after.map((r) => `${r.method} @${r.headers['upload-offset'] ?? '-'} ${r.bytes} B`).join(', ')}`);
    expect(after[0]?.method).toBe('HEAD');
    // The report finalized meanwhile went first, then the upload went on.
    const sinceReturn = cable.seen.slice(returnedAt);
    const reportPush = sinceReturn.findIndex((r) => r.method === 'POST' && r.path.startsWith('/api/sync/epcrs/push'));
    expect(reportPush).toBeGreaterThanOrEqual(0);
    expect(reportPush).toBeLessThan(sinceReturn.indexOf(after[0]!));
    const resumed = after.filter((r) => r.method === 'PATCH');
    expect(Number(resumed[0]?.headers['upload-offset'])).toBe(UPLOAD_CHUNK_BYTES);
    expect(upload.filter((r) => r.method === 'PATCH').reduce((sum, r) => sum + r.bytes, 0)).toBe(sheet.length);
    await waitFor(async () => (await queuedCount(page)) === 0, 'the queue to empty', DELIVERY_WAIT_MS);
  }, 420_000);
});
