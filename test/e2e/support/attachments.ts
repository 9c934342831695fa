/**
 * Helpers for the attachment tests (issue 18): drawing on a signature pad as a finger does,
 * making a real photo in the browser, and reading an attachment back from the server.
 */
import { createHash } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { ATTACHMENTS, pathOf } from '../../../shared/protocol/index.ts';

/** Three strokes across the pad with the mouse (a finger on a tablet: pointer events either way). */
export async function drawSignature(page: Page, pad: Locator): Promise<void> {
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  const strokes = [[0.1, 0.6, 0.35, 0.3], [0.35, 0.3, 0.55, 0.7], [0.55, 0.7, 0.9, 0.35]] as const;
  for (const [x0, y0, x1, y1] of strokes) {
    await page.mouse.move(box.x + box.width * x0, box.y + box.height * y0);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (x0 + (x1 - x0) * i / 8), box.y + box.height * (y0 + (y1 - y0) * i / 8));
    await page.mouse.up();
  }
}

/**
 * A JPEG the browser itself encodes (a scene with shapes and text, `width`×`height`), optionally
 * padded after its end marker to `padTo` bytes with random bytes: still a valid JPEG every
 * decoder shows (they stop at the end marker), of a size a camera makes.
 */
export async function makeJpeg(page: Page, width: number, height: number, padTo = 0): Promise<Buffer> {
  const base64 = await page.evaluate(async ({ width, height }) => {
    const canvas = new OffscreenCanvas(width, height);
    const g = canvas.getContext('2d')!;
    const gradient = g.createLinearGradient(0, 0, width, height);
    gradient.addColorStop(0, '#2a6f97');
    gradient.addColorStop(1, '#f4a261');
    g.fillStyle = gradient;
    g.fillRect(0, 0, width, height);
    for (let i = 0; i < 40; i++) {
      g.fillStyle = `hsl(${(i * 37) % 360} 70% 50%)`;
      g.beginPath();
      g.arc((i * 97) % width, (i * 53) % height, 10 + (i % 7) * 9, 0, Math.PI * 2);
      g.fill();
    }
    g.fillStyle = '#000';
    g.font = `${Math.round(height / 12)}px sans-serif`;
    g.fillText('INSURANCE CARD 0042-7781', width * 0.08, height * 0.5);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }, { width, height });
  const jpeg = Buffer.from(base64, 'base64');
  if (padTo <= jpeg.length) return jpeg;
  const padding = Buffer.alloc(padTo - jpeg.length);
  for (let i = 0; i < padding.length; i += 65_536) padding.set(createHash('sha256').update(`${i}`).digest().subarray(0, Math.min(32, padding.length - i)), i);
  // Pseudo-random filler that does not compress (a camera's noise), made quickly.
  for (let i = 0; i < padding.length; i++) padding[i] = (padding[i]! ^ ((i * 2654435761) >>> 24)) & 0xff;
  return Buffer.concat([jpeg, padding]);
}

export const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The stored bytes of an attachment, read as a device user would (`token`: a bearer token). */
export async function readStored(serverUrl: string, token: string, collection: string, docId: string, sha256: string): Promise<{ status: number; bytes: Buffer; contentType: string | null }> {
  const response = await fetch(`${serverUrl}${pathOf(ATTACHMENTS.read, { collection, docId, sha256 })}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') };
}
