/**
 * An agency's attachment settings (`attachments` in its settings, set by its admin with
 * `PUT ADMIN.putAgency`): the size its devices resize and compress photos to. The devices read
 * the values in force as `attachments` of `GET AGENCY.deviceSettings` (device-settings-routes.ts).
 */
import { PHOTO_MAX_BYTES_RANGE, PHOTO_MAX_EDGE_PX_RANGE, PHOTO_SIZE_DEFAULTS, type AttachmentSettingsBody } from '../../shared/protocol/attachment-settings.ts';

export interface AgencyAttachmentSettings {
  /** Longest edge of a stored photo, in pixels. */
  photoMaxEdgePx: number;
  /** Largest stored photo, in bytes. */
  photoMaxBytes: number;
}

const KNOWN = ['photoMaxEdgePx', 'photoMaxBytes'];

/** Checks `attachments` of a PUT body; its problems go to `problems` (nothing is stored when there are any). */
export function parseAttachmentSettings(value: unknown, problems: string[]): AgencyAttachmentSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('attachments must be an object, e.g. {"photoMaxEdgePx": 1600, "photoMaxBytes": 800000}');
    return undefined;
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!KNOWN.includes(key)) problems.push(`attachments.${key} is not an attachment setting (known: ${KNOWN.join(', ')})`);
  const whole = (key: string, range: { min: number; max: number }, unit: string): number | undefined => {
    const n = input[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < range.min || n > range.max) {
      problems.push(`attachments.${key} must be a whole number of ${unit} from ${range.min} to ${range.max}`);
      return undefined;
    }
    return n;
  };
  const photoMaxEdgePx = whole('photoMaxEdgePx', PHOTO_MAX_EDGE_PX_RANGE, 'pixels');
  const photoMaxBytes = whole('photoMaxBytes', PHOTO_MAX_BYTES_RANGE, 'bytes');
  return photoMaxEdgePx !== undefined && photoMaxBytes !== undefined ? { photoMaxEdgePx, photoMaxBytes } : undefined;
}

/**
 * The photo size in force for an agency: its own, or the defaults; never above what the server
 * takes (`ATTACHMENT_MAX_BYTES`), so a device never makes a photo the upload would refuse.
 */
export function attachmentSettingsInForce(own: AgencyAttachmentSettings | undefined, maxUploadBytes: number): AttachmentSettingsBody {
  return {
    photoMaxEdgePx: own?.photoMaxEdgePx ?? PHOTO_SIZE_DEFAULTS.photoMaxEdgePx,
    photoMaxBytes: Math.min(own?.photoMaxBytes ?? PHOTO_SIZE_DEFAULTS.photoMaxBytes, maxUploadBytes),
    thumbnailEdgePx: PHOTO_SIZE_DEFAULTS.thumbnailEdgePx,
    maxUploadBytes,
    source: own ? 'agency' : 'server-default',
  };
}
