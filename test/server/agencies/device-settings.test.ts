/**
 * Issue 16, item 1: the agency's favourites reach its devices. `GET AGENCY.deviceSettings`
 * answers any signed-in user of the agency with its favourites (and nothing else of the settings:
 * no submission password, no order signing secret); `{}` before any are set; another agency's
 * favourites are never answered. Real Fastify, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, AGENCY, pathOf, type Role } from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const A = 'agency-fav-a';
const B = 'agency-fav-b';
const token = (role: Role, tenantId: string) => devToken({ tenantId, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M7' } : {}) });

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); }, 120_000);
afterAll(async () => { await server?.close(); });

const read = async (role: Role, tenantId: string) => {
  const response = await fetch(server.url + pathOf(AGENCY.deviceSettings), { headers: { authorization: `Bearer ${token(role, tenantId)}` } });
  return { status: response.status, text: await response.text() };
};

describe('device settings', () => {
  it('a crew reads its agency\'s favourites, and nothing secret; another agency\'s are not answered', async () => {
    const first = await read('crew', A);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).favourites).toEqual({});
    const settings = { ...demoAgencySettings(), orderIntake: { signingSecret: 'secret-order-signing-0123456789abcdef0123456789' } };
    const put = await fetch(server.url + pathOf(ADMIN.putAgency), {
      method: 'PUT', headers: { authorization: `Bearer ${token('admin', A)}`, 'content-type': 'application/json' }, body: JSON.stringify(settings),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    for (const role of ['crew', 'technician', 'dispatcher'] as Role[]) {
      const answer = await read(role, A);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text).favourites).toEqual(demoAgencySettings().favourites);
      expect(Object.keys(JSON.parse(answer.text)).sort()).toEqual(['attachments', 'favourites']);
      expect(answer.text).not.toContain('secret-order-signing');
    }
    expect(JSON.parse((await read('crew', B)).text).favourites).toEqual({});
    expect((await fetch(server.url + pathOf(AGENCY.deviceSettings))).status).toBe(401);
  });
});
