/**
 * How large the devices keep and upload photos: the agency's `attachments` setting (its admin
 * sets it with `PUT ADMIN.putAgency`), read by the apps as `attachments` of
 * `GET AGENCY.deviceSettings` (docs/protocol.md §29). One place for the defaults and bounds, so the server's check, its
 * answer and the device's fallback while it has never read the answer agree.
 */

/** `attachments` of what `GET AGENCY.deviceSettings` answers. */
export interface AttachmentSettingsBody {
  /** Longest edge of a stored photo, in pixels (the device resizes to it). */
  photoMaxEdgePx: number;
  /** Largest stored photo, in bytes (the device compresses until it fits). */
  photoMaxBytes: number;
  /** Longest edge of a photo's thumbnail, in pixels. */
  thumbnailEdgePx: number;
  /** The server's upload limit (ATTACHMENT_MAX_BYTES): larger bytes are refused, whatever the kind. */
  maxUploadBytes: number;
  /** `agency`: the agency set the photo size; `server-default`: it did not. */
  source: 'agency' | 'server-default';
}

export const PHOTO_SIZE_DEFAULTS = {
  // A face sheet or an insurance card stays legible at 1600 px; 800 KB uploads in seconds on 3G.
  photoMaxEdgePx: 1600,
  photoMaxBytes: 800_000,
  thumbnailEdgePx: 240,
} as const;

/** Bounds of the agency's values: below, a face sheet is unreadable; above, no photo needs it. */
export const PHOTO_MAX_EDGE_PX_RANGE = { min: 320, max: 8000 } as const;
export const PHOTO_MAX_BYTES_RANGE = { min: 50_000, max: 20_000_000 } as const;
