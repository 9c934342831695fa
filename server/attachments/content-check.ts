/**
 * What the server checks of an upload's bytes once they are all there: their SHA-256 and that
 * they are the image type the device declared (magic numbers, not the declared name: a file
 * called a JPEG that is not one is refused before it can reach an export or a viewer).
 */
import { createHash } from 'node:crypto';
import type { AttachmentContentType } from '../../shared/schemas/attachments.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** The image type the bytes are, by their magic numbers; undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): AttachmentContentType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  // RIFF <size> WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}

/** The file extension NEMSIS wants as a file type (eOther.10/.17: "the extension of the file type"). */
export function extensionOf(contentType: string): string {
  return contentType === 'image/png' ? 'png' : contentType === 'image/webp' ? 'webp' : 'jpeg';
}
