/**
 * Making the bytes of an attachment on the device: a photo resized and compressed to the agency's
 * size (browser-image-compression, a maintained library made for exactly this: it decodes any
 * image the browser can, scales it, and lowers JPEG quality until the file fits), a small JPEG
 * thumbnail that other devices show first, and a signature pad's drawing as PNG.
 *
 * Compression runs on this page, not in the library's web worker: that worker loads its code from
 * a CDN, which a tablet offline cannot reach.
 */
import imageCompression from 'browser-image-compression';
import type { PhotoLimits } from './limits.ts';

/** The image types the server accepts (shared/schemas/attachments.ts). */
const STORED_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

export interface PreparedImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  thumbnail: { bytes: Uint8Array<ArrayBuffer>; contentType: string };
}

const bytesOf = async (blob: Blob): Promise<Uint8Array<ArrayBuffer>> => new Uint8Array(await blob.arrayBuffer());

/**
 * A picked or photographed file, ready to keep. `original`: kept byte for byte (an ECG strip or a
 * face sheet that must stay legible), when its type is one the server stores; the upload limit
 * still applies. Otherwise scaled to `maxEdgePx` and compressed to at most `maxBytes` as JPEG.
 */
export async function preparePhoto(file: Blob, limits: PhotoLimits, original = false): Promise<PreparedImage> {
  const keep = original && STORED_TYPES.has(file.type);
  const stored = keep ? file : await imageCompression(asFile(file), {
    maxSizeMB: limits.maxBytes / 1_000_000, maxWidthOrHeight: limits.maxEdgePx, useWebWorker: false, fileType: 'image/jpeg', initialQuality: 0.85,
  });
  const thumbnail = await imageCompression(asFile(file), {
    maxSizeMB: limits.thumbnailMaxBytes / 1_000_000, maxWidthOrHeight: limits.thumbnailEdgePx, useWebWorker: false, fileType: 'image/jpeg', initialQuality: 0.7,
  });
  return {
    bytes: await bytesOf(stored), contentType: keep ? file.type : 'image/jpeg',
    thumbnail: { bytes: await bytesOf(thumbnail), contentType: 'image/jpeg' },
  };
}

/** The library wants a File (it reads the name and date); a Blob from the camera gets one. */
function asFile(blob: Blob): File {
  return blob instanceof File ? blob : new File([blob], 'photo', { type: blob.type, lastModified: Date.now() });
}

/** A signature pad's canvas as PNG bytes (lossless: a signature is lines). */
export async function canvasPng(canvas: HTMLCanvasElement): Promise<Uint8Array<ArrayBuffer>> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('The signature could not be read from the pad. Sign again.');
  return bytesOf(blob);
}
