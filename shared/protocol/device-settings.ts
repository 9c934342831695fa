/**
 * `GET AGENCY.deviceSettings` (docs/protocol.md §29): the part of an agency's settings its devices
 * need, none of it secret. Devices keep the answer for offline use.
 */
import type { VocabularyFavourites } from '../nemsis/vocabularies.ts';

export interface DeviceSettingsBody {
  /** Per NEMSIS vocabulary (medication, procedure, …), the codes offered first in the crew's searchable pick-lists; `{}` when unset. */
  favourites: VocabularyFavourites;
}
