/**
 * What the tests of photo uploads around a lost link share (attachments-coverage-return,
 * attachments-finished-upload, attachments-being-stored): a crew tablet behind a real link without
 * IPv6 to its own server, started before a file's tests and disposed after them; a full-quality
 * photo added while offline; and how to tell an upload's requests on the cable.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { openReport, queuedCount, queueSettled, resetDevice, setCoverage, startCrewDevice, type CrewDevice } from './outbox.ts';
import { makeJpeg, sha256Of } from './attachments.ts';
import { UPLOAD_CHUNK_BYTES } from '../../../sw/queue/attachment-upload.ts';
import { createLink, type Link } from './link.ts';
import { E2eServer, ensureApps, TENANT } from './server.ts';

/** The requests of one upload once created (its PATCHes and HEADs), not the creation (`POST .../uploads`). */
export const UPLOAD_REQUEST = /^\/api\/attachments\/uploads\/[^/?]+/;
/** An upload's creation. */
export const CREATION = /^\/api\/attachments\/uploads\/?(\?|$)/;

/** The sha256 an upload's creation names (tus Upload-Metadata: `key base64value` pairs). */
export function createdSha(headers: Record<string, string | string[] | undefined>): string | undefined {
  const metadata = String(headers['upload-metadata'] ?? '');
  const pair = metadata.split(',').map((p) => p.trim().split(' ')).find(([key]) => key === 'sha256');
  return pair?.[1] ? Buffer.from(pair[1], 'base64').toString('utf8') : undefined;
}

export interface TabletBehindLink {
  readonly server: E2eServer;
  readonly errors: string[];
  /** The crew's developer token (reads the stored attachment back). */
  readonly token: string;
  readonly d: CrewDevice;
  readonly link: Link;
  /** Coverage lost (true) or back (false), at the socket. */
  offline(on: boolean): Promise<void>;
}

/** Registers the file's beforeAll/afterAll: call it inside the `describe`. */
export function tabletBehindLink(options: { serverPort: number; cablePort: number; unit: string; incidentNumber: string }): TabletBehindLink {
  const server = new E2eServer(options.serverPort, { cablePorts: [options.cablePort] });
  const errors: string[] = [];
  let link: Link | undefined;
  let device: CrewDevice | undefined;
  beforeAll(async () => {
    await ensureApps();
    await server.start();
    link = createLink(options.cablePort, { ipv6: 'off' });
    device = await startCrewDevice(server, { cablePort: options.cablePort, unit: options.unit, incidentNumber: options.incidentNumber, errors, link });
  }, 180_000);
  afterAll(async () => {
    await device?.dispose().catch(() => {});
    link?.dispose();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });
  return {
    server, errors,
    token: `dev:${TENANT}:crew:tablet-${options.unit.toLowerCase()}:${options.unit}`,
    get d() { return device!; },
    get link() { return link!; },
    offline: (on) => setCoverage(device!, link!, on),
  };
}

/** Adds a photo kept at full quality in the open report's photo capture; returns once it is queued behind the report. */
export async function addOriginalPhoto(page: Page, bytes: Buffer, name: string): Promise<void> {
  const photo = page.getByTestId('photo-capture');
  await photo.getByTestId('photo-purpose').selectOption('ecg');
  await photo.getByTestId('photo-original').check();
  await photo.getByTestId('photo-file').setInputFiles({ name, mimeType: 'image/jpeg', buffer: bytes });
  await photo.getByTestId('photo-add').click();
  await expect.poll(() => queuedCount(page), { timeout: 10_000 }).toBe(2);
  await queueSettled(page);
}

/**
 * The device started afresh with its report open at the signatures, and an ECG strip of about
 * `photoBytes` kept at full quality, small enough for one PATCH, added while out of coverage.
 */
export async function oneChunkPhotoOffline(t: TabletBehindLink, photoBytes: number) {
  const page = await resetDevice(t.d);
  await openReport(page, t.d.epcrId);
  await page.getByTestId('section-signatures').click();
  const strip = await makeJpeg(page, 1600, 600, photoBytes);
  expect(strip.length).toBeLessThan(UPLOAD_CHUNK_BYTES);
  await t.offline(true);
  await addOriginalPhoto(page, strip, 'ecg.jpg');
  return { page, cable: t.d.cable, epcrId: t.d.epcrId, strip, sha: sha256Of(strip) };
}
