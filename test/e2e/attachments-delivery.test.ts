/**
 * Signatures and photos captured offline reach the server through the service worker alone
 * (issue 18), in real Chromium with the real service worker and the real server:
 *
 * - signed and photographed offline, every page closed, the network back: the service worker
 *   uploads them (tus), byte-identical (SHA-256 of what the server serves = what the device made),
 *   after the report and before the GPS backlog; what the crew typed with them is on the server;
 * - a 10 MB photo whose upload is cut at the socket at about half resumes where the server
 *   stopped: the bytes reach the server once (counted at the cable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { codeOf } from '../../shared/nemsis/codes.ts';
import type { Page } from 'playwright-core';
import { closeDevice, goOffline, goOnline, launchDevice, newProfileDir, removeProfileDir, screenshot, signInWithToken, textOf, waitFor, watchConsole } from './support/browser.ts';
import { drawSignature, makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import { formBadge, openReport, queueLine, resetDevice, startCrewDevice, type CrewDevice } from './support/outbox.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2200);
const CABLE_PORT = e2ePort(2201);
const DELIVERY_WAIT_MS = 90_000;

interface Item {
  sha256: string; kind: string; purpose: string; contentType: string; size: number; annotation?: string; export?: boolean;
  thumbnail?: { sha256: string; contentType: string; size: number };
  signature?: { signerType?: string; reasons?: string[]; representativeType?: string; status?: string; lastName?: string; firstName?: string };
}

describe('attachments: captured offline, delivered by the service worker (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  const errors: string[] = [];
  let d: CrewDevice;
  let token: string;

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    d = await startCrewDevice(server, { cablePort: CABLE_PORT, unit: 'M22', incidentNumber: '2026-002201', calls: 2, errors });
    token = `dev:${TENANT}:crew:tablet-m22:M22`;
  }, 240_000);

  afterAll(async () => {
    await d?.dispose().catch(() => {});
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  /** Every attachment picture on screen has loaded (decoded, with a size): what a person sees, not just an element. */
  const picturesShown = (page: Page) => page.getByTestId('attachment-image').evaluateAll((images) =>
    images.map((img) => ((img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0 ? 'shown' : 'broken')));

  const serverEpcr = async (id: string) => (await server.docs<Epcr & { attachments?: Item[] }>('epcrs', [id]))[0];

  it('signs and photographs offline; with every page closed the service worker uploads them after the report and before the GPS backlog, byte-identical', async () => {
    const { ctx, cable, unit } = d;
    const page = await resetDevice(d);
    const epcrId = d.epcrIds[0]!;
    await openReport(page, epcrId);

    await goOffline(ctx, cable);
    await page.getByTestId('section-signatures').click();
    // A representative signs for billing: who, as NEMSIS codes from the XSD, and the names typed.
    const capture = page.getByTestId('signature-capture');
    await capture.getByTestId('signature-purpose').selectOption('representative');
    await capture.getByTestId('signature-reason').selectOption(codeOf('eOther.13', 'Release for Billing'));
    await capture.getByTestId('signature-representative-type').selectOption(codeOf('eOther.14', 'Daughter'));
    await capture.getByTestId('signature-last-name').fill('Okafor');
    await capture.getByTestId('signature-first-name').fill('Adaeze');
    await drawSignature(page, capture.getByTestId('signature-pad'));
    await capture.getByTestId('signature-save').click();
    await expect.poll(() => textOf(capture.getByTestId('signature-saved'))).toContain('Okafor');

    // The insurance card, photographed: resized and compressed on the device, with a thumbnail.
    const photo = page.getByTestId('photo-capture');
    const card = await makeJpeg(page, 3000, 2000);
    await photo.getByTestId('photo-purpose').selectOption('insurance-front');
    await photo.getByTestId('photo-file').setInputFiles({ name: 'card.jpg', mimeType: 'image/jpeg', buffer: card });
    await photo.getByTestId('photo-annotation').fill('Member ID legible, card expires 2027');
    await photo.getByTestId('photo-export').check();
    await photo.getByTestId('photo-add').click();
    await expect.poll(() => textOf(photo.getByTestId('photo-saved')), { timeout: 30_000 }).toContain('Photo saved on this device');

    // An hour of positions waits too (queued earlier than nothing: the lanes decide, not the order).
    await page.evaluate(async ({ tenantId, unitId }) => {
      const api = (window as unknown as { fieldsync: { db: { api: { bulkInsert(c: string, d: unknown[]): Promise<number> } } } }).fieldsync.db.api;
      const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
      await api.bulkInsert('gps_points', Array.from({ length: 200 }, (_, j) => ({
        id: crypto.randomUUID(), tenantId, sourceType: 'unit', sourceId: unitId, lat: 39.85 + j * 1e-5, lng: -75.35, recordedAt: stamp(new Date(Date.now() - 600_000 + j * 1000)),
      })));
    }, { tenantId: TENANT, unitId: unit });

    // What waits is said: the outbox line counts the two attachments and their size, the badge says they wait.
    await expect.poll(() => queueLine(page), { timeout: 15_000 }).toMatch(/^In the outbox: 1 patient care report, 2 attachments, 200 GPS points \(\d+\.\d MB\), waiting since/);
    await expect.poll(() => textOf(formBadge(page))).toBe('Saved on device · 2 attachments waiting');
    const local = await page.getByTestId('attachment').evaluateAll((items) => items.map((i) => i.getAttribute('data-sha256')));
    expect(local).toHaveLength(2);
    // Shown from this device while they wait (opened with the key in the database worker's memory).
    await expect.poll(() => picturesShown(page), { timeout: 15_000 }).toEqual(['shown', 'shown']);
    await screenshot(page, 'attachments-offline-captured', { keepScroll: true });

    // Every page closes, then the network returns: only the service worker is left to deliver.
    for (const p of ctx.pages()) await p.close();
    const sentFrom = cable.seen.length;
    await goOnline(ctx, cable);
    const t0 = Date.now();
    const stored: Item[] = (await waitFor(async (): Promise<Item[] | undefined> => {
      const doc = await serverEpcr(epcrId);
      const items = doc?.attachments ?? [];
      if (items.length !== 2) return undefined;
      for (const item of items) {
        for (const sha of [item.sha256, ...(item.thumbnail ? [item.thumbnail.sha256] : [])]) {
          if ((await readStored(server.url, token, 'epcrs', epcrId, sha)).status !== 200) return undefined;
        }
      }
      return items;
    }, 'the report and its attachments on the server, with no page open', DELIVERY_WAIT_MS, 500))!;
    console.log(`[attachments] offline capture delivered by the service worker ${Date.now() - t0} ms after the network returned`);
    expect(ctx.pages().filter((p) => p.url().startsWith(cable.origin))).toHaveLength(0);

    // Byte-identical: what the server serves hashes to what the device computed of the bytes it made.
    for (const item of stored) {
      const read = await readStored(server.url, token, 'epcrs', epcrId, item.sha256);
      expect(sha256Of(read.bytes)).toBe(item.sha256);
      expect(read.bytes.length).toBe(item.size);
      expect(read.contentType).toContain(item.contentType);
      if (item.thumbnail) expect(sha256Of((await readStored(server.url, token, 'epcrs', epcrId, item.thumbnail.sha256)).bytes)).toBe(item.thumbnail.sha256);
    }
    const signature = stored.find((i) => i.kind === 'signature')!;
    expect(signature).toMatchObject({
      purpose: 'representative', contentType: 'image/png',
      signature: {
        signerType: codeOf('eOther.12', 'Patient Representative'), status: codeOf('eOther.15', 'Signed'), reasons: [codeOf('eOther.13', 'Release for Billing')],
        representativeType: codeOf('eOther.14', 'Daughter'), lastName: 'Okafor', firstName: 'Adaeze',
      },
    });
    const card0 = stored.find((i) => i.kind === 'photo')!;
    expect(card0).toMatchObject({ purpose: 'insurance-front', contentType: 'image/jpeg', annotation: 'Member ID legible, card expires 2027', export: true });
    // Compressed on the device to the agency's size (default 800 KB), and smaller than the camera's file.
    expect(card0.size).toBeLessThanOrEqual(800_000);
    expect(card0.size).toBeLessThan(card.length);
    expect(card0.thumbnail!.size).toBeLessThan(card0.size);

    // Order on the wire: the report's push, then the uploads, then the positions.
    await waitFor(async () => (await server.docs<{ sourceId: string }>('gps_points')).filter((p) => p.sourceId === unit).length === 200, 'the positions on the server', DELIVERY_WAIT_MS, 500);
    const sent = cable.seen.slice(sentFrom);
    const firstIndex = (test: (r: { method: string; path: string }) => boolean) => sent.findIndex(test);
    const lastIndex = (test: (r: { method: string; path: string }) => boolean) => sent.length - 1 - [...sent].reverse().findIndex(test);
    const reportPush = firstIndex((r) => r.path.startsWith('/api/sync/epcrs/push'));
    const firstUpload = firstIndex((r) => r.path.startsWith('/api/attachments/uploads'));
    const lastUpload = lastIndex((r) => r.path.startsWith('/api/attachments/uploads'));
    const gpsPush = firstIndex((r) => r.path.startsWith('/api/sync/gps_points/push'));
    console.log(`[attachments] wire order: ${sent.filter((r) => r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path.split('?')[0]}`).join(' → ')}`);
    expect(reportPush).toBeGreaterThanOrEqual(0);
    expect(firstUpload).toBeGreaterThan(reportPush);
    expect(gpsPush).toBeGreaterThan(lastUpload);

    // Another tablet of the unit opens the report: the attachments came with it (metadata), the
    // pictures are fetched from the server on demand, the thumbnail first, the full photo when asked.
    const otherProfile = await newProfileDir();
    const other = await launchDevice(otherProfile, { timezoneId: 'America/New_York' });
    try {
      const page2 = other.pages()[0] ?? await other.newPage();
      watchConsole(page2, 'M22 second tablet', errors);
      await signInWithToken(page2, server.url, `dev:${TENANT}:crew:tablet-m22-second:${unit}`, '/crew/');
      await page2.goto(`${server.url}/crew/#/epcr/${epcrId}`);
      await page2.getByTestId('epcr-form').waitFor({ timeout: 20_000 });
      await page2.getByTestId('section-signatures').click();
      await expect.poll(() => page2.getByTestId('attachment').count(), { timeout: 20_000 }).toBe(2);
      await expect.poll(() => picturesShown(page2), { timeout: 20_000 }).toEqual(['shown', 'shown']);
      const photoItem = page2.locator('[data-testid="attachment"][data-kind="photo"]');
      expect(await photoItem.getByTestId('attachment-image').getAttribute('data-shown')).toBe(card0.thumbnail!.sha256);
      await photoItem.getByTestId('attachment-full').click();
      await expect.poll(() => photoItem.getByTestId('attachment-image').getAttribute('data-shown'), { timeout: 20_000 }).toBe(card0.sha256);
      await expect.poll(() => picturesShown(page2), { timeout: 20_000 }).toEqual(['shown', 'shown']);
      expect(await textOf(page2.getByTestId('attachment-annotation'))).toBe('Member ID legible, card expires 2027');
      expect(await textOf(page2.getByTestId('attachment-signer'))).toBe('Adaeze Okafor');
      await screenshot(page2, 'attachments-second-tablet', { keepScroll: true });
    } finally {
      await closeDevice(other).catch(() => {});
      await removeProfileDir(otherProfile);
    }
  });

  it('a 10 MB photo whose upload is cut at the socket at about half resumes there: the server receives its bytes once', async () => {
    const { cable } = d;
    const page = await resetDevice(d);
    const epcrId = d.epcrIds[1]!;
    await openReport(page, epcrId);
    await page.getByTestId('section-signatures').click();

    // An ECG strip kept at full quality (not resized): 10 MB, as a camera makes them.
    const ecg = await makeJpeg(page, 2400, 800, 10_000_000);
    const photo = page.getByTestId('photo-capture');
    await photo.getByTestId('photo-purpose').selectOption('ecg');
    await photo.getByTestId('photo-original').check();
    await photo.getByTestId('photo-file').setInputFiles({ name: 'ecg.jpg', mimeType: 'image/jpeg', buffer: ecg });
    // The cut comes when about half of it went through the cable.
    const cutDone = cable.cutAfter(/^\/api\/attachments\/uploads\//, 5_000_000);
    const sentFrom = cable.seen.length;
    await photo.getByTestId('photo-add').click();
    await cutDone;
    const cutAt = cable.seen.length;
    const beforeCut = cable.seen.slice(sentFrom).filter((r) => r.method === 'PATCH').reduce((a, r) => a + r.bytes, 0);
    console.log(`[attachments] cut after ${beforeCut} bytes of the 10 MB upload had passed the cable`);
    expect(beforeCut).toBeGreaterThanOrEqual(5_000_000);
    expect(beforeCut).toBeLessThan(ecg.length);
    await new Promise((r) => setTimeout(r, 2000));
    await cable.restore();

    const sha = sha256Of(ecg);
    await waitFor(async () => (await readStored(server.url, token, 'epcrs', epcrId, sha)).status === 200 || undefined, 'the 10 MB photo on the server after the cut', DELIVERY_WAIT_MS, 500);
    const read = await readStored(server.url, token, 'epcrs', epcrId, sha);
    expect(sha256Of(read.bytes)).toBe(sha);
    expect(read.bytes.length).toBe(ecg.length);

    // The photo's own upload (its thumbnail is another, small one): the upload URL that carried the most bytes.
    const uploadPatches = cable.seen.slice(sentFrom).filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/attachments/uploads/'));
    const bytesOf = (path: string) => uploadPatches.filter((r) => r.path === path).reduce((a, r) => a + r.bytes, 0);
    const photoUpload = [...new Set(uploadPatches.map((r) => r.path))].sort((a, b) => bytesOf(b) - bytesOf(a))[0];
    const patches = uploadPatches.filter((r) => r.path === photoUpload);
    const sentTotal = patches.reduce((a, r) => a + r.bytes, 0);
    const afterCut = cable.seen.slice(cutAt).filter((r) => r.method === 'PATCH' && r.path === photoUpload);
    const resumedAt = Number(afterCut[0]?.headers['upload-offset'] ?? -1);
    const twice = sentTotal - ecg.length;
    console.log(`[attachments] 10 MB upload: ${patches.length} PATCH requests, ${sentTotal} bytes through the cable for ${ecg.length} (sent twice: ${twice} bytes, ${(100 * twice / ecg.length).toFixed(1)} %); resumed at offset ${resumedAt}`);
    // Never from byte zero: the bytes before the cut are not sent again (at most the chunk in flight).
    expect(sentTotal).toBeLessThan(ecg.length + 2 * 1024 * 1024);
    expect(patches.filter((r) => Number(r.headers['upload-offset'] ?? -1) === 0)).toHaveLength(1);
    // The first request after the cut went on at what the server had kept of the cut one.
    expect(resumedAt).toBeGreaterThan(4 * 1024 * 1024);
  });
});
