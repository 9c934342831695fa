/**
 * Issue 18: an upload resumes after a browser restart, not only after a dropped connection. Real
 * Chromium with a profile directory, the real service worker and the real server: a 10 MB photo
 * (kept at full quality) on the technician's phone is cut at the socket at about half; the whole
 * browser is closed; a new browser on the same profile opens the app and the service worker goes
 * on from the server's offset (the first PATCH after the restart starts past 4 MB; the bytes
 * through the cable stay under the size plus one chunk).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { Job } from '../../shared/schemas/index.ts';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir, signInWithToken, waitFor, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import { createHttpCable, type HttpCable } from './support/http-cable.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2234);
const CABLE_PORT = e2ePort(2235);
const JOB_ID = '7f3a4b5c-6d7e-4f80-9a12-a3b4c5d6e7f8';
const TECH = 'tech-restart';
const DEVICE = { timezoneId: 'America/New_York', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

describe('an attachment upload resumes after a browser restart (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  const errors: string[] = [];
  let ctx: BrowserContext | undefined;
  let cable: HttpCable;
  let profile: string;
  const token = `dev:${TENANT}:technician:phone-restart:${TECH}`;

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createHttpCable(CABLE_PORT, SERVER_PORT);
    await server.seed('jobs', [{
      id: JOB_ID, status: 'on_site', assigneeId: TECH, kind: 'inspection', customer: { name: 'North Pier Cold Storage' },
      serviceAddress: { street: '9 Quay Ln', city: 'Camden', zip: '08101' },
    }]);
    profile = await newProfileDir();
  }, 240_000);

  afterAll(async () => {
    if (ctx) await closeDevice(ctx).catch(() => {});
    await cable?.close();
    await server.dispose();
    if (profile) await removeProfileDir(profile);
    if (errors.length) console.log(errors.join('\n'));
  });

  it('a 10 MB photo cut at about half, browser closed and started again: the service worker resumes at the server\'s offset', async () => {
    ctx = await launchDevice(profile, DEVICE);
    const page = await ctx.newPage();
    watchConsole(page, 'tech', errors);
    await signInWithToken(page, cable.origin, token, '/tech/');
    await waitForServiceWorker(page);
    await page.locator(`[data-testid="job"][data-id="${JOB_ID}"]`).click();
    const photo = page.getByTestId('job-attachments').getByTestId('photo-capture');
    await photo.waitFor();

    const big = await makeJpeg(page, 2400, 800, 10_000_000);
    await photo.getByTestId('photo-purpose').selectOption('before');
    await photo.getByTestId('photo-original').check();
    await photo.getByTestId('photo-file').setInputFiles({ name: 'before.jpg', mimeType: 'image/jpeg', buffer: big });
    const cutDone = cable.cutAfter(/^\/api\/attachments\/uploads\//, 5_000_000);
    const sentFrom = cable.seen.length;
    await photo.getByTestId('photo-add').click();
    await cutDone;

    // The whole browser goes away with the upload half done.
    await closeDevice(ctx);
    ctx = undefined;
    const restartAt = cable.seen.length;
    await cable.restore();

    ctx = await launchDevice(profile, DEVICE);
    const again = await ctx.newPage();
    watchConsole(again, 'tech (restarted)', errors);
    await again.goto(`${cable.origin}/tech/`);

    const sha = sha256Of(big);
    await waitFor(async () => (await readStored(server.url, token, 'jobs', JOB_ID, sha)).status === 200 || undefined, 'the 10 MB photo on the server after the restart', 120_000, 500);
    expect(sha256Of((await readStored(server.url, token, 'jobs', JOB_ID, sha)).bytes)).toBe(sha);
    const job = (await server.docs<Job & { attachments?: { sha256: string }[] }>('jobs', [JOB_ID]))[0];
    expect(job?.attachments?.map((a) => a.sha256)).toContain(sha);

    const patches = cable.seen.slice(sentFrom).filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/attachments/uploads/'));
    const bytesOf = (path: string) => patches.filter((r) => r.path === path).reduce((a, r) => a + r.bytes, 0);
    const upload = [...new Set(patches.map((r) => r.path))].sort((a, b) => bytesOf(b) - bytesOf(a))[0]!;
    const afterRestart = cable.seen.slice(restartAt).filter((r) => r.method === 'PATCH' && r.path === upload);
    const resumedAt = Number(afterRestart[0]?.headers['upload-offset'] ?? -1);
    console.log(`[attachments] restart: ${bytesOf(upload)} bytes through the cable for ${big.length}; resumed at offset ${resumedAt}`);
    expect(resumedAt).toBeGreaterThan(4 * 1024 * 1024);
    expect(bytesOf(upload)).toBeLessThan(big.length + 2 * 1024 * 1024);
  }, 300_000);
});
