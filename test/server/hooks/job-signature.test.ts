/**
 * Issue 18, field service: the customer's signature completes the job. The technician's phone
 * delivers the job change (the signature's reference) first and the bytes after, as its queue
 * orders them: the job stays on site until the bytes are stored, then completes and its ticket
 * closes. A technician may attach to its own jobs only.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { ATTACHMENTS, pathOf } from '../../../shared/protocol/index.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { createUpload, PNG_1X1, sha256, tusUpload } from '../attachments/support.ts';
import { fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, systemWrite } from './support.ts';

const TENANT = 'agency-field';
const tech = devToken({ tenantId: TENANT, role: 'technician', deviceId: 'phone-t7', subject: 'T7' });

let server: TestServer;

beforeAll(async () => {
  server = await startHookServer({ integrations: fakeIntegrations(), validateExports: false });
}, 120_000);
afterAll(async () => { await server?.close(); });

describe('a customer signature completes the job', () => {
  it('reference first, bytes later: completed once the bytes are stored; the ticket closes', async () => {
    const ticketId = randomUUID();
    const jobId = randomUUID();
    await systemWrite(server, 'tickets', TENANT, { id: ticketId, tenantId: TENANT, type: 'repair', status: 'in_progress', _deleted: false });
    await systemWrite(server, 'jobs', TENANT, { id: jobId, tenantId: TENANT, kind: 'repair', status: 'on_site', assigneeId: 'T7', ticketId, _deleted: false });
    await settled(server);
    const job = (await stored(server, 'jobs', TENANT, jobId))!;
    const signature = {
      sha256: sha256(PNG_1X1), kind: 'signature' as const, purpose: 'customer-signature' as const, contentType: 'image/png' as const, size: PNG_1X1.length,
      capturedAt: '2026-12-06T16:40:00-05:00', signature: { lastName: 'Nguyen', firstName: 'Lan' },
    };
    await rawPush(server, tech, 'jobs', pushBody({ ...job, attachments: [signature] }, `${Number(job.rev.split('-')[0]) + 1}-phone.a`, job));
    await settled(server);
    expect((await stored(server, 'jobs', TENANT, jobId))?.status, 'no bytes yet: still on site').toBe('on_site');

    await tusUpload(server.url + pathOf(ATTACHMENTS.createUpload), PNG_1X1, { sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'jobs', docId: jobId }, { authorization: `Bearer ${tech}` });
    const done = await eventually('the job to complete', async () => {
      const doc = await stored(server, 'jobs', TENANT, jobId);
      return doc?.status === 'completed' ? doc : undefined;
    }, 60_000);
    expect(done.statusAt).toMatch(/-05:00$/);
    await eventually('the ticket to close', async () => (await stored(server, 'tickets', TENANT, ticketId))?.status === 'closed', 60_000);
  });

  it('another technician cannot attach to the job', async () => {
    const jobId = randomUUID();
    await systemWrite(server, 'jobs', TENANT, { id: jobId, tenantId: TENANT, kind: 'repair', status: 'on_site', assigneeId: 'T7', _deleted: false });
    const other = devToken({ tenantId: TENANT, role: 'technician', deviceId: 'phone-t8', subject: 'T8' });
    const r = await createUpload(server.url, PNG_1X1.length, { sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'jobs', docId: jobId }, { authorization: `Bearer ${other}` });
    expect(r.status).toBe(403);
  });
});
