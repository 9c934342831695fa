/**
 * Issue 18 gap: photos are compressed on the device "to a size the agency sets". Real Chromium,
 * the real service worker and the real server: the agency's admin sets a small photo size
 * (640 px, 60 KB), the technician's phone reads it with the job screen open, keeps it for offline
 * use, and a 2000×1500 photo taken offline reaches the server as a JPEG of at most 640 px on its
 * longest edge and at most 60 KB (the default would be 1600 px).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../server/demo/agency.ts';
import { ADMIN, pathOf } from '../../shared/protocol/index.ts';
import type { Job } from '../../shared/schemas/index.ts';
import { textOf, waitFor } from './support/browser.ts';
import { makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import { TechPhone } from './support/tech-phone.ts';
import { ADMIN_TOKEN, e2ePort } from './support/server.ts';

const SERVER_PORT = e2ePort(2232);
const CABLE_PORT = e2ePort(2233);
const JOB_ID = '6e2f3a4b-5c6d-4e7f-8a91-92a3b4c5d6e7';
const TECH = 'tech-size';

/** Width and height from a JPEG's start-of-frame marker. */
function jpegSize(bytes: Buffer): { width: number; height: number } {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) throw new Error(`not a JPEG marker at ${i}`);
    const marker = bytes[i + 1]!;
    const length = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  throw new Error('no start-of-frame marker');
}

describe('the agency\'s photo size on the device (browser)', () => {
  const phone = new TechPhone(SERVER_PORT, CABLE_PORT, 'phone-size', TECH);
  const { server } = phone;

  beforeAll(async () => {
    await phone.start(async () => {
      const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
        method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...demoAgencySettings(), attachments: { photoMaxEdgePx: 640, photoMaxBytes: 60_000 } }),
      });
      if (put.status !== 200) throw new Error(`setting the agency's photo size failed: ${put.status} ${await put.text()}`);
      await server.seed('jobs', [{
        id: JOB_ID, status: 'on_site', assigneeId: TECH, kind: 'repair', customer: { name: 'Bayside Bakery' },
        serviceAddress: { street: '3 Dock St', city: 'Camden', zip: '08101' },
      }]);
    });
  }, 240_000);

  afterAll(() => phone.dispose());

  it('a photo taken offline is compressed to the size the agency set', async () => {
    const { page, attachments: detail } = await phone.openJob(JOB_ID);
    const { cable, ctx, token } = phone;
    // Read while online and kept for offline use.
    await page.waitForFunction(() => localStorage.getItem('fieldsync.device-settings')?.includes('"photoMaxEdgePx":640') ?? false, undefined, { timeout: 60_000 });

    await cable.cut();
    await ctx.setOffline(true);
    const photo = detail.getByTestId('photo-capture');
    await photo.getByTestId('photo-purpose').selectOption('before');
    await photo.getByTestId('photo-file').setInputFiles({ name: 'before.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg(page, 2000, 1500) });
    await photo.getByTestId('photo-add').click();
    await expect.poll(() => textOf(photo.getByTestId('photo-saved')), { timeout: 30_000 }).toContain('Photo saved');

    await ctx.setOffline(false);
    await cable.restore();
    const stored = (await waitFor(async () => {
      const job = (await server.docs<Job & { attachments?: { sha256: string; kind: string }[] }>('jobs', [JOB_ID]))[0];
      const item = job?.attachments?.find((i) => i.kind === 'photo');
      if (!item) return undefined;
      const read = await readStored(server.url, token, 'jobs', JOB_ID, item.sha256);
      return read.status === 200 ? { item, bytes: read.bytes } : undefined;
    }, 'the photo on the server', 90_000, 500))!;
    expect(sha256Of(stored.bytes)).toBe(stored.item.sha256);
    const size = jpegSize(Buffer.from(stored.bytes));
    expect(Math.max(size.width, size.height)).toBe(640);
    expect(size.width / size.height).toBeCloseTo(2000 / 1500, 1);
    expect(stored.bytes.length).toBeLessThanOrEqual(60_000);
  }, 240_000);
});
