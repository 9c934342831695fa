/** What the apps' map takes (map.tsx draws it; tile-map.tsx is its MapLibre view). */
import type { MapTiles } from '../../shared/protocol/index.ts';
import type { MarkerKind } from './map-style.ts';

export interface MapMarker {
  id: string;
  lat: number;
  lng: number;
  label: string;
  kind: MarkerKind;
  /** A unit's or job's status: its colour. */
  status?: string;
  stale?: boolean;
}

export interface LatLng { lat: number; lng: number }

export interface MapProps {
  markers: MapMarker[];
  track?: LatLng[];
  label: string;
  testId?: string;
  /** Draw the driving route between these two points, when the agency has a router and the device is online. */
  route?: { from: LatLng; to: LatLng } | undefined;
  /** A click on the map: the point clicked. */
  onPick?: (point: LatLng) => void;
  /** Where to look when there are no markers yet (e.g. a new incident's form). */
  center?: LatLng | undefined;
}

/** The props the lazily loaded MapLibre view takes (tile-map.tsx). */
export interface TileMapProps extends Omit<MapProps, 'route'> {
  tiles: MapTiles;
  routeLine?: [number, number][] | undefined;
  onFail: (reason: string) => void;
}

