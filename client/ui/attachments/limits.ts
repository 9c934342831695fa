/**
 * How large a photo is kept on the device and uploaded: the agency sets it (`attachments` in its
 * settings; the apps read it as `attachments` of the device settings, client/ui/device-settings.ts,
 * docs/protocol.md §29), kept for offline use with the rest of them; until read once, the defaults.
 */
import { PHOTO_SIZE_DEFAULTS, type AttachmentSettingsBody } from '../../../shared/protocol/index.ts';
import { deviceSettings, loadDeviceSettings } from '../device-settings.ts';

export interface PhotoLimits {
  /** Longest edge of a stored photo, in pixels. */
  maxEdgePx: number;
  /** Largest stored photo, in bytes (compressed until it fits). */
  maxBytes: number;
  /** Longest edge of a thumbnail, in pixels. */
  thumbnailEdgePx: number;
  thumbnailMaxBytes: number;
}

export const DEFAULT_PHOTO_LIMITS: PhotoLimits = {
  maxEdgePx: PHOTO_SIZE_DEFAULTS.photoMaxEdgePx,
  maxBytes: PHOTO_SIZE_DEFAULTS.photoMaxBytes,
  thumbnailEdgePx: PHOTO_SIZE_DEFAULTS.thumbnailEdgePx,
  thumbnailMaxBytes: 30_000,
};

/** The device's limits from the server's answer (a value missing or not a positive number keeps its default). */
export function photoLimitsOf(body: Partial<AttachmentSettingsBody>): PhotoLimits {
  const positive = (n: unknown, fallback: number) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : fallback);
  return {
    maxEdgePx: positive(body.photoMaxEdgePx, DEFAULT_PHOTO_LIMITS.maxEdgePx),
    maxBytes: positive(body.photoMaxBytes, DEFAULT_PHOTO_LIMITS.maxBytes),
    thumbnailEdgePx: positive(body.thumbnailEdgePx, DEFAULT_PHOTO_LIMITS.thumbnailEdgePx),
    thumbnailMaxBytes: DEFAULT_PHOTO_LIMITS.thumbnailMaxBytes,
  };
}

/** What browser-image-compression is given for a stored photo and its thumbnail (image.ts). */
export function compressionOptions(limits: PhotoLimits) {
  return {
    photo: { maxSizeMB: limits.maxBytes / 1_000_000, maxWidthOrHeight: limits.maxEdgePx, useWebWorker: false, fileType: 'image/jpeg', initialQuality: 0.85 },
    thumbnail: { maxSizeMB: limits.thumbnailMaxBytes / 1_000_000, maxWidthOrHeight: limits.thumbnailEdgePx, useWebWorker: false, fileType: 'image/jpeg', initialQuality: 0.7 },
  };
}

let current: PhotoLimits | undefined;

export function photoLimits(): PhotoLimits {
  return current ?? photoLimitsOf(deviceSettings().attachments ?? {});
}

/** The agency's values, once read (a partial answer keeps the defaults for the rest). */
export function setPhotoLimits(body: Partial<AttachmentSettingsBody>): void {
  current = photoLimitsOf(body);
}

/** Asks the server once per page (again after `refresh`); offline or without an answer, the stored values stay. */
export async function loadPhotoLimits(refresh = false): Promise<void> {
  await loadDeviceSettings(refresh);
  const read = deviceSettings().attachments;
  if (read) setPhotoLimits(read);
}
