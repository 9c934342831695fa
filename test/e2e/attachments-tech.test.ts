/**
 * The technician's photos and the customer's signature (issue 18), real Chromium with the real
 * service worker and the real server: a before and an after photo with their notes and the
 * customer's signature with the names typed, captured on the job screen without coverage, reach
 * the server (the job's `attachments` and the bytes, byte-identical) once the phone is back online.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../shared/schemas/index.ts';
import { textOf, waitFor } from './support/browser.ts';
import { drawSignature, makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import { TechPhone } from './support/tech-phone.ts';
import { e2ePort } from './support/server.ts';

const SERVER_PORT = e2ePort(2220);
const CABLE_PORT = e2ePort(2221);
const JOB_ID = '5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
const TECH = 'tech-att';

interface Item { sha256: string; kind: string; purpose: string; annotation?: string; size: number; thumbnail?: { sha256: string }; signature?: { lastName?: string; firstName?: string } }

describe('the technician\'s photos and customer signature (browser)', () => {
  const phone = new TechPhone(SERVER_PORT, CABLE_PORT, 'phone-att', TECH);
  const { server } = phone;

  beforeAll(async () => {
    await phone.start(async () => {
      await server.seed('jobs', [{
        id: JOB_ID, status: 'on_site', assigneeId: TECH, kind: 'installation', customer: { name: 'Harbor Dental' },
        serviceAddress: { street: '14 Pier Rd', city: 'Camden', zip: '08101' },
      }]);
    });
  }, 240_000);

  afterAll(() => phone.dispose());

  it('before/after photos and the customer\'s signature, captured offline, reach the server with what was typed', async () => {
    const { page, attachments: detail } = await phone.openJob(JOB_ID);
    const { cable, ctx, token } = phone;

    await cable.cut();
    await ctx.setOffline(true);
    const photo = detail.getByTestId('photo-capture');
    for (const [purpose, note] of [['before', 'Old unit corroded at the inlet'], ['after', 'New unit mounted, leak test passed']] as const) {
      await photo.getByTestId('photo-purpose').selectOption(purpose);
      await photo.getByTestId('photo-file').setInputFiles({ name: `${purpose}.jpg`, mimeType: 'image/jpeg', buffer: await makeJpeg(page, 2000, 1500) });
      await photo.getByTestId('photo-annotation').fill(note);
      await photo.getByTestId('photo-add').click();
      await expect.poll(() => textOf(photo.getByTestId('photo-saved')), { timeout: 30_000 }).toContain('Photo saved');
    }
    const capture = detail.getByTestId('signature-capture');
    await capture.getByTestId('signature-last-name').fill('Lindqvist');
    await capture.getByTestId('signature-first-name').fill('Maren');
    await drawSignature(page, capture.getByTestId('signature-pad'));
    await capture.getByTestId('signature-save').click();
    await expect.poll(() => textOf(capture.getByTestId('signature-saved'))).toContain('Lindqvist');
    await expect.poll(() => page.getByTestId('attachment').count()).toBe(3);

    await ctx.setOffline(false);
    await cable.restore();
    const items = (await waitFor(async () => {
      const job = (await server.docs<Job & { attachments?: Item[] }>('jobs', [JOB_ID]))[0];
      const list = job?.attachments ?? [];
      if (list.length !== 3) return undefined;
      for (const item of list) if ((await readStored(server.url, token, 'jobs', JOB_ID, item.sha256)).status !== 200) return undefined;
      return list;
    }, 'the job\'s photos and signature on the server', 90_000, 500))!;
    for (const item of items) expect(sha256Of((await readStored(server.url, token, 'jobs', JOB_ID, item.sha256)).bytes)).toBe(item.sha256);
    expect(items.filter((i) => i.kind === 'photo').map((i) => [i.purpose, i.annotation])).toEqual([
      ['before', 'Old unit corroded at the inlet'], ['after', 'New unit mounted, leak test passed'],
    ]);
    expect(items.find((i) => i.kind === 'signature')).toMatchObject({ purpose: 'customer-signature', signature: { lastName: 'Lindqvist', firstName: 'Maren' } });
  });
});
