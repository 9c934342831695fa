/**
 * GPS positions are coalesced per unit before they go to CAD (CAD_GPS_COALESCE_MS): of the
 * positions a unit sent within the window only the newest reaches CAD, never an older one after a
 * newer; statuses are never coalesced, each reaches CAD once and in order. (Before, every fix of
 * every unit was one CAD event: at 5,000 units and one fix a second, 5,000 events a second for a
 * view that only shows the latest.)
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { devToken } from '../../../../server/auth/identity.ts';
import { pathOf, SYNC } from '../../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../../shared/schemas/index.ts';
import { CadPeer } from '../../../helpers/cad-peer.ts';
import { eventually } from '../../../helpers/device.ts';
import { newGpsPoint, offsetTime } from '../../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';

const TENANT = 'agency-gps';
const CAD_TOKEN = 'cad-secret';
const POINTS = 30;

let server: TestServer | undefined;
let cad: CadPeer | undefined;
afterEach(async () => {
  await server?.close();
  await cad?.stop();
  server = undefined;
  cad = undefined;
});

async function start(cadGpsCoalesceMs: number): Promise<void> {
  cad = new CadPeer(CAD_TOKEN);
  await cad.start();
  server = await startTestServer({ cadBackendUrl: cad.url, cadBackendAuthToken: CAD_TOKEN, cadTenantId: TENANT, cadGpsCoalesceMs, cadBridge: { baseDelayMs: 50, maxDelayMs: 400 } });
  await eventually('the bridge connected to CAD', () => cad!.connected() >= 1);
}

async function push(unit: string, collection: string, rows: Record<string, unknown>[]): Promise<void> {
  const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt-${unit}`, subject: unit });
  const response = await fetch(`${server!.url}${pathOf(SYNC.push, { collection })}?schemaVersion=${schemaVersionOf(collection)}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(rows.map((doc) => ({ newDocumentState: { ...doc, rev: '1-gps', _deleted: false } }))),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(await response.json()).toEqual([]);
}

/** A burst of positions per unit, then three status presses of M1. */
async function burst(): Promise<{ newest: Map<string, string>; statuses: string[] }> {
  const newest = new Map<string, string>();
  for (const unit of ['M1', 'M2']) {
    const points = Array.from({ length: POINTS }, (_, i) => newGpsPoint(TENANT, unit, i));
    await push(unit, 'gps_points', points);
    newest.set(unit, points[POINTS - 1]!.recordedAt);
  }
  const statuses = ['dispatched', 'en_route', 'on_scene'];
  for (const [i, status] of statuses.entries()) {
    await push('M1', 'unit_status_events', [{ id: randomUUID(), tenantId: TENANT, unitId: 'M1', status, recordedAt: offsetTime(new Date(Date.now() + i * 1000)) }]);
  }
  return { newest, statuses };
}

const locations = () => cad!.received.filter((e) => e.event === 'unit:location').map((e) => e.payload as { unitId: string; at: string });
const statusesHeard = () => cad!.received.filter((e) => e.event === 'unit:status').map((e) => String(e.payload['status']));

describe('CAD bridge: GPS positions coalesced per unit', () => {
  it('a burst of positions within the window reaches CAD as each unit\'s newest only; statuses each once, in order', async () => {
    await start(1000);
    const { newest, statuses } = await burst();
    await eventually('the newest position of each unit at CAD', () => [...newest].every(([unit, at]) => locations().some((l) => l.unitId === unit && l.at === at)), 30_000);
    await eventually('every status at CAD', () => statusesHeard().length >= statuses.length, 30_000);
    await eventually('the CAD queue drained', async () => (await server!.app.store.outboxStats(Date.now(), 'cad', TENANT)).depth === 0, 30_000);
    const heard = locations();
    console.log(`[cad gps coalescing] ${POINTS * 2} positions of 2 units within the window: CAD heard ${heard.length}`);
    // One per unit: each unit's whole burst was committed before its window ended.
    expect(heard.map((l) => `${l.unitId}@${l.at}`).sort()).toEqual([...newest].map(([unit, at]) => `${unit}@${at}`).sort());
    expect(statusesHeard()).toEqual(statuses);
    expect(server!.app.cadBridges.of(TENANT)!.coalescedPositions).toBe(POINTS * 2 - 2);
  });

  it('with coalescing off (0) every position reaches CAD, in order', async () => {
    await start(0);
    const { statuses } = await burst();
    await eventually('every position at CAD', () => locations().length >= POINTS * 2, 30_000);
    await eventually('every status at CAD', () => statusesHeard().length >= statuses.length, 30_000);
    for (const unit of ['M1', 'M2']) {
      const times = locations().filter((l) => l.unitId === unit).map((l) => l.at);
      expect(times).toHaveLength(POINTS);
      expect(times).toEqual([...times].sort());
    }
    expect(statusesHeard()).toEqual(statuses);
  });
});
