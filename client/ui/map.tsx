/**
 * The apps' map. Where the agency configured tiles (`MAPS.config`: its own PMTiles archive or a
 * style URL) it is a MapLibre map (tile-map.tsx, loaded only then, so an app's first paint never
 * waits for MapLibre); otherwise, or where the device has no WebGL, it is the grid map below: an
 * SVG plot of positions in an equirectangular projection fitted to the points, with a grid and a
 * scale bar, which needs no network at all. Both draw the same markers (status colours from
 * map-style.ts), a track, a route line, and both report a click as a point (`onPick`).
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { MAPS, type RouteBody } from '../../shared/protocol/index.ts';
import type { LatLng, MapProps, TileMapProps } from './map-types.ts';
import { loadMapConfig, mapApi, mapConfig } from './map-config.ts';
import { markerColour, type MarkerKind } from './map-style.ts';
import { online } from './runtime.ts';

export type { LatLng, MapMarker, MapProps, TileMapProps } from './map-types.ts';

/** Destinations and incidents below, vehicles on top. */
const LAYER: Record<MarkerKind, number> = { dest: 0, incident: 0, job: 0, unit: 1, technician: 1, self: 2 };

const W = 640;
const H = 420;
const PAD = 48;

function niceStep(span: number): number {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/** The route between two points through `MAPS.route`, fetched again when either moves by more than ~50 m. */
function useRoute(route: MapProps['route'], enabled: boolean): [number, number][] | undefined {
  const [line, setLine] = useState<[number, number][]>();
  const key = route ? [route.from.lat, route.from.lng, route.to.lat, route.to.lng].map((v) => v.toFixed(3)).join(',') : '';
  useEffect(() => {
    if (!route || !enabled || !online.value) return setLine(undefined);
    let stopped = false;
    mapApi.json<RouteBody | { line: null }>(MAPS.route, { query: { from: `${route.from.lat},${route.from.lng}`, to: `${route.to.lat},${route.to.lng}` } })
      .then((body) => { if (!stopped) setLine(body.line ?? undefined); }, () => { if (!stopped) setLine(undefined); });
    return () => { stopped = true; };
  }, [key, enabled, online.value]);
  return route ? line : undefined;
}

/** WebGL is what MapLibre draws with; a device without it gets the grid map. */
function webglAvailable(): boolean {
  try {
    const canvas = document.createElement('canvas');
    return Boolean(canvas.getContext('webgl2') ?? canvas.getContext('webgl'));
  } catch {
    return false;
  }
}

let tileMapModule: Promise<ComponentType<TileMapProps>> | undefined;

export function OfflineMap(props: MapProps) {
  useEffect(() => void loadMapConfig(), []);
  const config = mapConfig.value;
  const [TileMap, setTileMap] = useState<ComponentType<TileMapProps>>();
  const [failed, setFailed] = useState<string>();
  const tiles = failed ? undefined : config?.tiles;
  const routeLine = useRoute(props.route, config?.router === true);
  useEffect(() => {
    if (!tiles || TileMap) return;
    if (!webglAvailable()) return setFailed('this device cannot draw the tile map (no WebGL)');
    tileMapModule ??= import('./tile-map.tsx').then((m) => m.TileMap);
    tileMapModule.then((component) => setTileMap(() => component), (error: Error) => setFailed(`the map did not load (${error.message})`));
  }, [tiles?.kind]);
  if (tiles) {
    if (!TileMap) return <div class="map tile-map" data-testid={props.testId} data-map="loading" role="img" aria-label={props.label}><p class="meta" style="padding:24px">Loading map…</p></div>;
    return <TileMap {...props} tiles={tiles} routeLine={routeLine} onFail={setFailed} />;
  }
  return (
    <>
      <GridMap {...props} routeLine={routeLine} />
      {failed && <p class="meta" data-testid="map-fallback">Grid map: {failed}.</p>}
    </>
  );
}

/** The map with no tiles: positions on a grid, fitted to what there is to show. */
export function GridMap(props: MapProps & { routeLine?: [number, number][] | undefined }) {
  const routePoints = (props.routeLine ?? []).map(([lng, lat]) => ({ lat, lng }));
  const points: LatLng[] = [...props.markers, ...(props.track ?? []), ...routePoints];
  if (points.length === 0 && props.center) points.push(props.center);
  if (points.length === 0) {
    return <div class="map empty" style="padding:24px" data-testid={props.testId} data-map="grid">No positions yet.</div>;
  }
  let minLat = Math.min(...points.map((p) => p.lat));
  let maxLat = Math.max(...points.map((p) => p.lat));
  let minLng = Math.min(...points.map((p) => p.lng));
  let maxLng = Math.max(...points.map((p) => p.lng));
  const minSpan = 0.004;
  if (maxLat - minLat < minSpan) { const c = (maxLat + minLat) / 2; minLat = c - minSpan / 2; maxLat = c + minSpan / 2; }
  if (maxLng - minLng < minSpan) { const c = (maxLng + minLng) / 2; minLng = c - minSpan / 2; maxLng = c + minSpan / 2; }
  const kx = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const scale = Math.min((W - 2 * PAD) / ((maxLng - minLng) * kx), (H - 2 * PAD) / (maxLat - minLat));
  const cx = (minLng + maxLng) / 2;
  const cy = (minLat + maxLat) / 2;
  const x = (lng: number) => W / 2 + (lng - cx) * kx * scale;
  const y = (lat: number) => H / 2 - (lat - cy) * scale;
  const lngAt = (px: number) => cx + (px - W / 2) / (kx * scale);
  const latAt = (py: number) => cy - (py - H / 2) / scale;
  const step = niceStep(Math.max(lngAt(W) - lngAt(0), latAt(0) - latAt(H)));
  const lines: number[][] = [];
  for (let g = Math.ceil(lngAt(0) / step) * step; g < lngAt(W); g += step) lines.push([x(g), 0, x(g), H]);
  for (let g = Math.ceil(latAt(H) / step) * step; g < latAt(0); g += step) lines.push([0, y(g), W, y(g)]);
  const metresPerPx = 111_320 / scale;
  const barM = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000].find((m) => m / metresPerPx > 60) ?? 100000;
  const barPx = barM / metresPerPx;
  const pick = props.onPick && ((event: MouseEvent) => {
    const box = (event.currentTarget as SVGSVGElement).getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * W;
    const py = ((event.clientY - box.top) / box.height) * H;
    props.onPick!({ lat: Number(latAt(py).toFixed(6)), lng: Number(lngAt(px).toFixed(6)) });
  });
  const polyline = (pts: LatLng[]) => pts.map((p) => `${x(p.lng).toFixed(1)},${y(p.lat).toFixed(1)}`).join(' ');
  return (
    <svg class="map" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.label} data-testid={props.testId} data-map="grid" onClick={pick} style={pick ? 'cursor:crosshair' : undefined}>
      <title>{props.label}</title>
      {lines.map(([x1, y1, x2, y2], i) => <line key={i} class="grid-line" x1={x1} y1={y1} x2={x2} y2={y2} />)}
      {routePoints.length > 1 && <polyline class="route" data-testid="route-line" points={polyline(routePoints)} />}
      {props.track && props.track.length > 1 && <polyline class="track" points={polyline(props.track)} />}
      {[...props.markers].sort((a, b) => LAYER[a.kind] - LAYER[b.kind]).map((m) => (
        <g key={m.id} data-testid={`marker-${m.kind}`} data-id={m.id} data-lat={m.lat.toFixed(6)} data-lng={m.lng.toFixed(6)} data-status={m.status}
          transform={`translate(${x(m.lng).toFixed(1)},${y(m.lat).toFixed(1)})`}>
          {m.kind === 'dest' || m.kind === 'incident' || m.kind === 'job'
            ? <rect class={m.kind} x={-9} y={-9} width={18} height={18} transform="rotate(45)" style={m.status ? `fill:${markerColour(m.kind, m.status, m.stale)}` : undefined} />
            : <circle class={`${m.kind}${m.stale ? ' stale' : ''}`} r={m.kind === 'self' ? 11 : 9} style={m.status && !m.stale ? `fill:${markerColour(m.kind, m.status)}` : undefined} />}
          <text x={14} y={m.kind === 'dest' || m.kind === 'incident' || m.kind === 'job' ? 20 : -6} font-weight="700" class="label">{m.label}</text>
        </g>
      ))}
      <g transform={`translate(${PAD / 2},${H - PAD / 2})`}>
        <line x1={0} y1={0} x2={barPx} y2={0} stroke="currentColor" stroke-width={4} />
        <text x={0} y={-8}>{barM >= 1000 ? `${barM / 1000} km` : `${barM} m`}</text>
      </g>
      <text x={W - 24} y={24} font-weight="700">N↑</text>
    </svg>
  );
}
