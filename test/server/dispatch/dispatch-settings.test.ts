/**
 * Issue 20: the dispatch console's server time and the agency's unacknowledged-call threshold
 * (`GET DISPATCH.settings`; set in the agency's settings, `dispatch.unacknowledgedAlertSeconds`).
 * Real Fastify, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, DISPATCH, pathOf, type Role } from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-dispatch-settings';
const token = (role: Role) => devToken({ tenantId: TENANT, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M7' } : {}) });

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ dispatchAckAlertSeconds: 45 }); });
afterAll(async () => { await server?.close(); });

async function call(method: string, path: string, role: Role, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token(role)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() as any };
}

describe('dispatch settings', () => {
  it('answers the server\'s time and the server default until the agency sets its own threshold', async () => {
    const before = Date.now();
    const answer = await call('GET', pathOf(DISPATCH.settings), 'dispatcher');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ unacknowledgedAlertSeconds: 45, source: 'server-default' });
    expect(answer.body.serverTime).toBeGreaterThanOrEqual(before);
    expect(answer.body.serverTime).toBeLessThanOrEqual(Date.now());
  });

  it('the agency\'s admin sets the threshold; consoles get it; a bad value is refused naming the setting and changes nothing', async () => {
    const bad = await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), dispatch: { unacknowledgedAlertSeconds: 2 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('dispatch.unacknowledgedAlertSeconds must be a whole number of seconds from 5 to 3600');
    expect((await call('GET', pathOf(DISPATCH.settings), 'dispatcher')).body.source).toBe('server-default');
    const typo = await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), dispatch: { ackSeconds: 20 } });
    expect(JSON.stringify(typo.body.error)).toContain('dispatch.ackSeconds is not a dispatch setting');

    const put = await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), dispatch: { unacknowledgedAlertSeconds: 90 } });
    expect(put.status).toBe(200);
    expect(put.body.settings.dispatch).toEqual({ unacknowledgedAlertSeconds: 90 });
    expect((await call('GET', pathOf(ADMIN.agency), 'admin')).body.settings.dispatch).toEqual({ unacknowledgedAlertSeconds: 90 });
    for (const role of ['dispatcher', 'admin'] as const) {
      expect((await call('GET', pathOf(DISPATCH.settings), role)).body).toMatchObject({ unacknowledgedAlertSeconds: 90, source: 'agency' });
    }
  });

  it('is for dispatch: a crew or a biller is refused', async () => {
    for (const role of ['crew', 'biller'] as const) {
      const answer = await call('GET', pathOf(DISPATCH.settings), role);
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('FORBIDDEN');
    }
  });
});
