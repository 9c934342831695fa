/**
 * The agency's map as the server describes it (`MAPS.config`): fetched once per page while
 * online and kept in localStorage (it is no patient data), so an MDT that starts with no network
 * still knows its tiles and draws them from the saved offline area.
 */
import { signal } from '@preact/signals';
import { ApiClient, MAPS, type MapConfigBody } from '../../shared/protocol/index.ts';
import { getAccessToken } from '../session/session.ts';

const STORAGE_KEY = 'fieldsync.map-config';

function stored(): MapConfigBody | undefined {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as MapConfigBody) : undefined;
  } catch {
    return undefined;
  }
}

/** undefined until known; `{ geocoder: false, router: false }` (no tiles) draws the grid map. */
export const mapConfig = signal<MapConfigBody | undefined>(stored());

export const mapApi = new ApiClient({ token: getAccessToken });

let loading: Promise<void> | undefined;

/** Asks the server once per page (again after `refresh`); offline, the stored answer stays. */
export function loadMapConfig(refresh = false): Promise<void> {
  if (loading && !refresh) return loading;
  loading = (async () => {
    if (!navigator.onLine) return;
    try {
      const body = await mapApi.json<MapConfigBody>(MAPS.config);
      mapConfig.value = body;
      localStorage.setItem(STORAGE_KEY, JSON.stringify(body));
    } catch {
      // No answer: the stored description (or the grid map) stays.
      if (mapConfig.value === undefined) mapConfig.value = { geocoder: false, router: false };
    }
  })();
  return loading;
}
