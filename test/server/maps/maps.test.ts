/**
 * Issue 20, maps on the server: an agency's own tile archive served by byte range to its users
 * only; the offline area's byte ranges; address search, reverse lookup and routes through the
 * server to stand-in services (real HTTP). Real Fastify and SQLite.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PMTiles, type RangeResponse, type Source } from 'pmtiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, MAPS, pathOf, type MapConfigBody, type OfflinePlanBody, type Role } from '../../../shared/protocol/index.ts';
import { nominatimStandIn, osrmStandIn, type StandIn } from '../../helpers/geo-stand-ins.ts';
import { tileOf, writeTestArchive } from '../../../server/maps/pmtiles-writer.ts';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/server.ts';

const A = 'agency-maps-a';
const B = 'agency-maps-b';
const token = (role: Role, tenantId: string) => devToken({ tenantId, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M7' } : {}) });
const CENTER = { lat: 41.3948, lng: -73.454 };

let server: TestServer;
let geocoder: StandIn;
let router: StandIn;
let archiveBytes: Buffer;

async function get(p: string, role: Role, tenantId: string, headers: Record<string, string> = {}) {
  return fetch(server.url + p, { headers: { authorization: `Bearer ${token(role, tenantId)}`, ...headers } });
}

beforeAll(async () => {
  geocoder = await nominatimStandIn([
    { label: '12 Elm Street, Danbury, 06810', lat: 41.3951, lng: -73.4530, houseNumber: '12', road: 'Elm Street', city: 'Danbury', postcode: '06810' },
    { label: '40 Main Street, Danbury, 06810', lat: 41.3990, lng: -73.4520, houseNumber: '40', road: 'Main Street', city: 'Danbury', postcode: '06810' },
  ]);
  router = await osrmStandIn();
  const dataDir = makeDataDir('fieldsync-maps');
  const file = path.join(dataDir, 'tiles', 'danbury.pmtiles');
  writeTestArchive(file, CENTER, [10, 13], [200, 30, 120]);
  archiveBytes = readFileSync(file);
  server = await startTestServer({ dataDir });
  const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
    method: 'PUT', headers: { authorization: `Bearer ${token('admin', A)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...demoAgencySettings(), map: {
      tileArchive: 'danbury.pmtiles', offlineArea: { west: -73.47, south: 41.385, east: -73.44, north: 41.405, minZoom: 10, maxZoom: 13 },
      geocoder: { url: geocoder.url, kind: 'nominatim', apiKey: 'secret-key-1' }, routerUrl: router.url,
    } }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
});
afterAll(async () => {
  await server?.close();
  await geocoder?.close();
  await router?.close();
});

describe('maps: the agency\'s tile archive', () => {
  it('the config names the archive, its zooms and the offline area; another agency has none (grid map)', async () => {
    const a = await (await get(pathOf(MAPS.config), 'dispatcher', A)).json() as MapConfigBody;
    expect(a.tiles).toMatchObject({ kind: 'archive', tileType: 'png', minZoom: 10, maxZoom: 13 });
    expect(a.offlineArea).toMatchObject({ minZoom: 10, maxZoom: 13 });
    expect(a).toMatchObject({ geocoder: true, router: true });
    const b = await (await get(pathOf(MAPS.config), 'dispatcher', B)).json() as MapConfigBody;
    expect(b).toEqual({ geocoder: false, router: false });
  });

  it('serves byte ranges (206, Accept-Ranges, ETag) to the agency\'s users only', async () => {
    const response = await get(pathOf(MAPS.archive), 'crew', A, { range: 'bytes=0-126' });
    expect(response.status).toBe(206);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-range')).toBe(`bytes 0-126/${archiveBytes.length}`);
    const etag = response.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Buffer.from(await response.arrayBuffer()).equals(archiveBytes.subarray(0, 127))).toBe(true);
    const tail = await get(pathOf(MAPS.archive), 'technician', A, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(archiveBytes.subarray(archiveBytes.length - 10))).toBe(true);
    const whole = await get(pathOf(MAPS.archive), 'crew', A);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(archiveBytes)).toBe(true);
    const outside = await get(pathOf(MAPS.archive), 'crew', A, { range: `bytes=${archiveBytes.length}-` });
    expect(outside.status).toBe(416);
    expect((await outside.json() as { error: { code: string } }).error.code).toBe('RANGE_NOT_SATISFIABLE');
    expect(outside.headers.get('content-range')).toBe(`bytes */${archiveBytes.length}`);
    const anonymous = await fetch(server.url + pathOf(MAPS.archive), { headers: { range: 'bytes=0-10' } });
    expect(anonymous.status).toBe(401);
    const other = await get(pathOf(MAPS.archive), 'crew', B, { range: 'bytes=0-10' });
    expect(other.status).toBe(404);
    expect((await other.json() as { error: { code: string } }).error.code).toBe('MAP_NOT_CONFIGURED');
  });

  it('the offline plan holds every range a reader needs to draw the area', async () => {
    const plan = await (await get(pathOf(MAPS.offlinePlan), 'technician', A)).json() as OfflinePlanBody;
    expect(plan.tiles).toBeGreaterThanOrEqual(4); // at least one tile at each of zooms 10-13
    expect(plan.bytes).toBe(plan.ranges.reduce((s, [, l]) => s + l, 0));
    expect(plan.archiveBytes).toBe(archiveBytes.length);
    // A reader given only the planned ranges finds every tile of the area at every zoom of the band.
    class PlannedOnly implements Source {
      getKey() { return 'planned'; }
      async getBytes(offset: number, length: number): Promise<RangeResponse> {
        const range = plan.ranges.find(([o, l]) => offset >= o && offset + length <= o + l)
          ?? plan.ranges.find(([o, l]) => offset >= o && offset < o + l && offset + length >= archiveBytes.length && o + l === archiveBytes.length);
        if (!range) throw new Error(`range ${offset}+${length} is not in the plan`);
        const end = Math.min(offset + length, archiveBytes.length);
        return { data: new Uint8Array(archiveBytes.subarray(offset, end)).buffer };
      }
    }
    const reader = new PMTiles(new PlannedOnly());
    for (const z of [10, 11, 12, 13]) {
      const t = tileOf(CENTER.lat, CENTER.lng, z);
      expect((await reader.getZxy(z, t.x, t.y))?.data.byteLength ?? 0, `tile ${z}/${t.x}/${t.y}`).toBeGreaterThan(0);
    }
    // A tile outside the area is not in the plan (it would need the network).
    const inArchive = tileOf(CENTER.lat, CENTER.lng, 13);
    await expect(reader.getZxy(13, inArchive.x + 2, inArchive.y)).rejects.toThrow(/not in the plan/);
  });
});

describe('maps: geocoder and router through the server', () => {
  it('searches addresses and looks one up at a point, with the agency\'s key kept on the server', async () => {
    const found = await (await get(`${pathOf(MAPS.geocode)}?q=${encodeURIComponent('12 elm')}`, 'dispatcher', A)).json() as { results: { label: string; lat: number; street?: string; city?: string; zip?: string }[] };
    expect(found.results).toEqual([expect.objectContaining({ label: '12 Elm Street, Danbury, 06810', lat: 41.3951, street: '12 Elm Street', city: 'Danbury', zip: '06810' })]);
    expect(geocoder.requests.at(-1)?.searchParams.get('key')).toBe('secret-key-1');
    const reverse = await (await get(`${pathOf(MAPS.reverse)}?lat=41.3989&lng=-73.4521`, 'crew', A)).json() as { result: { street?: string } };
    expect(reverse.result.street).toBe('40 Main Street');
    // The key is never shown back, not even to the admin.
    const settings = await (await get(pathOf(ADMIN.agency), 'admin', A)).json() as { settings: { map: { geocoder: Record<string, unknown> } } };
    expect(settings.settings.map.geocoder).toEqual({ url: geocoder.url, kind: 'nominatim', apiKeySet: true });
  });

  it('refuses bad queries and says when no geocoder is configured', async () => {
    const short = await get(`${pathOf(MAPS.geocode)}?q=a`, 'dispatcher', A);
    expect(short.status).toBe(400);
    const badPoint = await get(`${pathOf(MAPS.reverse)}?lat=91&lng=0`, 'dispatcher', A);
    expect(badPoint.status).toBe(400);
    const none = await get(`${pathOf(MAPS.geocode)}?q=elm`, 'dispatcher', B);
    expect(none.status).toBe(409);
    expect((await none.json() as { error: { code: string } }).error.code).toBe('MAP_NOT_CONFIGURED');
  });

  it('a geocoder that is down is a 502 UPSTREAM_FAILED naming what to do', async () => {
    await geocoder.close();
    const down = await get(`${pathOf(MAPS.geocode)}?q=elm`, 'dispatcher', A);
    expect(down.status).toBe(502);
    const body = await down.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UPSTREAM_FAILED');
    expect(body.error.message).toContain('click the map');
  });

  it('routes between two points through the router', async () => {
    const route = await (await get(`${pathOf(MAPS.route)}?from=41.39,-73.45&to=41.40,-73.46`, 'crew', A)).json() as { line: [number, number][]; distanceM: number };
    expect(route.line).toEqual([[-73.45, 41.39], [-73.455, 41.39], [-73.46, 41.4]]);
    expect(route.distanceM).toBe(1234.5);
  });
});
