import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { Workflow } from '../../../server/hooks/types.ts';
import type { Role } from '../../../shared/protocol/index.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
const OTHER = 'agency-b';
const token = (role: Role, tenantId = TENANT) => devToken({ tenantId, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M1' } : {}) });

const FAIL_MARK = 'make the hook fail';

/** Always fails, so every report it triggers on (those marked in the narrative) ends as a dead letter. */
const alwaysFails: Workflow = {
  name: 'test-always-fails',
  description: 'a hook whose target is always down',
  trigger: { collection: 'epcrs', when: (c) => (c.after['narrative'] as { text?: string } | undefined)?.text === FAIL_MARK, key: (c) => `epcr:${c.id}` },
  async run() {
    throw new Error('the test target is down (503)');
  },
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ workflows: [alwaysFails], hookRunner: { maxAttempts: 2, baseDelayMs: 10, pollMs: 20 } });
});
afterAll(async () => { await server.close(); });

async function call(method: string, path: string, role: Role, tenantId = TENANT) {
  const response = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${token(role, tenantId)}` } });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

async function push(doc: Record<string, unknown>, tenantId = TENANT) {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${epcrSchema.version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token('crew', tenantId)}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ newDocumentState: doc }]),
  });
  return response.status;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('dead letters', () => {
  let doc: ReturnType<typeof newEpcr>;
  let deadId: number;

  beforeAll(async () => {
    doc = newEpcr(TENANT, 'M1', { narrative: { text: FAIL_MARK } });
    expect(await push({ ...doc, rev: '1-a', _deleted: false })).toBe(200);
    deadId = await eventually('a dead letter', async () => {
      const r = await call('GET', '/api/admin/dead-letters', 'admin');
      return r.body.deadLetters?.[0]?.id as number | undefined;
    });
  });

  it('are not shown to a non-admin: 403 with the standard error shape', async () => {
    for (const role of ['crew', 'dispatcher', 'biller'] as const) {
      const r = await call('GET', '/api/admin/dead-letters', role);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN');
      expect(r.body.error.message).toContain('admin role');
      expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
    }
    expect((await call('POST', `/api/admin/dead-letters/${deadId}/retry`, 'crew')).status).toBe(403);
  });

  it('need a token at all', async () => {
    const r = await fetch(`${server.url}/api/admin/dead-letters`);
    expect(r.status).toBe(401);
  });

  it('are listed for the admin of the agency, with kind, causation, attempts and the last error', async () => {
    const r = await call('GET', '/api/admin/dead-letters', 'admin');
    expect(r.status).toBe(200);
    expect(r.body.deadLetters).toHaveLength(1);
    const [entry] = r.body.deadLetters;
    expect(entry).toMatchObject({
      id: deadId,
      kind: 'test-always-fails',
      attempts: 2,
      lastError: 'the test target is down (503)',
    });
    expect(entry.causationId).toMatch(new RegExp(`^epcrs/${doc.id}@\\d+$`));
    expect(new Date(entry.createdAt).toISOString()).toBe(entry.createdAt);
  });

  it('of one agency are invisible to another agency\'s admin, and cannot be retried by it', async () => {
    expect((await call('GET', '/api/admin/dead-letters', 'admin', OTHER)).body).toEqual({ deadLetters: [] });
    const r = await call('POST', `/api/admin/dead-letters/${deadId}/retry`, 'admin', OTHER);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('DEAD_LETTER_NOT_FOUND');
  });

  it('retry puts the entry back in the queue and wakes the runner (which here fails it again)', async () => {
    const failuresBefore = server.app.hookRunner.stats.failures.get('test-always-fails') ?? 0;
    const r = await call('POST', `/api/admin/dead-letters/${deadId}/retry`, 'admin');
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id: deadId, status: 'pending' });

    // The workflow fails again through a full retry budget (2 attempts here), then returns to the dead letters.
    const again = await eventually('the retried entry to fail again', async () => {
      if ((server.app.hookRunner.stats.failures.get('test-always-fails') ?? 0) < failuresBefore + 2) return undefined;
      const list = await call('GET', '/api/admin/dead-letters', 'admin');
      return list.body.deadLetters.find((e: { id: number }) => e.id === deadId);
    });
    expect(again.lastError).toBe('the test target is down (503)');
    expect(again.attempts).toBe(2);
    expect(server.app.hookRunner.stats.failures.get('test-always-fails')).toBe(failuresBefore + 2);

    const audit = await server.app.store.queryAudit({ tenantId: TENANT, limit: 50 });
    expect(audit.some((a) => a.action === 'dead_letter_retry' && a.details?.['outboxId'] === deadId && a.actor.role === 'admin')).toBe(true);
  });

  it('retry of an id that is not a dead letter is 404; a malformed id is 400', async () => {
    const missing = await call('POST', '/api/admin/dead-letters/999999/retry', 'admin');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('no dead letter 999999');
    const bad = await call('POST', '/api/admin/dead-letters/abc/retry', 'admin');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BAD_ID');
  });
});

describe('quarantine', () => {
  it('shows the admin what was refused from their agency, and nothing to others', async () => {
    const foreign = { ...newEpcr(OTHER, 'M1'), rev: '1-a', _deleted: false };
    expect(await push(foreign)).toBe(403);

    expect((await call('GET', '/api/admin/quarantine', 'crew')).status).toBe(403);
    const r = await call('GET', '/api/admin/quarantine', 'admin');
    expect(r.status).toBe(200);
    const entry = r.body.quarantine.find((q: { documentId: string }) => q.documentId === foreign.id);
    expect(entry).toMatchObject({ collection: 'epcrs', sentBy: { kind: 'device', role: 'crew', deviceId: 'crew-1' } });
    expect(entry.reason).toContain(`"${OTHER}"`);
    expect(entry.document).toEqual(foreign);

    const other = await call('GET', '/api/admin/quarantine', 'admin', OTHER);
    expect(other.body.quarantine.find((q: { documentId: string }) => q.documentId === foreign.id)).toBeUndefined();
  });
});

describe('GET /api/epcrs/:id/nemsis.xml', () => {
  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<EMSDataSet xmlns="http://www.nemsis.org"/>\n';

  /** A report as the finalize hook leaves it: finalized and locked (billers see only those). */
  async function lockedReport() {
    const doc = { ...newEpcr(TENANT, 'M1', { status: 'finalized', lockedAt: '2026-11-22T14:02:00-05:00' }), rev: '2-srv.lock', _deleted: false };
    await server.app.store.writeBatch({
      collection: 'epcrs', tenantId: TENANT, actor: { kind: 'hook', tenantId: TENANT },
      requests: [{ id: doc.id, incoming: doc, decide: () => ({ action: 'write', doc }) }],
    });
    return doc;
  }

  it('returns the stored export as XML to admin, biller and crew of the agency', async () => {
    const doc = await lockedReport();
    await server.app.store.putArtifact(`nemsis:${doc.id}`, TENANT, 'application/xml', xml);

    for (const role of ['admin', 'biller', 'crew'] as const) {
      const r = await call('GET', `/api/epcrs/${doc.id}/nemsis.xml`, role);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/xml; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.body).toBe(xml);
    }
    const audit = await server.app.store.queryAudit({ tenantId: TENANT, documentId: doc.id, limit: 50 });
    expect(audit.filter((a) => a.action === 'read' && a.details?.['artifact'] === 'nemsis')).toHaveLength(3);
  });

  it('is refused to a crew of another unit, as the report itself is', async () => {
    const doc = await lockedReport();
    await server.app.store.putArtifact(`nemsis:${doc.id}`, TENANT, 'application/xml', xml);
    const otherCrew = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'crew-m2', subject: 'M2' });
    const r = await fetch(`${server.url}/api/epcrs/${doc.id}/nemsis.xml`, { headers: { authorization: `Bearer ${otherCrew}` } });
    expect(r.status).toBe(404);
    expect(await r.text()).not.toContain('EMSDataSet');
  });

  it('is refused to other roles', async () => {
    const r = await call('GET', `/api/epcrs/${newEpcr(TENANT, 'M1').id}/nemsis.xml`, 'dispatcher');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
  });

  it('is 404 with a clear message when the report is not exported yet, or does not exist in the caller\'s agency', async () => {
    const draft = newEpcr(TENANT, 'M1');
    expect(await push({ ...draft, rev: '1-a', _deleted: false })).toBe(200);
    // A biller may not see a draft at all; the crew that writes it is told why there is no export.
    expect((await call('GET', `/api/epcrs/${draft.id}/nemsis.xml`, 'biller')).body.error.code).toBe('EPCR_NOT_FOUND');
    const notYet = await call('GET', `/api/epcrs/${draft.id}/nemsis.xml`, 'crew');
    expect(notYet.status).toBe(404);
    expect(notYet.body.error.code).toBe('NOT_EXPORTED');
    expect(notYet.body.error.message).toContain('made when the report is finalized');
    expect(notYet.body.error.message).toContain('"draft"');

    const finalized = await lockedReport();
    const pending = await call('GET', `/api/epcrs/${finalized.id}/nemsis.xml`, 'biller');
    expect(pending.status).toBe(404);
    expect(pending.body.error.message).toContain('not ready yet');

    const missing = await call('GET', `/api/epcrs/${newEpcr(TENANT, 'M1').id}/nemsis.xml`, 'biller');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('EPCR_NOT_FOUND');

    // Another agency's export looks exactly like a report that does not exist.
    const theirs = newEpcr(OTHER, 'M1', { status: 'finalized' });
    await server.app.store.putArtifact(`nemsis:${theirs.id}`, OTHER, 'application/xml', xml);
    const foreign = await call('GET', `/api/epcrs/${theirs.id}/nemsis.xml`, 'admin');
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('EPCR_NOT_FOUND');
  });

  it('is 400 for an id that is not a report id', async () => {
    const r = await call('GET', '/api/epcrs/not-a-uuid/nemsis.xml', 'admin');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_ID');
  });
});
