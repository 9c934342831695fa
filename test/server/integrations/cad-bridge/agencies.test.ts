/**
 * A CAD hears of its own agency only (issue 17, finding 4a: another agency's `epcr:finalized`,
 * with incident number, unit, disposition and destination, was sent to the demo agency's CAD).
 * Two agencies with a CAD each (real socket.io stand-ins) and a third without one: each report
 * finalized by the real hooks reaches its own agency's CAD, and no other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../../server/auth/identity.ts';
import type { Integrations } from '../../../../server/integrations/types.ts';
import { CadPeer } from '../../../helpers/cad-peer.ts';
import { eventually } from '../../../helpers/device.ts';
import type { TestServer } from '../../../helpers/server.ts';
import { completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored } from '../../hooks/support.ts';

const A = 'demo';
const B = 'agency-cad-b';
const C = 'agency-no-cad';
let server: TestServer;
const cadA = new CadPeer('token-a');
const cadB = new CadPeer('token-b');

beforeAll(async () => {
  await cadA.start();
  await cadB.start();
  // The hooks' CAD notices go through the server's real CAD gateway (the bridges), nothing faked.
  const integrations: Integrations = { ...fakeIntegrations(), cad: { send: (notice) => server.app.cadGateway.send(notice) } };
  server = await startHookServer({
    integrations, validateExports: false,
    // The demo agency's CAD as CAD_BACKEND_URL configures it, agency B's as CAD_BACKENDS does.
    cadBackendUrl: cadA.url, cadBackendAuthToken: 'token-a', cadTenantId: A,
    cadBackends: [{ tenantId: B, url: cadB.url, authToken: 'token-b' }],
    cadBridge: { baseDelayMs: 50, maxDelayMs: 400, ackTimeoutMs: 2000 },
  });
  await eventually('both CADs connected', async () => cadA.connected() === 1 && cadB.connected() === 1);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await cadA.stop();
  await cadB.stop();
});

const finalizedOf = (cad: CadPeer) => cad.received.filter((e) => e.event === 'epcr:finalized').map((e) => e.payload['epcrId']);

describe('CAD notices stay in their agency', () => {
  it('each agency\'s finalized report reaches its own CAD only; an agency without a CAD notifies nobody', async () => {
    const report = (tenantId: string, incidentNumber: string) => {
      const base = completeEpcr(tenantId, 'M1');
      return { ...base, response: { ...base.response, incidentNumber } };
    };
    const reports = { [A]: report(A, '2026-A-001'), [B]: report(B, '2026-B-001'), [C]: report(C, '2026-C-001') };
    for (const [tenantId, report] of Object.entries(reports)) {
      await rawPush(server, devToken({ tenantId, role: 'crew', deviceId: `tab-${tenantId}`, subject: 'M1' }), 'epcrs', pushBody(report));
    }
    for (const [tenantId, report] of Object.entries(reports)) {
      await eventually(`${tenantId}'s report locked`, async () => (await stored(server, 'epcrs', tenantId, report.id))?.lockedAt);
    }
    await eventually('A\'s notice at A\'s CAD', async () => finalizedOf(cadA).includes(reports[A]!.id));
    await eventually('B\'s notice at B\'s CAD', async () => finalizedOf(cadB).includes(reports[B]!.id));
    await settled(server);
    // Whatever is still queued for a CAD has had every chance to be sent.
    await eventually('the CAD queues drained', async () => (await server.app.store.dueOutbox(Number.MAX_SAFE_INTEGER, 10, 'cad')).length === 0);

    expect(finalizedOf(cadA)).toEqual([reports[A]!.id]);
    expect(finalizedOf(cadB)).toEqual([reports[B]!.id]);
    expect(JSON.stringify(cadA.received)).not.toMatch(/2026-B-001|2026-C-001/);
    expect(JSON.stringify(cadB.received)).not.toMatch(/2026-A-001|2026-C-001/);
    expect(cadA.received.find((e) => e.event === 'epcr:finalized')!.payload).toMatchObject({ incidentNumber: '2026-A-001', unitId: 'M1' });
    // Every event names its agency, the CAD's own.
    expect(cadA.received.every((e) => e.payload['tenantId'] === A)).toBe(true);
    expect(cadB.received.every((e) => e.payload['tenantId'] === B)).toBe(true);
  });

  it('a dispatcher sees the health of its own agency\'s CAD only', async () => {
    const health = async (tenantId: string) => {
      const r = await fetch(`${server.url}/api/socket-bridge/health`, { headers: { authorization: `Bearer ${devToken({ tenantId, role: 'dispatcher', deviceId: `console-${tenantId}` })}` } });
      return (await r.json()) as { connected: boolean; cad_url: string | null };
    };
    expect(await health(A)).toMatchObject({ connected: true, cad_url: cadA.url });
    expect(await health(B)).toMatchObject({ connected: true, cad_url: cadB.url });
    expect(await health(C)).toMatchObject({ connected: false, cad_url: null });
  });
});
