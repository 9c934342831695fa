/**
 * How large a photo is kept on the device and uploaded: the agency sets it (its settings, read by
 * any signed-in device), these are the values until the device has read them once.
 */
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
  // A face sheet or an insurance card stays legible at 1600 px; 800 KB uploads in seconds on 3G.
  maxEdgePx: 1600,
  maxBytes: 800_000,
  thumbnailEdgePx: 240,
  thumbnailMaxBytes: 30_000,
};

let current: PhotoLimits = DEFAULT_PHOTO_LIMITS;

export function photoLimits(): PhotoLimits {
  return current;
}

/** The agency's values, once read (a partial answer keeps the defaults for the rest). */
export function setPhotoLimits(limits: Partial<PhotoLimits>): void {
  current = { ...DEFAULT_PHOTO_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => typeof v === 'number' && v > 0)) };
}
