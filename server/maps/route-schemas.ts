import { AUTH_ERRORS, BEARER, errorResponses, objectOf, queryParams } from '../http/route-schema.ts';

/** The map routes (docs/protocol.md §27). */
export const mapConfigSchema = {
  summary: 'The map the caller\'s agency configured: tiles, offline area, geocoder and router available',
  tags: ['maps'], security: BEARER,
  response: { 200: objectOf('`MapConfigBody` (shared/protocol/maps.ts)'), ...errorResponses({ ...AUTH_ERRORS }) },
};

export const archiveSchema = {
  summary: 'The agency\'s tile archive (PMTiles), by byte range (Range: bytes=a-b answers 206)',
  tags: ['maps'], security: BEARER,
  response: {
    200: { description: 'The whole archive (no Range, or an If-Range that no longer matches)', content: { 'application/vnd.pmtiles': { schema: { type: 'string', format: 'binary' } } } },
    206: { description: 'The bytes asked for by Range (Content-Range, ETag)', content: { 'application/vnd.pmtiles': { schema: { type: 'string', format: 'binary' } } } },
    304: { description: 'If-None-Match names the archive\'s current ETag' },
    ...errorResponses({ ...AUTH_ERRORS, 404: 'The agency has no tile archive, or its file is missing (MAP_NOT_CONFIGURED)', 416: 'The range is outside the archive (RANGE_NOT_SATISFIABLE)' }),
  },
};

export const offlinePlanSchema = {
  summary: 'The byte ranges of the archive that hold the agency\'s offline area, and their size',
  tags: ['maps'], security: BEARER,
  response: {
    200: objectOf('`OfflinePlanBody` (shared/protocol/maps.ts)'),
    ...errorResponses({ ...AUTH_ERRORS, 404: 'No tile archive or no offline area is set (MAP_NOT_CONFIGURED)' }),
  },
};

const upstream = { 409: 'No geocoder or router is configured for the agency (MAP_NOT_CONFIGURED)', 502: 'The geocoder or router did not answer usefully (UPSTREAM_FAILED)' };

export const geocodeSchema = {
  summary: 'Address search through the agency\'s geocoder',
  tags: ['maps'], security: BEARER,
  querystring: queryParams({ q: { type: 'string', description: '2 to 200 characters' }, lat: { type: 'string' }, lng: { type: 'string' } }, ['q']),
  response: { 200: objectOf('`{ results: GeocodeHit[] }`'), ...errorResponses({ ...AUTH_ERRORS, 400: 'q missing or too long (BAD_QUERY)', ...upstream }) },
};

export const reverseSchema = {
  summary: 'The address at a point, through the agency\'s geocoder',
  tags: ['maps'], security: BEARER,
  querystring: queryParams({ lat: { type: 'string' }, lng: { type: 'string' } }, ['lat', 'lng']),
  response: { 200: objectOf('`{ result: GeocodeHit | null }`'), ...errorResponses({ ...AUTH_ERRORS, 400: 'lat/lng missing or not coordinates (BAD_QUERY)', ...upstream }) },
};

export const routeSchema = {
  summary: 'A driving route between two points, through the agency\'s OSRM-compatible router',
  tags: ['maps'], security: BEARER,
  querystring: queryParams({ from: { type: 'string', description: 'lat,lng' }, to: { type: 'string', description: 'lat,lng' } }, ['from', 'to']),
  response: { 200: objectOf('`RouteBody`, or `{ line: null }` when the router found none'), ...errorResponses({ ...AUTH_ERRORS, 400: 'from/to not lat,lng (BAD_QUERY)', ...upstream }) },
};
