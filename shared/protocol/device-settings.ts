/**
 * `GET AGENCY.deviceSettings` (docs/protocol.md §29): the part of an agency's settings its devices
 * need, none of it secret. Devices keep the answer for offline use.
 */
import type { VocabularyFavourites } from '../nemsis/vocabularies.ts';
import type { AttachmentSettingsBody } from './attachment-settings.ts';

export interface DeviceSettingsBody {
  /** Per NEMSIS vocabulary (medication, procedure, …), the codes offered first in the crew's searchable pick-lists; `{}` when unset. */
  favourites: VocabularyFavourites;
  /** The photo size in force (the agency's, or the defaults) and the server's upload limit: what the capture resizes and compresses to. */
  attachments: AttachmentSettingsBody;
}
