/**
 * The demo data `npm start` writes for the agency "demo": after the seed and the hooks settle,
 * each role's app pulls something to show through the real sync routes, and seeding again
 * changes nothing. Real server, real SQLite store, the real workflow catalogue with the
 * outside systems unconfigured (as on a fresh development server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import path from 'node:path';
import { PMTiles, type Source } from 'pmtiles';
import { EPCRS, MAPS, pathOf } from '../../../shared/protocol/index.ts';
import { seedDemoTenant } from '../../../server/auth/demo.ts';
import { seedDemoData } from '../../../server/demo/index.ts';
import { PLACES } from '../../../server/demo/places.ts';
import { tileOf } from '../../../server/maps/pmtiles-writer.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { settled, xsdDir } from '../hooks/support.ts';

type Doc = Record<string, unknown> & { id: string };

let server: TestServer;

async function pull(token: string, collection: string): Promise<Doc[]> {
  const query = new URLSearchParams({ schemaVersion: String(schemaVersionOf(collection)), limit: '1000' });
  const response = await fetch(`${server.url}/api/sync/${collection}/pull?${query}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status, `${collection} pull with ${token}`).toBe(200);
  return ((await response.json()) as { documents: Doc[] }).documents;
}

/** Every stored version in commit order, to see whether anything was written. */
async function lastSeqs(): Promise<Record<string, number>> {
  const seqs: Record<string, number> = {};
  for (const collection of ['units', 'incidents', 'epcrs', 'billing_records', 'claims', 'orders', 'tickets', 'jobs', 'gps_points', 'unit_status_events']) {
    const page = await server.app.store.pull({ collection, tenantId: 'demo', afterSeq: 0, limit: 10_000 });
    seqs[collection] = page.lastSeq;
  }
  return seqs;
}

beforeAll(async () => {
  server = await startTestServer({ nemsisXsdDir: xsdDir, hookRunner: { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50 } });
  expect((await seedDemoTenant(server.app.identities)).created).toBe(true);
  expect(await seedDemoData(server.app, { dataDir: server.dataDir })).toEqual({ claimed: true });
  await settled(server);
});
afterAll(async () => { await server.close(); });

describe('demo data', () => {
  it('crew M1 sees its active call and the report stub the hooks made for it, and its finished report', async () => {
    const token = 'dev:demo:crew:x:M1';
    const incidents = await pull(token, 'incidents');
    const active = incidents.find((i) => i['incidentNumber'] === 'D-1002');
    expect(active).toMatchObject({ assignedUnitId: 'M1', status: 'dispatched', address: { street: '112 Osborne Street', city: 'Danbury' } });
    const epcrs = await pull(token, 'epcrs');
    const stub = epcrs.find((e) => e['incidentId'] === active!.id);
    expect(stub).toMatchObject({ status: 'draft', unitId: 'M1', response: { incidentNumber: 'D-1002', callSign: 'M1' } });
    expect(String((stub!['times'] as Record<string, string>)['unitNotified'])).toMatch(/[+-]\d\d:\d\d$/);
    const finished = epcrs.find((e) => (e['response'] as { incidentNumber?: string })['incidentNumber'] === 'D-1001');
    expect(finished).toMatchObject({ status: 'finalized', finalizeErrors: [] });
    expect(finished!['lockedAt']).toEqual(expect.any(String));
    // Its export carries the demo agency's own NEMSIS identity (its seeded settings).
    const xml = await (await fetch(server.url + pathOf(EPCRS.nemsisXml, { id: String(finished!['id']) }), { headers: { authorization: `Bearer ${token}` } })).text();
    for (const value of ['<dAgency.01>C034</dAgency.01>', '<dAgency.02>351-C034P2</dAgency.02>', '<dAgency.04>09</dAgency.04>']) expect(xml).toContain(value);
    const units = await pull(token, 'units');
    expect(units.map((u) => u['callSign'])).toEqual(['M1']);
    expect(units[0]).toMatchObject({ status: 'en_route', currentIncidentId: active!.id });
    const track = await pull(token, 'gps_points');
    expect(track.length).toBeGreaterThanOrEqual(8);
    expect(track.every((p) => p['sourceType'] === 'unit' && p['sourceId'] === 'M1')).toBe(true);
  });

  it('dispatch sees the three units and the closed, active and new calls', async () => {
    const token = 'dev:demo:dispatcher:x';
    const units = await pull(token, 'units');
    expect(units.map((u) => `${String(u['callSign'])} ${String(u['status'])}`).sort()).toEqual(['M1 en_route', 'M2 available', 'M3 staged']);
    expect(units.every((u) => typeof (u['lastPosition'] as { lat?: number } | undefined)?.lat === 'number')).toBe(true);
    const incidents = await pull(token, 'incidents');
    expect(incidents.map((i) => `${String(i['incidentNumber'])} ${String(i['status'])}`).sort()).toEqual(['D-1001 closed', 'D-1002 dispatched', 'D-1003 new']);
    expect(incidents.find((i) => i['incidentNumber'] === 'D-1003')!['assignedUnitId']).toBeUndefined();
  });

  it('the biller sees the finished report\'s billing record, ready, and its claim', async () => {
    const token = 'dev:demo:biller:x';
    const billing = await pull(token, 'billing_records');
    expect(billing).toHaveLength(1);
    expect(billing[0]).toMatchObject({ status: 'ready', serviceLevel: 'ALS1-EMERGENCY', hcpcsBase: 'A0427', loadedMiles: 1.4, modifier: 'RH', pickupZip: '06810', payer: 'Medicare' });
    const claims = await pull(token, 'claims');
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ billingRecordId: billing[0]!.id, status: 'draft', frequencyCode: '1', lines: [{ code: 'A0427', modifier: 'RH', units: 1 }, { code: 'A0425', modifier: 'RH', units: 1.4 }] });
  });

  it('technician T1 sees the jobs the completed orders became, each with its checklist', async () => {
    const jobs = await pull('dev:demo:technician:x:T1', 'jobs');
    expect(jobs.map((j) => j['orderNumber']).sort()).toEqual(['SO-2001', 'SO-2002']);
    expect(jobs.find((j) => j['orderNumber'] === 'SO-2001')).toMatchObject({ status: 'assigned', assigneeId: 'T1', customer: { name: 'Lake Avenue Dental' } });
    expect(jobs.every((j) => Array.isArray(j['checklist']) && (j['checklist'] as unknown[]).length > 0)).toBe(true);
  });

  it('the office sees the three orders, one still open to complete', async () => {
    const orders = await pull('dev:demo:office:x', 'orders');
    expect(orders.map((o) => `${String(o['orderNumber'])} ${String(o['status'])}`).sort()).toEqual(['SO-2001 completed', 'SO-2002 completed', 'SO-2003 open']);
    expect((await pull('dev:demo:office:x', 'jobs')).length).toBe(2);
  });

  it('nothing went to the dead letters', async () => {
    expect((await server.app.store.outboxStats(Date.now())).deadLetters ?? 0).toBe(0);
  });

  it('the dispatch map draws the demo area from tiles generated at first start, and the whole area can be saved offline', async () => {
    const token = 'dev:demo:dispatcher:x';
    const get = (endpoint: Parameters<typeof pathOf>[0], headers: Record<string, string> = {}) => fetch(server.url + pathOf(endpoint), { headers: { authorization: `Bearer ${token}`, ...headers } });
    const config = (await (await get(MAPS.config)).json()) as { tiles?: { kind: string; tileType: string; minZoom: number; maxZoom: number; attribution?: string }; offlineArea?: unknown };
    expect(config.tiles).toMatchObject({ kind: 'archive', tileType: 'png', minZoom: 10, maxZoom: 15 });
    expect(config.tiles?.attribution).toMatch(/no streets/);
    // Read through the server's range route, as the apps' map does: the tile at the customer's site is a PNG that is not one flat colour (the grid).
    const source: Source = {
      getKey: () => 'demo',
      getBytes: async (offset, length) => {
        const response = await get(MAPS.archive, { range: `bytes=${offset}-${offset + length - 1}` });
        expect(response.status).toBe(206);
        return { data: await response.arrayBuffer() };
      },
    };
    const archive = new PMTiles(source);
    for (const z of [12, 15]) {
      const { x, y } = tileOf(PLACES.customer.lat, PLACES.customer.lng, z);
      const tile = await archive.getZxy(z, x, y);
      expect(tile, `tile ${z}/${x}/${y}`).toBeDefined();
      expect(Buffer.from(tile!.data).subarray(1, 4).toString('ascii')).toBe('PNG');
    }
    const plan = (await (await get(MAPS.offlinePlan)).json()) as { tiles: number; bytes: number };
    expect(plan.tiles).toBeGreaterThan(50);
    expect(plan.bytes).toBeLessThan(5 * 1024 * 1024);
    console.log(`demo map: ${plan.tiles} tiles, ${(plan.bytes / 1024).toFixed(0)} KB to save offline`);
  });

  it('seeding again writes nothing', async () => {
    const before = await lastSeqs();
    const tiles = path.join(server.dataDir, 'tiles', 'demo.pmtiles');
    const written = statSync(tiles).mtimeMs;
    expect(await seedDemoData(server.app, { dataDir: server.dataDir })).toEqual({ claimed: true });
    await settled(server);
    expect(await lastSeqs()).toEqual(before);
    expect(statSync(tiles).mtimeMs).toBe(written);
  });
});
