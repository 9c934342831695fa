/**
 * Incident reads and live-feed deliveries of PHI are in the audit log (issue 17, finding 3): an
 * incident's address and complaint read by pull, and what dispatch's `/live` feed handed a
 * console (incidents, ePCR progress), one entry per socket and batch; GPS positions are not PHI
 * and leave no entry. Before the fix, neither the incident pull nor any live delivery was audited.
 */
import { rmSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import { eventually } from '../../helpers/device.ts';
import { make, pullAll, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const A = 'agency-a';
let server: TestServer;
const sockets: Socket[] = [];
beforeAll(async () => { server = await startTestServer({ liveGpsIntervalMs: 0, clientDir: false }); });
afterAll(async () => {
  for (const s of sockets) s.close();
  await server.close();
});

const readsOf = async (documentId: string) =>
  (await server.app.store.queryAudit({ tenantId: A, documentId, limit: 100 })).filter((e) => e.action === 'read');

function listen(token: string): Promise<{ events: { event: string; payload: Record<string, unknown> }[] }> {
  const socket = io(`${server.url}/live`, { transports: ['websocket'], auth: { token }, reconnection: false });
  sockets.push(socket);
  const events: { event: string; payload: Record<string, unknown> }[] = [];
  socket.onAny((event: string, payload: Record<string, unknown>) => events.push({ event, payload }));
  return new Promise((resolve, reject) => {
    socket.once('live:ready', () => resolve({ events }));
    socket.once('connect_error', reject);
  });
}

describe('incident reads are audited', () => {
  it('a crew pulling its call (address, complaint) leaves a read entry naming the incident, its user and device', async () => {
    const call = make.incidents(A, { assignedUnitId: 'M1', address: { street: '12 Elm St', city: 'Springfield' }, complaint: 'fall, hip pain' });
    await seed(server.app.store, 'incidents', [call]);
    const crew = devToken({ tenantId: A, role: 'crew', deviceId: 'tab-m1', subject: 'M1' });
    const pulled = await pullAll(server, crew, 'incidents', 100);
    expect(pulled.docs.map((d) => d['complaint'])).toEqual(['fall, hip pain']);
    const reads = await readsOf(call.id);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ collection: 'incidents', actor: { deviceId: 'tab-m1', role: 'crew' }, details: { via: 'pull' } });
  });
});

describe('live feed deliveries of PHI are audited, per batch', () => {
  it('a dispatch console handed incident and ePCR events gets one read entry per collection and batch; positions leave none', async () => {
    const console1 = await listen(devToken({ tenantId: A, role: 'dispatcher', deviceId: 'console-live' }));
    const calls = [make.incidents(A, { complaint: 'chest pain', address: { street: '1 Main St' } }), make.incidents(A, { complaint: 'syncope' })];
    const report = make.epcrs(A, { unitId: 'M1' });
    const point = make.gps_points(A, { sourceId: 'M1' });
    await seed(server.app.store, 'incidents', calls);
    await seed(server.app.store, 'epcrs', [report]);
    await seed(server.app.store, 'gps_points', [point]);
    await eventually('the events on the console', () =>
      console1.events.filter((e) => e.event === 'incident:changed').length === 2 && console1.events.some((e) => e.event === 'epcr:progress')
      && console1.events.some((e) => e.event === 'unit:position'));

    await eventually('the deliveries in the audit log', async () => (await readsOf(report.id)).some((e) => e.details?.['via'] === 'live'), 10_000);
    const live = (await server.app.store.queryAudit({ tenantId: A, limit: 100 }))
      .filter((e) => e.action === 'read' && e.details?.['via'] === 'live' && e.actor.deviceId === 'console-live');
    // One batch: the two incidents in one entry, the report in another (seen through the dispatcher's projection).
    const incidents = live.filter((e) => e.collection === 'incidents');
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.documents!.map((d) => d.id).sort()).toEqual(calls.map((c) => c.id).sort());
    expect(live.filter((e) => e.collection === 'epcrs')).toEqual([expect.objectContaining({ documents: [{ id: report.id }], details: { via: 'live', projected: true } })]);
    expect(live.some((e) => e.collection === 'gps_points')).toBe(false);
    expect(await server.app.store.queryAudit({ tenantId: A, documentId: point.id, limit: 10 }).then((es) => es.filter((e) => e.action === 'read'))).toEqual([]);
    // "Who saw this call" now answers with the console.
    expect((await readsOf(calls[0]!.id)).map((e) => e.actor.deviceId)).toContain('console-live');
  });

  it('deliveries still gathered at shutdown are written before the store closes', async () => {
    const own = await startTestServer({ clientDir: false });
    try {
      const socket = io(`${own.url}/live`, { transports: ['websocket'], auth: { token: devToken({ tenantId: A, role: 'dispatcher', deviceId: 'console-late' }) }, reconnection: false });
      sockets.push(socket);
      await new Promise<void>((resolve) => socket.once('live:ready', () => resolve()));
      const got = new Promise<void>((resolve) => socket.once('incident:changed', () => resolve()));
      const call = make.incidents(A, { complaint: 'overdose' });
      await seed(own.app.store, 'incidents', [call]);
      await got;
      // Closed within the flush interval: the gathered batch must not be lost.
      await own.close({ keepData: true });
      const reopened = new SqliteStore({ dataDir: own.dataDir });
      try {
        const reads = (await reopened.queryAudit({ tenantId: A, documentId: call.id, limit: 10 })).filter((e) => e.action === 'read' && e.details?.['via'] === 'live');
        expect(reads.map((e) => e.actor.deviceId)).toEqual(['console-late']);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(own.dataDir, { recursive: true, force: true });
    }
  });
});
