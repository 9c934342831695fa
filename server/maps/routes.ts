import type { FastifyInstance } from 'fastify';
import { ErrorCode, MAPS, type MapConfigBody } from '../../shared/protocol/index.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { archiveFile, describeArchive, InvalidArchive, offlinePlan, tileArchivePath } from './archive.ts';
import { geocode, GeocoderFailed, reverseGeocode, routeBetween } from './geocoder.ts';
import { sendRange } from './range.ts';
import { archiveSchema, geocodeSchema, mapConfigSchema, offlinePlanSchema, reverseSchema, routeSchema } from './route-schemas.ts';
import { mapSettingsFor, type EffectiveMapSettings } from './settings.ts';

export interface MapRoutesOptions {
  auth: Authenticator;
}

const coordinate = (raw: unknown, name: string, limit: number): number => {
  const value = typeof raw === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || Math.abs(value) > limit) throw new HttpError(400, ErrorCode.BAD_QUERY, `${name} must be decimal degrees between -${limit} and ${limit}, got "${String(raw ?? '').slice(0, 40)}".`);
  return value;
};

const point = (raw: unknown, name: string): { lat: number; lng: number } => {
  const [lat, lng, extra] = typeof raw === 'string' ? raw.split(',') : [];
  if (extra !== undefined) throw new HttpError(400, ErrorCode.BAD_QUERY, `${name} is one point, lat,lng (e.g. 39.95,-75.16).`);
  return { lat: coordinate(lat, `${name}'s latitude`, 90), lng: coordinate(lng, `${name}'s longitude`, 180) };
};

/**
 * `MAPS.*` under `MAPS_BASE_PATH`: every signed-in user of an agency may read its map, and only
 * its own: the archive, area, geocoder and router are the ones of the caller's agency settings.
 */
export async function mapRoutes(app: FastifyInstance, options: MapRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  const settingsOf = (tenantId: string) => mapSettingsFor(app.store, app.config, tenantId);
  const timeoutMs = app.config.integrationTimeoutMs;

  const archiveOf = async (settings: EffectiveMapSettings) => {
    if (!settings.tileArchive) throw new HttpError(404, ErrorCode.MAP_NOT_CONFIGURED, 'Your agency has no tile archive: an admin sets map.tileArchive in the agency settings (or the server MAP_TILE_ARCHIVE). The apps draw their grid map meanwhile.');
    const archive = await archiveFile(tileArchivePath(app.config.dataDir, settings.tileArchive));
    if (!archive) throw new HttpError(404, ErrorCode.MAP_NOT_CONFIGURED, `The tile archive ${settings.tileArchive} is not on the server (DATA_DIR/tiles/${settings.tileArchive}): put the file there, or change map.tileArchive.`);
    return archive;
  };

  app.get(MAPS.config.route, { schema: mapConfigSchema, ...CHECKED_BY_HANDLER }, async (request): Promise<MapConfigBody> => {
    const settings = await settingsOf(request.identity.tenantId);
    const body: MapConfigBody = { geocoder: settings.geocoder !== undefined, router: settings.routerUrl !== undefined };
    if (settings.tileArchive) {
      const archive = await archiveFile(tileArchivePath(app.config.dataDir, settings.tileArchive));
      if (archive) {
        try {
          body.tiles = await describeArchive(archive, settings.attribution);
          if (settings.offlineArea) body.offlineArea = settings.offlineArea;
        } catch (error) {
          if (!(error instanceof InvalidArchive)) throw error;
          // A broken archive must not take the apps' map away: they fall back to the grid.
          request.log.warn({ archive: settings.tileArchive, error: error.message }, 'maps: the tile archive cannot be read');
        }
      } else request.log.warn({ archive: settings.tileArchive }, 'maps: the tile archive file is missing');
    } else if (settings.styleUrl) {
      body.tiles = { kind: 'style', styleUrl: settings.styleUrl, ...(settings.attribution ? { attribution: settings.attribution } : {}) };
    }
    return body;
  });

  const serveArchive = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const archive = await archiveOf(await settingsOf(request.identity.tenantId));
    return sendRange(request, reply, archive);
  };
  app.get(MAPS.archive.route, { schema: archiveSchema, ...CHECKED_BY_HANDLER }, serveArchive);

  app.get(MAPS.offlinePlan.route, { schema: offlinePlanSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const settings = await settingsOf(request.identity.tenantId);
    const archive = await archiveOf(settings);
    if (!settings.offlineArea) throw new HttpError(404, ErrorCode.MAP_NOT_CONFIGURED, 'Your agency has no offline area: an admin sets map.offlineArea (a box and a zoom band) in the agency settings.');
    try {
      return await offlinePlan(archive, settings.offlineArea);
    } catch (error) {
      if (!(error instanceof InvalidArchive)) throw error;
      throw new HttpError(404, ErrorCode.MAP_NOT_CONFIGURED, `The tile archive cannot be read: ${error.message}.`);
    }
  });

  const geocoderOf = (settings: EffectiveMapSettings) => {
    if (!settings.geocoder) throw new HttpError(409, ErrorCode.MAP_NOT_CONFIGURED, 'Your agency has no geocoder: an admin sets map.geocoder (a Nominatim- or Pelias-compatible URL). Enter coordinates or click the map meanwhile.');
    return settings.geocoder;
  };
  const upstream = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof GeocoderFailed)) throw error;
      throw new HttpError(502, ErrorCode.UPSTREAM_FAILED, `${error.message}. Try again, or enter coordinates or click the map.`);
    }
  };

  app.get(MAPS.geocode.route, { schema: geocodeSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const q = (query['q'] ?? '').trim();
    if (q.length < 2 || q.length > 200) throw new HttpError(400, ErrorCode.BAD_QUERY, `q is the address to look for, 2 to 200 characters; got ${q.length}.`);
    const near = query['lat'] !== undefined && query['lng'] !== undefined ? { lat: coordinate(query['lat'], 'lat', 90), lng: coordinate(query['lng'], 'lng', 180) } : undefined;
    const target = geocoderOf(await settingsOf(request.identity.tenantId));
    return { results: await upstream(() => geocode(target, q, timeoutMs, near)) };
  });

  app.get(MAPS.reverse.route, { schema: reverseSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const lat = coordinate(query['lat'], 'lat', 90);
    const lng = coordinate(query['lng'], 'lng', 180);
    const target = geocoderOf(await settingsOf(request.identity.tenantId));
    return { result: await upstream(() => reverseGeocode(target, lat, lng, timeoutMs)) };
  });

  app.get(MAPS.route.route, { schema: routeSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const from = point(query['from'], 'from');
    const to = point(query['to'], 'to');
    const settings = await settingsOf(request.identity.tenantId);
    if (!settings.routerUrl) throw new HttpError(409, ErrorCode.MAP_NOT_CONFIGURED, 'Your agency has no router: an admin sets map.routerUrl (an OSRM-compatible service).');
    const found = await upstream(() => routeBetween(settings.routerUrl!, from, to, timeoutMs));
    return found ?? { line: null };
  });
}
