/**
 * How large a photo is kept on the device and uploaded: the agency sets it (`attachments` in its
 * settings; the apps read it from `GET ATTACHMENTS.settings`, docs/protocol.md §25). The answer is
 * kept in localStorage (it is no patient data), so a device that starts offline compresses to the
 * agency's size it last read; until it has read it once, the defaults apply.
 */
import { ApiClient, ATTACHMENTS, PHOTO_SIZE_DEFAULTS, type AttachmentSettingsBody } from '../../../shared/protocol/index.ts';
import { getAccessToken } from '../../session/session.ts';

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

const STORAGE_KEY = 'fieldsync.photo-limits';

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

function stored(): PhotoLimits | undefined {
  try {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY);
    return raw ? photoLimitsOf(JSON.parse(raw) as Partial<AttachmentSettingsBody>) : undefined;
  } catch {
    return undefined;
  }
}

let current: PhotoLimits | undefined;

export function photoLimits(): PhotoLimits {
  current ??= stored() ?? DEFAULT_PHOTO_LIMITS;
  return current;
}

/** The agency's values, once read (a partial answer keeps the defaults for the rest). */
export function setPhotoLimits(body: Partial<AttachmentSettingsBody>): void {
  current = photoLimitsOf(body);
}

const api = new ApiClient({ token: getAccessToken });
let loading: Promise<void> | undefined;

/** Asks the server once per page (again after `refresh`); offline or without an answer, the stored values stay. */
export function loadPhotoLimits(refresh = false): Promise<void> {
  if (loading && !refresh) return loading;
  loading = (async () => {
    if (!navigator.onLine) return;
    try {
      const body = await api.json<AttachmentSettingsBody>(ATTACHMENTS.settings);
      setPhotoLimits(body);
      localStorage.setItem(STORAGE_KEY, JSON.stringify(body));
    } catch {
      // No answer (offline, signed out): what this device read last, or the defaults, stays.
    }
  })();
  return loading;
}
