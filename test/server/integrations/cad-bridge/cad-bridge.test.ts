import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { devToken } from '../../../../server/auth/identity.ts';
import { reconnectDelayMs } from '../../../../server/integrations/cad-bridge/bridge.ts';
import { incidentIdFor } from '../../../../server/hooks/ids.ts';
import { CadPeer } from '../../../helpers/cad-peer.ts';
import { createDevice, eventually, type TestDevice } from '../../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';

const TENANT = 'agency-a';
const CAD_TOKEN = 'cad-secret';
const dispatcher = devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console' });
const admin = devToken({ tenantId: TENANT, role: 'admin', deviceId: 'admin-pc' });

let server: TestServer | undefined;
let cad: CadPeer | undefined;
const devices: TestDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
  await server?.close();
  await cad?.stop();
  server = undefined;
  cad = undefined;
});

async function health(token = dispatcher) {
  const r = await fetch(`${server!.url}/api/socket-bridge/health`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as { connected: boolean; state: string; connection_attempts: number; queued_outbound: number; last_error: string | null; event_handlers_registered: number; last_event_at: string | null };
}

async function startBridge(token: string) {
  cad = new CadPeer(CAD_TOKEN);
  await cad.start();
  server = await startTestServer({
    // The agency's zone: CAD's UTC times are stored on its wall clock (issue 16: they arrived as UTC).
    cadBackendUrl: cad.url, cadBackendAuthToken: token, cadTenantId: TENANT, cadTimeZone: 'America/New_York',
    cadBridge: { baseDelayMs: 50, maxDelayMs: 400, ackTimeoutMs: 1000 },
  });
}

describe('CAD bridge reconnection schedule', () => {
  it('waits longer after each failed attempt, up to the cap, and never stops at zero', () => {
    const noJitter = () => 1;
    const delays = Array.from({ length: 14 }, (_, i) => reconnectDelayMs(i + 1, 500, 30_000, noJitter));
    expect(delays.slice(0, 7)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000]);
    expect(delays.slice(7).every((d) => d === 30_000)).toBe(true);
    // Jitter keeps each wait in the upper half of its step.
    expect(reconnectDelayMs(3, 500, 30_000, () => 0)).toBe(1000);
  });
});

describe('CAD bridge', () => {
  it('a wrong token is refused and reported in health; the right one connects', async () => {
    await startBridge('wrong-token');
    await eventually('the refusal to show in health', async () => (await health()).connection_attempts >= 2);
    const refused = await health();
    expect(refused.connected).toBe(false);
    expect(refused.last_error).toContain('invalid CAD token');
    expect(cad!.refusedTokens).toContain('wrong-token');
    await server!.close();

    server = await startTestServer({ cadBackendUrl: cad!.url, cadBackendAuthToken: CAD_TOKEN, cadTenantId: TENANT, cadBridge: { baseDelayMs: 50, maxDelayMs: 400 } });
    await eventually('the bridge to connect', async () => (await health()).connected);
    const ok = await health();
    expect(ok.state).toBe('connected');
    expect(ok.event_handlers_registered).toBe(8);
  });

  it('CAD stopped for a while then restarted: reconnects with growing delays; events queued meanwhile arrive in order, each once', async () => {
    await startBridge(CAD_TOKEN);
    await eventually('connected', async () => (await health()).connected);
    const port = cad!.port;
    await cad!.stop();
    await eventually('the bridge to notice', async () => !(await health()).connected);

    // Dispatch keeps working: three status changes for M1 while CAD is away.
    const statuses = ['dispatched', 'en_route', 'on_scene'];
    for (const status of statuses) {
      const r = await fetch(`${server!.url}/api/socket-bridge/unit-status`, {
        method: 'POST', headers: { authorization: `Bearer ${dispatcher}`, 'content-type': 'application/json' },
        body: JSON.stringify({ unitId: 'M1', status }),
      });
      expect(r.status).toBe(202);
    }
    expect((await health()).queued_outbound).toBe(3);
    await eventually('several reconnection attempts', async () => (await health()).connection_attempts >= 4);

    await cad!.start(port);
    await eventually('the queue to drain', async () => (await health()).queued_outbound === 0, 20_000);
    const unitEvents = cad!.received.filter((e) => e.event === 'unit:status');
    expect(unitEvents.map((e) => e.payload['status'])).toEqual(statuses);
    expect(new Set(unitEvents.map((e) => e.payload['eventId'])).size).toBe(3);
    expect((await health()).connected).toBe(true);
  });

  it('never gives up: after ten failed attempts it reports degraded, keeps retrying at the cap, and connects when CAD returns', async () => {
    await startBridge(CAD_TOKEN);
    await eventually('connected', async () => (await health()).connected);
    const port = cad!.port;
    await cad!.stop();
    await eventually('degraded after ten attempts', async () => (await health()).state === 'degraded', 20_000);
    expect((await health()).connection_attempts).toBeGreaterThanOrEqual(10);
    await cad!.start(port);
    await eventually('connected again', async () => (await health()).state === 'connected', 10_000);
  });

  it('incident:new from CAD reaches the assigned crew’s device; the crew’s status change reaches CAD as unit:status', async () => {
    await startBridge(CAD_TOKEN);
    await eventually('connected', async () => (await health()).connected);
    const crew = await createDevice({ serverUrl: server!.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tab-m1', subject: 'M1' }), collections: ['incidents', 'units', 'unit_status_events'] });
    devices.push(crew);
    await crew.sync.awaitInSync();

    const answer = await cad!.emit('incident:new', {
      incidentNumber: '2026-001234', type: 'Medical', complaint: 'Chest pain', priority: '1',
      address: { street: '12 Main St', city: 'Springfield', state: 'PA', zip: '19064' },
      location: { lat: 39.9, lng: -75.3 }, assignedUnitId: 'M1', times: { psapCall: '2026-11-22T14:00:00Z', unitNotified: '2026-11-22T14:01:00Z' },
    });
    expect(answer).toEqual([{ ok: true }]);
    const incidentId = incidentIdFor(TENANT, '2026-001234');
    const incident = await eventually('the incident on the crew tablet', async () => (await crew.db.collections['incidents']!.findOne(incidentId).exec())?.toJSON());
    expect(incident).toMatchObject({ incidentNumber: '2026-001234', complaint: 'Chest pain', assignedUnitId: 'M1', status: 'dispatched' });
    // 14:00 UTC is 09:00 in the agency's zone (EST in November), written with its offset.
    expect((incident as { timeline: Record<string, string> }).timeline.psapCall).toBe('2026-11-22T09:00:00-05:00');
    expect(cad!.received.filter((e) => e.event === 'assignment:sent')).toHaveLength(0); // no echo of CAD's own data

    // The unit exists once CAD reports it; the crew changes its status on the tablet.
    await cad!.emit('unit:status:updated', { unitId: 'M1', status: 'DISPATCHED', incidentNumber: '2026-001234' });
    const unit = await eventually('the unit on the tablet', async () => (await crew.db.collections['units']!.findOne({ selector: { callSign: 'M1' } }).exec()) ?? undefined);
    // As the MDT does: the press as a status event, and the unit's latest status.
    await crew.writer.insert('unit_status_events', { id: randomUUID(), tenantId: TENANT, unitId: 'M1', status: 'en_route', recordedAt: '2026-11-22T09:03:00-05:00', incidentId } as never);
    await crew.writer.update('units', unit.primary, (d) => ({ ...d, status: 'en_route', statusAt: '2026-11-22T09:03:00-05:00' }));
    await eventually('CAD to hear of it', () => cad!.received.find((e) => e.event === 'unit:status' && e.payload['status'] === 'en_route'));
    // Once: the unit document the crew wrote is not sent again beside its event.
    await eventually('the unit document on the server', async () => {
      const [stored] = await server!.app.store.getDocuments('units', TENANT, [unit.primary]);
      return stored !== undefined && (JSON.parse(stored.json) as { status: string }).status === 'en_route';
    });
    await eventually('the CAD queue to drain', async () => (await health()).queued_outbound === 0);
    const heard = cad!.received.filter((e) => e.event === 'unit:status');
    expect(heard).toHaveLength(1);
    expect(heard[0]!.payload).toMatchObject({ unitId: 'M1', status: 'en_route', at: '2026-11-22T09:03:00-05:00', incidentId });
  });

  it('health and reconnect are role-checked; a malformed REST body is a 400 naming the field', async () => {
    await startBridge(CAD_TOKEN);
    const crewToken = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tab', subject: 'M1' });
    expect((await fetch(`${server!.url}/api/socket-bridge/health`, { headers: { authorization: `Bearer ${crewToken}` } })).status).toBe(403);
    expect((await fetch(`${server!.url}/api/socket-bridge/reconnect`, { method: 'POST', headers: { authorization: `Bearer ${dispatcher}` } })).status).toBe(403);
    expect((await fetch(`${server!.url}/api/socket-bridge/reconnect`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })).status).toBe(202);
    const bad = await fetch(`${server!.url}/api/socket-bridge/assignment`, {
      method: 'POST', headers: { authorization: `Bearer ${dispatcher}`, 'content-type': 'application/json' }, body: JSON.stringify({ unitId: 'M1' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('incidentNumber');
  });
});
