/**
 * A small offline map: an SVG plot of positions in an equirectangular projection fitted to the
 * points, with a grid and a scale bar. No tiles, so it works with no network at all.
 */
export interface MapMarker {
  id: string;
  lat: number;
  lng: number;
  label: string;
  kind: 'self' | 'dest' | 'unit' | 'incident';
  stale?: boolean;
}

/** Destinations and incidents below, vehicles on top. */
const LAYER: Record<MapMarker['kind'], number> = { dest: 0, incident: 0, unit: 1, self: 2 };

const W = 640;
const H = 420;
const PAD = 48;

function niceStep(span: number): number {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

export function OfflineMap(props: { markers: MapMarker[]; track?: { lat: number; lng: number }[]; label: string; testId?: string }) {
  const points = [...props.markers, ...(props.track ?? [])];
  if (points.length === 0) {
    return <div class="map empty" style="padding:24px" data-testid={props.testId}>No positions yet.</div>;
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
  return (
    <svg class="map" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.label} data-testid={props.testId}>
      <title>{props.label}</title>
      {lines.map(([x1, y1, x2, y2], i) => <line key={i} class="grid-line" x1={x1} y1={y1} x2={x2} y2={y2} />)}
      {props.track && props.track.length > 1 && (
        <polyline class="track" points={props.track.map((p) => `${x(p.lng).toFixed(1)},${y(p.lat).toFixed(1)}`).join(' ')} />
      )}
      {[...props.markers].sort((a, b) => LAYER[a.kind] - LAYER[b.kind]).map((m) => (
        <g key={m.id} data-testid={`marker-${m.kind}`} data-id={m.id} data-lat={m.lat.toFixed(6)} data-lng={m.lng.toFixed(6)}
          transform={`translate(${x(m.lng).toFixed(1)},${y(m.lat).toFixed(1)})`}>
          {m.kind === 'dest' || m.kind === 'incident'
            ? <rect class={m.kind} x={-9} y={-9} width={18} height={18} transform="rotate(45)" />
            : <circle class={`${m.kind}${m.stale ? ' stale' : ''}`} r={m.kind === 'self' ? 11 : 9} />}
          <text x={14} y={m.kind === 'dest' || m.kind === 'incident' ? 20 : -6} font-weight="700" class="label">{m.label}</text>
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
