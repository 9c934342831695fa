/**
 * The bodies of the map routes (`MAPS` in paths.ts, docs/protocol.md §27): what the server
 * answers and the apps read. Coordinates are WGS 84 decimal degrees, `lat` before `lng` in names,
 * `[lng, lat]` in GeoJSON-ordered arrays (route lines), as MapLibre and OSRM take them.
 */

/** A box on the map: west/south/east/north in degrees. */
export interface MapBounds { west: number; south: number; east: number; north: number }

/** The area a device keeps offline: a box and a band of zoom levels. */
export interface MapArea extends MapBounds { minZoom: number; maxZoom: number }

/** Where the map's picture comes from. */
export type MapTiles =
  /** The agency's own PMTiles archive, served by this server (`MAPS.archive`). */
  | {
    kind: 'archive';
    /** Changes whenever the archive file does: a device's saved area of another etag is stale. */
    etag: string;
    /** Raster (`png`, `jpeg`, `webp`) is drawn as it is; `mvt` (vector) with a plain style of its layers. */
    tileType: 'png' | 'jpeg' | 'webp' | 'mvt' | 'unknown';
    minZoom: number;
    maxZoom: number;
    bounds: MapBounds;
    center: { lat: number; lng: number; zoom: number };
    /** Vector archives: the layer names their tiles hold (from the archive's metadata). */
    vectorLayers?: string[];
    attribution?: string;
  }
  /** A MapLibre style at a URL the agency chose (its own tile server or a provider). */
  | { kind: 'style'; styleUrl: string; attribution?: string };

/** `GET MAPS.config`. */
export interface MapConfigBody {
  /** Absent: no tiles configured; the apps draw their grid map (it needs no network at all). */
  tiles?: MapTiles;
  /** The area MDTs and phones may save for offline use (archive tiles only). */
  offlineArea?: MapArea;
  /** Whether `MAPS.geocode`/`MAPS.reverse` and `MAPS.route` have a service behind them. */
  geocoder: boolean;
  router: boolean;
}

/** `GET MAPS.offlinePlan`: what saving the offline area downloads. */
export interface OfflinePlanBody {
  etag: string;
  area: MapArea;
  /** `[offset, length]` byte ranges of the archive, sorted, not overlapping. */
  ranges: [number, number][];
  /** The sum of the ranges' lengths: what the download costs. */
  bytes: number;
  tiles: number;
  /** The archive's whole size (for `Content-Range` answers made from the saved ranges). */
  archiveBytes: number;
}

/** One address found (`MAPS.geocode`, `MAPS.reverse`). */
export interface GeocodeHit {
  /** The geocoder's one-line label, for the list a person picks from. */
  label: string;
  lat: number;
  lng: number;
  street?: string;
  city?: string;
  zip?: string;
  state?: string;
}

export interface GeocodeBody { results: GeocodeHit[] }
export interface ReverseBody { result: GeocodeHit | null }

/** `GET MAPS.route`: a driving route as a line. */
export interface RouteBody {
  /** `[lng, lat]` pairs. */
  line: [number, number][];
  distanceM: number;
  durationS: number;
}

/** Query parameter names of the map routes. */
export const MAP_QUERY = { q: 'q', lat: 'lat', lng: 'lng', from: 'from', to: 'to' } as const;
