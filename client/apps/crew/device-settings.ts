/**
 * The agency's device settings (`GET AGENCY.deviceSettings`, docs/protocol.md §29): read once per
 * page while online and kept in localStorage (no patient data in it), so a tablet that starts
 * offline still offers its agency's favourites first; until read once, no favourites.
 */
import type { VocabularyFavourites } from '../../../shared/nemsis/vocabularies.ts';
import { AGENCY, ApiClient, type DeviceSettingsBody } from '../../../shared/protocol/index.ts';
import { getAccessToken } from '../../session/session.ts';

const STORAGE_KEY = 'fieldsync.device-settings';

/** The favourites of an answer (anything that is not a list of strings is left out). */
export function favouritesOf(body: unknown): VocabularyFavourites {
  const raw = (body as Partial<DeviceSettingsBody> | null)?.favourites;
  if (!raw || typeof raw !== 'object') return {};
  return Object.fromEntries(Object.entries(raw).filter(([, codes]) => Array.isArray(codes) && codes.every((c) => typeof c === 'string'))) as VocabularyFavourites;
}

function stored(): VocabularyFavourites {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? favouritesOf(JSON.parse(raw)) : {};
  } catch {
    return {};
  }
}

let current: VocabularyFavourites | undefined;
const listeners = new Set<(f: VocabularyFavourites) => void>();

export function favourites(): VocabularyFavourites {
  current ??= stored();
  return current;
}

/** Called with the favourites whenever a fresher answer arrives; returns the unsubscribe. */
export function onFavourites(listener: (f: VocabularyFavourites) => void): () => void {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

const api = new ApiClient({ token: getAccessToken });
let loading: Promise<void> | undefined;

/** Asks the server once per page; offline or without an answer, what this device read last stays. */
export function loadDeviceSettings(): Promise<void> {
  loading ??= (async () => {
    if (!navigator.onLine) return;
    try {
      const body = await api.json<DeviceSettingsBody>(AGENCY.deviceSettings);
      localStorage.setItem(STORAGE_KEY, JSON.stringify(body));
      current = favouritesOf(body);
      for (const listener of listeners) listener(current);
    } catch {
      loading = undefined; // try again on the next form opened
    }
  })();
  return loading;
}
