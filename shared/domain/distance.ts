/** A position in degrees (WGS 84), as GPS points, units and job sites carry it. */
export interface LatLng {
  lat: number;
  lng: number;
}

/**
 * Great-circle distance in metres (haversine). The MDT uses it to thin GPS fixes and the server
 * to pick the nearest technician: one formula, so both sides measure the same metre.
 */
export function distanceM(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}
