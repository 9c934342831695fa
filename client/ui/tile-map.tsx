/**
 * The MapLibre view (loaded by map.tsx only where the agency has tiles). The agency's own archive
 * is read through the `pmtiles` protocol with a source that sends the user's token with each
 * range request, so the archive is served to the agency's users only; the service worker answers
 * the same requests from the saved offline area when the network is gone (sw/map-area.ts).
 * Markers, the track and the route are GeoJSON layers (circles coloured by status): 500 units
 * moving every second stay one `setData` each, where DOM markers would be 500 elements.
 */
import type { GeoJSONSource, Map as MapLibreMap, StyleSpecification } from 'maplibre-gl';
// MapLibre's CSP build: the same library without its worker inlined (the worker comes from the
// app's origin below), so the map's chunk does not carry the worker twice.
import maplibregl from 'maplibre-gl/dist/maplibre-gl-csp.js';
import 'maplibre-gl/dist/maplibre-gl.css';
// The worker as a file of the app's own origin: the server's Content-Security-Policy (script-src
// 'self') refuses the blob: worker MapLibre makes by default.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-csp-worker.js?url';
import { EtagMismatch, PMTiles, Protocol, type RangeResponse, type Source } from 'pmtiles';
import { useEffect, useRef, useState } from 'preact/hooks';
import { MAPS, pathOf, type MapTiles } from '../../shared/protocol/index.ts';
import { getAccessToken } from '../session/session.ts';
import type { MapMarker, TileMapProps } from './map-types.ts';
import { markerColour } from './map-style.ts';

/** The key the archive is known by in the pmtiles protocol (`pmtiles://fieldsync-archive`). */
const ARCHIVE_KEY = 'fieldsync-archive';

/** Range requests for the agency's archive, with the signed-in user's token. */
class AgencyArchiveSource implements Source {
  getKey(): string { return ARCHIVE_KEY; }
  async getBytes(offset: number, length: number, signal?: AbortSignal, etag?: string): Promise<RangeResponse> {
    // Offline the token may not refresh: the service worker answers from the saved area without one.
    const token = await getAccessToken().catch(() => undefined);
    const response = await fetch(pathOf(MAPS.archive), {
      headers: { range: `bytes=${offset}-${offset + length - 1}`, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(signal ? { signal } : {}),
    });
    if (response.status === 416 && etag) throw new EtagMismatch();
    if (!response.ok) throw new Error(`the tile archive answered ${response.status}`);
    const got = response.headers.get('etag') ?? undefined;
    if (etag && got && got !== etag) throw new EtagMismatch();
    return { data: await response.arrayBuffer(), ...(got ? { etag: got } : {}) };
  }
}

maplibregl.setWorkerUrl(workerUrl);

let protocol: Protocol | undefined;
function archiveUrl(): string {
  if (!protocol) {
    protocol = new Protocol();
    maplibregl.addProtocol('pmtiles', protocol.tile);
    protocol.add(new PMTiles(new AgencyArchiveSource()));
  }
  return `pmtiles://${ARCHIVE_KEY}`;
}

/** A style for the archive: raster tiles as they are; vector tiles as plain fills, lines and points of every layer. */
function styleOf(tiles: MapTiles): StyleSpecification | string {
  if (tiles.kind === 'style') return tiles.styleUrl;
  const attribution = tiles.attribution ? { attribution: tiles.attribution } : {};
  const background = { id: 'background', type: 'background' as const, paint: { 'background-color': '#e8eaed' } };
  if (tiles.tileType !== 'mvt') {
    return { version: 8, sources: { base: { type: 'raster', url: archiveUrl(), tileSize: 256, ...attribution } }, layers: [background, { id: 'base', type: 'raster', source: 'base' }] };
  }
  const layers: StyleSpecification['layers'] = [background];
  for (const layer of tiles.vectorLayers ?? []) {
    layers.push({ id: `${layer}-fill`, type: 'fill', source: 'base', 'source-layer': layer, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#d7dbe0', 'fill-outline-color': '#b0b6bd' } });
    layers.push({ id: `${layer}-line`, type: 'line', source: 'base', 'source-layer': layer, filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#ffffff', 'line-width': 2 } });
  }
  return { version: 8, sources: { base: { type: 'vector', url: archiveUrl(), ...attribution } }, layers };
}

const REDRAW_MS = 250;

const empty = { type: 'FeatureCollection' as const, features: [] };

function markerFeatures(markers: MapMarker[]) {
  return {
    type: 'FeatureCollection' as const,
    features: markers.map((m) => ({
      type: 'Feature' as const, id: m.id,
      geometry: { type: 'Point' as const, coordinates: [m.lng, m.lat] },
      properties: { id: m.id, label: m.label, kind: m.kind, colour: markerColour(m.kind, m.status, m.stale), big: m.kind === 'self' || m.kind === 'dest' || m.kind === 'incident' ? 1 : 0 },
    })),
  };
}

const line = (coordinates: [number, number][]) => ({ type: 'Feature' as const, properties: {}, geometry: { type: 'LineString' as const, coordinates } });

export function TileMap(props: TileMapProps) {
  const container = useRef<HTMLDivElement>(null);
  const map = useRef<MapLibreMap | undefined>(undefined);
  const latest = useRef(props);
  latest.current = props;
  const [state, setState] = useState<'loading' | 'loaded' | 'idle'>('loading');
  const fitted = useRef(false);

  useEffect(() => {
    if (!container.current) return;
    const tiles = props.tiles;
    const start = tiles.kind === 'archive' ? tiles.center : { lat: 0, lng: 0, zoom: 1 };
    let instance: MapLibreMap;
    try {
      instance = new maplibregl.Map({
        container: container.current, style: styleOf(tiles), center: [start.lng, start.lat], zoom: start.zoom,
        ...(tiles.kind === 'archive' ? { minZoom: Math.max(0, tiles.minZoom - 2), maxZoom: tiles.maxZoom + 3 } : {}),
        attributionControl: { compact: true }, dragRotate: false, pitchWithRotate: false,
      });
    } catch (error) {
      props.onFail(`this device cannot draw the tile map (${(error as Error).message})`);
      return;
    }
    map.current = instance;
    instance.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    instance.on('load', () => {
      instance.addSource('fs-route', { type: 'geojson', data: empty });
      instance.addSource('fs-track', { type: 'geojson', data: empty });
      instance.addSource('fs-markers', { type: 'geojson', data: empty });
      instance.addLayer({ id: 'fs-route', type: 'line', source: 'fs-route', paint: { 'line-color': '#0b57d0', 'line-width': 5, 'line-opacity': 0.75 } });
      instance.addLayer({ id: 'fs-track', type: 'line', source: 'fs-track', paint: { 'line-color': '#6a1b9a', 'line-width': 3, 'line-dasharray': [2, 1] } });
      instance.addLayer({
        id: 'fs-markers', type: 'circle', source: 'fs-markers',
        paint: { 'circle-color': ['get', 'colour'], 'circle-radius': ['case', ['==', ['get', 'big'], 1], 10, 7], 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
      });
      setState('loaded');
      update(instance);
    });
    instance.on('idle', () => setState(instance.areTilesLoaded() ? 'idle' : 'loaded'));
    instance.on('click', (event) => {
      const hit = instance.queryRenderedFeatures(event.point, { layers: ['fs-markers'] })[0];
      if (hit) {
        new maplibregl.Popup({ closeButton: false }).setLngLat(event.lngLat).setText(String(hit.properties['label'])).addTo(instance);
        return;
      }
      latest.current.onPick?.({ lat: Number(event.lngLat.lat.toFixed(6)), lng: Number(event.lngLat.lng.toFixed(6)) });
    });
    instance.on('error', (event) => console.warn('fieldsync map:', event.error?.message ?? event));
    return () => {
      instance.remove();
      map.current = undefined;
    };
  }, [props.tiles.kind === 'archive' ? props.tiles.etag : props.tiles.kind === 'style' ? props.tiles.styleUrl : '']);

  const update = (instance: MapLibreMap) => {
    const p = latest.current;
    (instance.getSource('fs-markers') as GeoJSONSource | undefined)?.setData(markerFeatures(p.markers));
    (instance.getSource('fs-track') as GeoJSONSource | undefined)?.setData(p.track && p.track.length > 1 ? line(p.track.map((t) => [t.lng, t.lat])) : empty);
    (instance.getSource('fs-route') as GeoJSONSource | undefined)?.setData(p.routeLine && p.routeLine.length > 1 ? line(p.routeLine) : empty);
    // The first markers decide the view; after that the person pans and zooms as they like.
    const points = [...p.markers, ...(p.track ?? [])];
    if (!fitted.current && points.length > 0) {
      fitted.current = true;
      const bounds = new maplibregl.LngLatBounds();
      for (const pt of points) bounds.extend([pt.lng, pt.lat]);
      const maxZoom = p.tiles.kind === 'archive' ? p.tiles.maxZoom : 16;
      instance.fitBounds(bounds, { padding: 48, maxZoom, duration: 0 });
    } else if (!fitted.current && p.center) {
      fitted.current = true;
      instance.jumpTo({ center: [p.center.lng, p.center.lat] });
    }
  };

  // At most four redraws a second: a console with 500 units gets 500 positions a second, and each
  // re-render hands new marker arrays; the newest props are drawn (latest.current).
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const drawnAt = useRef(0);
  useEffect(() => {
    if (!map.current || state === 'loading' || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      drawnAt.current = Date.now();
      if (map.current) update(map.current);
    }, Math.max(0, REDRAW_MS - (Date.now() - drawnAt.current)));
  }, [props.markers, props.track, props.routeLine, state]);
  useEffect(() => () => clearTimeout(pending.current), []);

  const sorted = [...props.markers];
  return (
    <div class="map tile-map" data-testid={props.testId} data-map="tiles" data-state={state} role="region" aria-label={props.label}>
      <div ref={container} style="position:absolute;inset:0" />
      {/* What the picture shows, for screen readers and for reading the markers back. */}
      <ul class="visually-hidden" aria-label={props.label}>
        {sorted.map((m) => <li key={m.id} data-testid={`marker-${m.kind}`} data-id={m.id} data-lat={m.lat.toFixed(6)} data-lng={m.lng.toFixed(6)} data-status={m.status}>{m.label}</li>)}
        {props.routeLine && props.routeLine.length > 1 && <li data-testid="route-line">Route drawn</li>}
      </ul>
    </div>
  );
}
