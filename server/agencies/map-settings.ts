/**
 * An agency's map settings (agency settings `map`): its tile archive or style, the area its MDTs
 * and phones keep offline, and the geocoder and router the server calls for it. Each setting left
 * out falls back to the server's (config.ts: MAP_TILE_ARCHIVE, MAP_STYLE_URL, GEOCODER_URL, …).
 */
import { TILE_ARCHIVE_NAME } from '../config.ts';
import type { MapArea } from '../../shared/protocol/index.ts';

export interface AgencyGeocoderSettings {
  /** A Nominatim- or Pelias-compatible service's base URL. */
  url: string;
  kind: 'nominatim' | 'pelias';
  /** Write-only: kept on the server, sent to the geocoder, never to a device or a GET. */
  apiKey?: string;
}

export interface AgencyMapSettings {
  /** A PMTiles file in DATA_DIR/tiles/ (its name only), served to the agency's users. */
  tileArchive?: string;
  /** A MapLibre style URL, used when no archive is set. */
  styleUrl?: string;
  attribution?: string;
  /** The box and zoom band MDTs and phones may save for offline use (archive tiles only). */
  offlineArea?: MapArea;
  geocoder?: AgencyGeocoderSettings;
  /** An OSRM-compatible routing service's base URL. */
  routerUrl?: string;
}

/** At most this many tiles in an offline area: a phone's storage and a download on one bar of signal. */
export const MAX_OFFLINE_TILES = 20_000;

function httpUrl(value: unknown, label: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try { url = typeof value === 'string' ? new URL(value.trim()) : undefined; } catch { url = undefined; }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problems.push(`${label} must be an http(s) URL`);
    return undefined;
  }
  return url.toString().replace(/\/$/, '');
}

/** How many tiles of zoom z a box covers (web mercator). */
export function tileRangeAt(area: Pick<MapArea, 'west' | 'south' | 'east' | 'north'>, z: number): { x0: number; x1: number; y0: number; y1: number } {
  const n = 2 ** z;
  const x = (lng: number) => Math.min(n - 1, Math.max(0, Math.floor(((lng + 180) / 360) * n)));
  const y = (lat: number) => {
    const r = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
    return Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)));
  };
  return { x0: x(area.west), x1: x(area.east), y0: y(area.north), y1: y(area.south) };
}

export function tilesInArea(area: MapArea): number {
  let count = 0;
  for (let z = area.minZoom; z <= area.maxZoom; z++) {
    const r = tileRangeAt(area, z);
    count += (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
  }
  return count;
}

/** Checks `map` of a PUT body; problems are added to `problems` (the caller refuses the whole body). */
export function parseMapSettings(input: unknown, problems: string[], previous?: AgencyMapSettings): AgencyMapSettings | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'object' || Array.isArray(input)) {
    problems.push('map must be an object ({ tileArchive?, styleUrl?, attribution?, offlineArea?, geocoder?, routerUrl? })');
    return undefined;
  }
  const m = input as Record<string, unknown>;
  const known = ['tileArchive', 'styleUrl', 'attribution', 'offlineArea', 'geocoder', 'routerUrl'];
  for (const key of Object.keys(m)) if (!known.includes(key)) problems.push(`map.${key} is not a map setting (known: ${known.join(', ')})`);
  const out: AgencyMapSettings = {};
  if (m['tileArchive'] !== undefined) {
    if (typeof m['tileArchive'] !== 'string' || !TILE_ARCHIVE_NAME.test(m['tileArchive'])) problems.push('map.tileArchive must be the file name of a PMTiles archive in the server\'s DATA_DIR/tiles (like city.pmtiles), no folders');
    else out.tileArchive = m['tileArchive'];
  }
  const style = httpUrl(m['styleUrl'], 'map.styleUrl', problems);
  if (style) out.styleUrl = style;
  if (m['attribution'] !== undefined) {
    if (typeof m['attribution'] !== 'string' || m['attribution'].length > 300) problems.push('map.attribution must be text of at most 300 characters');
    else out.attribution = m['attribution'];
  }
  const router = httpUrl(m['routerUrl'], 'map.routerUrl', problems);
  if (router) out.routerUrl = router;
  if (m['offlineArea'] !== undefined) {
    const a = (typeof m['offlineArea'] === 'object' && m['offlineArea'] !== null ? m['offlineArea'] : {}) as Record<string, unknown>;
    const num = (key: string, min: number, max: number, whole = false): number => {
      const v = a[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
        problems.push(`map.offlineArea.${key} must be a ${whole ? 'whole ' : ''}number from ${min} to ${max}`);
        return NaN;
      }
      return v;
    };
    const area: MapArea = {
      west: num('west', -180, 180), south: num('south', -85, 85), east: num('east', -180, 180), north: num('north', -85, 85),
      minZoom: num('minZoom', 0, 22, true), maxZoom: num('maxZoom', 0, 22, true),
    };
    if (area.west >= area.east) problems.push('map.offlineArea: west must be less than east');
    if (area.south >= area.north) problems.push('map.offlineArea: south must be less than north');
    if (area.minZoom > area.maxZoom) problems.push('map.offlineArea: minZoom must not be above maxZoom');
    if (Object.values(area).every(Number.isFinite) && area.west < area.east && area.south < area.north && area.minZoom <= area.maxZoom) {
      const tiles = tilesInArea(area);
      if (tiles > MAX_OFFLINE_TILES) problems.push(`map.offlineArea covers ${tiles} tiles; at most ${MAX_OFFLINE_TILES} fit on a device: make the box smaller or lower maxZoom`);
      else out.offlineArea = area;
    }
  }
  if (m['geocoder'] !== undefined && m['geocoder'] !== null) {
    const g = (typeof m['geocoder'] === 'object' ? m['geocoder'] : {}) as Record<string, unknown>;
    const url = httpUrl(g['url'], 'map.geocoder.url', problems);
    if (g['url'] === undefined) problems.push('map.geocoder.url is required (a Nominatim- or Pelias-compatible service)');
    const kind = g['kind'] ?? 'nominatim';
    if (kind !== 'nominatim' && kind !== 'pelias') problems.push('map.geocoder.kind must be "nominatim" or "pelias"');
    const apiKey = g['apiKey'] ?? previous?.geocoder?.apiKey;
    if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey.length > 500)) problems.push('map.geocoder.apiKey must be text of at most 500 characters');
    if (url && (kind === 'nominatim' || kind === 'pelias')) out.geocoder = { url, kind, ...(typeof apiKey === 'string' ? { apiKey } : {}) };
  }
  return out;
}

/** The map settings as GET answers them: the geocoder's key never, only whether one is set. */
export function publicMapSettings(map: AgencyMapSettings): Omit<AgencyMapSettings, 'geocoder'> & { geocoder?: Omit<AgencyGeocoderSettings, 'apiKey'> & { apiKeySet: boolean } } {
  const { geocoder, ...rest } = map;
  if (!geocoder) return rest;
  const { apiKey, ...g } = geocoder;
  return { ...rest, geocoder: { ...g, apiKeySet: apiKey !== undefined } };
}
