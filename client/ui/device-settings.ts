/**
 * The agency's device settings (`GET AGENCY.deviceSettings`, docs/protocol.md §29), one answer for
 * every app: the crew's favourites first in its pick-lists, the photo size the capture resizes
 * and compresses to. Read once per page while online (again on `refresh`) and kept in
 * localStorage (no patient data in it), so a device that starts offline uses what it read last;
 * until it has read it once, no favourites and the default photo size.
 */
import type { VocabularyFavourites } from '../../shared/nemsis/vocabularies.ts';
import { AGENCY, ApiClient, type DeviceSettingsBody } from '../../shared/protocol/index.ts';
import { getAccessToken } from '../session/session.ts';

const STORAGE_KEY = 'fieldsync.device-settings';

/** The favourites of an answer (anything that is not a list of strings is left out). */
export function favouritesOf(body: unknown): VocabularyFavourites {
  const raw = (body as Partial<DeviceSettingsBody> | null)?.favourites;
  if (!raw || typeof raw !== 'object') return {};
  return Object.fromEntries(Object.entries(raw).filter(([, codes]) => Array.isArray(codes) && codes.every((c) => typeof c === 'string'))) as VocabularyFavourites;
}

function stored(): Partial<DeviceSettingsBody> {
  try {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY);
    const body = raw ? JSON.parse(raw) as unknown : undefined;
    return body && typeof body === 'object' ? body as Partial<DeviceSettingsBody> : {};
  } catch {
    return {};
  }
}

let current: Partial<DeviceSettingsBody> | undefined;
const listeners = new Set<(settings: Partial<DeviceSettingsBody>) => void>();

/** What this device read last (possibly nothing yet: every part may be missing). */
export function deviceSettings(): Partial<DeviceSettingsBody> {
  current ??= stored();
  return current;
}

export function favourites(): VocabularyFavourites {
  return favouritesOf(deviceSettings());
}

/** Called with the settings whenever a fresher answer arrives; returns the unsubscribe. */
export function onDeviceSettings(listener: (settings: Partial<DeviceSettingsBody>) => void): () => void {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

const api = new ApiClient({ token: getAccessToken });
let loading: Promise<void> | undefined;

/** Asks the server once per page (again after `refresh`); offline or without an answer, what this device read last stays. */
export function loadDeviceSettings(refresh = false): Promise<void> {
  if (loading && !refresh) return loading;
  loading = (async () => {
    if (!navigator.onLine) return;
    try {
      const body = await api.json<DeviceSettingsBody>(AGENCY.deviceSettings);
      localStorage.setItem(STORAGE_KEY, JSON.stringify(body));
      current = body;
      for (const listener of listeners) listener(body);
    } catch {
      loading = undefined; // no answer (offline, signed out): asked again next time
    }
  })();
  return loading;
}
