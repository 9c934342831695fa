/**
 * Issue 18 gap: the photo size is the agency's ("to a size the agency sets"). The admin sets
 * `attachments.photoMaxEdgePx` / `photoMaxBytes` in the agency settings (bounds checked, a bad
 * value changes nothing); crew and technicians read the values in force from
 * `attachments` of `GET AGENCY.deviceSettings` (defaults until set; never above the server's upload limit); the
 * service worker's device credential reads nothing. Real Fastify, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, AGENCY, PHOTO_SIZE_DEFAULTS, pathOf, type Role } from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-photo-size';
const MAX = 3_000_000;
const token = (role: Role) => devToken({ tenantId: TENANT, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M1' } : role === 'technician' ? { subject: 'tech-1' } : {}) });

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ attachmentMaxBytes: MAX }); });
afterAll(async () => { await server?.close(); });

async function call(method: string, path: string, role: Role, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${token(role)}` }) {
  const response = await fetch(server.url + path, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() as any };
}

describe('the agency\'s photo size', () => {
  it('crew and technicians read the defaults until the agency sets its own', async () => {
    for (const role of ['crew', 'technician'] as const) {
      const answer = await call('GET', pathOf(AGENCY.deviceSettings), role);
      expect(answer.status).toBe(200);
      expect(answer.body.attachments).toEqual({ ...PHOTO_SIZE_DEFAULTS, maxUploadBytes: MAX, source: 'server-default' });
    }
  });

  it('the admin sets it (bounds checked, a bad value changes nothing); crew and technicians read it; never above the upload limit', async () => {
    const bad = await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), attachments: { photoMaxEdgePx: 100, photoMaxBytes: 800_000 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('attachments.photoMaxEdgePx must be a whole number of pixels from 320 to 8000');
    const typo = await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), attachments: { photoMaxEdgePx: 1200, photoMaxBytes: 400_000, quality: 9 } });
    expect(typo.status).toBe(400);
    expect(JSON.stringify(typo.body.error)).toContain('attachments.quality is not an attachment setting');
    expect((await call('GET', pathOf(AGENCY.deviceSettings), 'crew')).body.attachments.source).toBe('server-default');

    const put = await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), attachments: { photoMaxEdgePx: 1024, photoMaxBytes: 300_000 } });
    expect(put.status).toBe(200);
    expect(put.body.settings.attachments).toEqual({ photoMaxEdgePx: 1024, photoMaxBytes: 300_000 });
    expect((await call('GET', pathOf(ADMIN.agency), 'admin')).body.settings.attachments).toEqual({ photoMaxEdgePx: 1024, photoMaxBytes: 300_000 });
    for (const role of ['crew', 'technician'] as const) {
      expect((await call('GET', pathOf(AGENCY.deviceSettings), role)).body.attachments).toEqual({
        photoMaxEdgePx: 1024, photoMaxBytes: 300_000, thumbnailEdgePx: PHOTO_SIZE_DEFAULTS.thumbnailEdgePx, maxUploadBytes: MAX, source: 'agency',
      });
    }

    // An agency value above what the server takes is answered as the server's limit.
    expect((await call('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), attachments: { photoMaxEdgePx: 4000, photoMaxBytes: 10_000_000 } })).status).toBe(200);
    expect((await call('GET', pathOf(AGENCY.deviceSettings), 'crew')).body.attachments).toMatchObject({ photoMaxEdgePx: 4000, photoMaxBytes: MAX, source: 'agency' });
  });

  it('needs a signed-in user: no token is 401, the device credential is refused', async () => {
    expect((await call('GET', pathOf(AGENCY.deviceSettings), 'crew', undefined, {})).status).toBe(401);
    const dpop = await call('GET', pathOf(AGENCY.deviceSettings), 'crew', undefined, { authorization: 'DPoP x', dpop: 'y' });
    expect(dpop.status).toBe(403);
    expect(dpop.body.error.code).toBe('PUSH_ONLY_CREDENTIAL');
  });
});
