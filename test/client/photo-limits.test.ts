/**
 * Issue 18 gap: the capture compresses photos to the size the agency sets. The device turns the
 * answer of `GET ATTACHMENTS.settings` into its limits (defaults for anything missing) and gives
 * browser-image-compression exactly those (client/ui/attachments/limits.ts, used by image.ts).
 * The Chromium check (test/e2e/attachments-photo-size.test.ts) measures a real compressed photo.
 */
import { describe, expect, it } from 'vitest';
import { compressionOptions, DEFAULT_PHOTO_LIMITS, photoLimits, photoLimitsOf, setPhotoLimits } from '../../client/ui/attachments/limits.ts';
import { PHOTO_SIZE_DEFAULTS } from '../../shared/protocol/index.ts';

describe('the photo size the capture compresses to', () => {
  it('is the defaults until the agency\'s answer is read, then the agency\'s', () => {
    expect(photoLimits()).toEqual(DEFAULT_PHOTO_LIMITS);
    expect(compressionOptions(photoLimits()).photo).toMatchObject({ maxWidthOrHeight: PHOTO_SIZE_DEFAULTS.photoMaxEdgePx, maxSizeMB: PHOTO_SIZE_DEFAULTS.photoMaxBytes / 1_000_000, fileType: 'image/jpeg' });
    setPhotoLimits({ photoMaxEdgePx: 1024, photoMaxBytes: 300_000, thumbnailEdgePx: 240, maxUploadBytes: 15_000_000, source: 'agency' });
    const options = compressionOptions(photoLimits());
    expect(options.photo).toMatchObject({ maxWidthOrHeight: 1024, maxSizeMB: 0.3, fileType: 'image/jpeg', useWebWorker: false });
    expect(options.thumbnail).toMatchObject({ maxWidthOrHeight: 240, fileType: 'image/jpeg' });
  });

  it('keeps the default of a value missing or not a positive number', () => {
    expect(photoLimitsOf({ photoMaxEdgePx: 0, photoMaxBytes: 200_000 })).toEqual({ ...DEFAULT_PHOTO_LIMITS, maxBytes: 200_000 });
    expect(photoLimitsOf({})).toEqual(DEFAULT_PHOTO_LIMITS);
  });
});
