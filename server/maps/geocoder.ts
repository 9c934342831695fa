/**
 * Address search and reverse lookup against a Nominatim- or Pelias-compatible geocoder, called by
 * the server for the apps (the `MAPS.geocode`/`MAPS.reverse` routes), never by a device directly:
 * the agency's API key stays on the server, the service need not allow the apps' origin (CORS),
 * devices reach one origin only (this server), and the agency's users' searches go through one
 * place that limits them. Answers are turned into one shape (`GeocodeHit`).
 */
import type { GeocodeHit } from '../../shared/protocol/index.ts';

export interface GeocoderTarget {
  url: string;
  kind: 'nominatim' | 'pelias';
  apiKey?: string | undefined;
}

export class GeocoderFailed extends Error {
  override name = 'GeocoderFailed';
  /** The HTTP status the geocoder answered, when it answered one (a 4xx will not change on a retry). */
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

const MAX_RESULTS = 6;

/** Either a timeout for this one request, or the signal of a caller that times attempts itself (ResilientCaller). */
export type Deadline = number | AbortSignal;

async function getJson(url: URL, deadline: Deadline): Promise<unknown> {
  let response: Response;
  const timeoutMs = typeof deadline === 'number' ? deadline : undefined;
  try {
    response = await fetch(url, { headers: { accept: 'application/json', 'user-agent': 'fieldsync (dispatch address search)' }, signal: typeof deadline === 'number' ? AbortSignal.timeout(deadline) : deadline });
  } catch (error) {
    throw new GeocoderFailed(`the geocoder at ${url.origin} did not answer (${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message})`);
  }
  if (!response.ok) throw new GeocoderFailed(`the geocoder at ${url.origin} answered ${response.status}`, response.status);
  try {
    return await response.json();
  } catch {
    throw new GeocoderFailed(`the geocoder at ${url.origin} answered something that is not JSON`);
  }
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);

function fromNominatim(raw: unknown): GeocodeHit | undefined {
  const r = (raw ?? {}) as Record<string, unknown>;
  const lat = Number(r['lat']);
  const lng = Number(r['lon']);
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) return undefined;
  const a = (r['address'] ?? {}) as Record<string, unknown>;
  const street = [text(a['house_number']), text(a['road']) ?? text(a['pedestrian']) ?? text(a['street'])].filter(Boolean).join(' ');
  const city = text(a['city']) ?? text(a['town']) ?? text(a['village']) ?? text(a['hamlet']) ?? text(a['municipality']);
  return {
    label: text(r['display_name']) ?? `${lat.toFixed(5)}, ${lng.toFixed(5)}`, lat, lng,
    ...(street ? { street } : {}), ...(city ? { city } : {}),
    ...(text(a['postcode']) ? { zip: text(a['postcode'])! } : {}), ...(text(a['state']) ? { state: text(a['state'])! } : {}),
  };
}

function fromPelias(raw: unknown): GeocodeHit | undefined {
  const f = (raw ?? {}) as { geometry?: { coordinates?: unknown[] }; properties?: Record<string, unknown> };
  const [lng, lat] = (f.geometry?.coordinates ?? []).map(Number);
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) return undefined;
  const p = f.properties ?? {};
  const street = [text(p['housenumber']), text(p['street'])].filter(Boolean).join(' ') || undefined;
  const city = text(p['locality']) ?? text(p['localadmin']);
  return {
    label: text(p['label']) ?? text(p['name']) ?? `${lat!.toFixed(5)}, ${lng!.toFixed(5)}`, lat: lat!, lng: lng!,
    ...(street ? { street } : {}), ...(city ? { city } : {}),
    ...(text(p['postalcode']) ? { zip: text(p['postalcode'])! } : {}), ...(text(p['region_a']) ?? text(p['region']) ? { state: (text(p['region_a']) ?? text(p['region']))! } : {}),
  };
}

function endpoint(target: GeocoderTarget, path: string, query: Record<string, string>): URL {
  const url = new URL(`${target.url.replace(/\/$/, '')}${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  if (target.apiKey) url.searchParams.set(target.kind === 'pelias' ? 'api_key' : 'key', target.apiKey);
  return url;
}

export async function geocode(target: GeocoderTarget, q: string, timeoutMs: Deadline, near?: { lat: number; lng: number }): Promise<GeocodeHit[]> {
  if (target.kind === 'pelias') {
    const body = await getJson(endpoint(target, '/v1/search', { text: q, size: String(MAX_RESULTS), ...(near ? { 'focus.point.lat': String(near.lat), 'focus.point.lon': String(near.lng) } : {}) }), timeoutMs);
    const features = Array.isArray((body as { features?: unknown }).features) ? (body as { features: unknown[] }).features : [];
    return features.map(fromPelias).filter((h): h is GeocodeHit => h !== undefined).slice(0, MAX_RESULTS);
  }
  const body = await getJson(endpoint(target, '/search', { q, format: 'jsonv2', addressdetails: '1', limit: String(MAX_RESULTS) }), timeoutMs);
  return (Array.isArray(body) ? body : []).map(fromNominatim).filter((h): h is GeocodeHit => h !== undefined).slice(0, MAX_RESULTS);
}

export async function reverseGeocode(target: GeocoderTarget, lat: number, lng: number, timeoutMs: number): Promise<GeocodeHit | null> {
  if (target.kind === 'pelias') {
    const body = await getJson(endpoint(target, '/v1/reverse', { 'point.lat': String(lat), 'point.lon': String(lng), size: '1' }), timeoutMs);
    const features = Array.isArray((body as { features?: unknown }).features) ? (body as { features: unknown[] }).features : [];
    return (features[0] ? fromPelias(features[0]) : undefined) ?? null;
  }
  const body = await getJson(endpoint(target, '/reverse', { lat: String(lat), lon: String(lng), format: 'jsonv2', addressdetails: '1' }), timeoutMs);
  // Nominatim answers 200 with `{ "error": "Unable to geocode" }` where there is no address (at sea).
  if ((body as { error?: unknown }).error !== undefined) return null;
  return fromNominatim(body) ?? null;
}

/** A driving route from an OSRM-compatible router (`/route/v1/driving/lng,lat;lng,lat`). */
export async function routeBetween(routerUrl: string, from: { lat: number; lng: number }, to: { lat: number; lng: number }, timeoutMs: number): Promise<{ line: [number, number][]; distanceM: number; durationS: number } | null> {
  const url = new URL(`${routerUrl.replace(/\/$/, '')}/route/v1/driving/${from.lng},${from.lat};${to.lng},${to.lat}`);
  url.searchParams.set('overview', 'full');
  url.searchParams.set('geometries', 'geojson');
  const body = (await getJson(url, timeoutMs).catch((error: Error) => { throw new GeocoderFailed(error.message.replace('geocoder', 'router')); })) as { code?: string; routes?: { geometry?: { coordinates?: unknown }; distance?: number; duration?: number }[] };
  if (body.code !== undefined && body.code !== 'Ok') return null;
  const route = body.routes?.[0];
  const coords = route?.geometry?.coordinates;
  if (!route || !Array.isArray(coords)) return null;
  const line = coords.filter((c): c is [number, number] => Array.isArray(c) && c.length >= 2 && c.every((n) => typeof n === 'number' && Number.isFinite(n))).map(([lng, lat]) => [lng, lat] as [number, number]);
  return { line, distanceM: Number(route.distance ?? 0), durationS: Number(route.duration ?? 0) };
}
