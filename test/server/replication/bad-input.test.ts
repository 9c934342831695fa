import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-1', subject: 'M1' });
const V = epcrSchema.version;

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ bodyLimitBytes: 256 * 1024 }); });
afterAll(async () => { await server.close(); });

async function push(body: string, path = `/api/sync/epcrs/push?schemaVersion=${V}`, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error: { code: string; message: string; details?: { index?: number; id?: string; path?: string }[] } } };
}

async function storedCount(): Promise<number> {
  return server.app.store.countDocuments('epcrs', TENANT);
}

function valid(extra = {}) {
  return { ...newEpcr(TENANT, 'M1'), rev: '1-a', _deleted: false, ...extra };
}

describe('bad input is refused with a 4xx naming the problem, and nothing is written', () => {
  it('malformed JSON', async () => {
    const r = await push('[{"newDocumentState": {');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('MALFORMED_JSON');
    expect(await storedCount()).toBe(0);
  });

  it('an unknown collection', async () => {
    const r = await push('[]', '/api/sync/patients/push?schemaVersion=0');
    expect(r.status).toBe(404);
    expect(r.body.error.message).toContain('"patients"');
  });

  it('a document failing its schema names the row, the document and the field; the valid rows beside it are not written', async () => {
    const good = valid();
    const bad = valid({ patient: { age: 'forty' } });
    const r = await push(JSON.stringify([{ newDocumentState: good }, { newDocumentState: bad }]));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_DOCUMENT');
    expect(r.body.error.details?.[0]).toMatchObject({ index: 1, id: bad.id, path: 'newDocumentState.patient.age' });
    expect(r.body.error.message).toContain(bad.id);
    expect(await storedCount()).toBe(0);
  });

  it('an unknown field and a Z-suffixed time are refused', async () => {
    const r1 = await push(JSON.stringify([{ newDocumentState: valid({ colour: 'red' }) }]));
    expect(r1.status).toBe(400);
    expect(r1.body.error.details?.[0]?.path).toBe('newDocumentState.colour');
    const r2 = await push(JSON.stringify([{ newDocumentState: valid({ times: { unitNotified: '2026-11-22T10:00:00Z' } }) }]));
    expect(r2.status).toBe(400);
    expect(r2.body.error.details?.[0]?.path).toBe('newDocumentState.times.unitNotified');
    expect(await storedCount()).toBe(0);
  });

  it('a body that is not an array of rows', async () => {
    const r = await push(JSON.stringify({ newDocumentState: valid() }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_PUSH_BODY');
    const r2 = await push(JSON.stringify([valid()]));
    expect(r2.status).toBe(400);
    expect(r2.body.error.message).toContain('Row 0');
    expect(await storedCount()).toBe(0);
  });

  it('an oversized body', async () => {
    const rows = Array.from({ length: 400 }, () => ({ newDocumentState: valid({ narrative: { text: 'x'.repeat(1000) } }) }));
    const r = await push(JSON.stringify(rows));
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('BODY_TOO_LARGE');
    expect(await storedCount()).toBe(0);
  });

  it('a bad checkpoint and a bad limit on pull', async () => {
    for (const [query, code] of [
      ['checkpoint=%7Bseq', 'BAD_CHECKPOINT'],
      ['checkpoint=%7B%22seq%22%3A-1%7D', 'BAD_CHECKPOINT'],
      ['checkpoint=%5B1%5D', 'BAD_CHECKPOINT'],
      ['limit=0', 'BAD_LIMIT'],
      ['limit=abc', 'BAD_LIMIT'],
    ] as const) {
      const response = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${V}&${query}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code, query).toBe(code);
    }
  });

  it('an outdated client schema gets 426 telling it to update; a missing version is a 400', async () => {
    const server2 = await startTestServer({ collections: { epcrs: { ...epcrSchema, version: 3 } as never } });
    try {
      const r = await fetch(`${server2.url}/api/sync/epcrs/pull?schemaVersion=2`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(426);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/Update the app/);
      const r2 = await fetch(`${server2.url}/api/sync/epcrs/pull`, { headers: { authorization: `Bearer ${token}` } });
      expect(r2.status).toBe(400);
    } finally {
      await server2.close();
    }
  });

  it('no token, or a malformed one, is a 401', async () => {
    const r = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${V}`);
    expect(r.status).toBe(401);
    const r2 = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${V}`, { headers: { authorization: 'Bearer nonsense' } });
    expect(r2.status).toBe(401);
  });

  it('a document claiming another agency is refused whole, kept in quarantine, and not written', async () => {
    const mine = valid();
    const theirs = valid({ tenantId: 'agency-b' });
    const r = await push(JSON.stringify([{ newDocumentState: mine }, { newDocumentState: theirs }]));
    expect(r.status).toBe(403);
    expect(r.body.error.details?.[0]).toMatchObject({ id: theirs.id, path: 'tenantId' });
    expect(await storedCount()).toBe(0);
    expect(await server.app.store.countDocuments('epcrs', 'agency-b')).toBe(0);
    const quarantined = await server.app.store.listQuarantine(TENANT, 10);
    expect(quarantined.map((q) => q.documentId)).toContain(theirs.id);
  });

  it('errors carry a request id and never a stack trace, and the server keeps serving', async () => {
    const r = await push('{"a":');
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+|node_modules/);
    const ok = await push(JSON.stringify([{ newDocumentState: valid() }]));
    expect(ok.status).toBe(200);
    expect(await storedCount()).toBe(1);
  });
});

describe('compressed push bodies', () => {
  it('a gzip-compressed push is accepted; a corrupt one is a 400 and writes nothing', async () => {
    const { gzipSync } = await import('node:zlib');
    const before = await storedCount();
    const rows = Array.from({ length: 50 }, () => ({ newDocumentState: valid({ narrative: { text: 'compressible '.repeat(40) } }) }));
    const raw = JSON.stringify(rows);
    const zipped = gzipSync(raw);
    expect(zipped.length).toBeLessThan(raw.length / 5);
    const ok = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zipped,
    });
    expect(ok.status).toBe(200);
    expect(await storedCount()).toBe(before + 50);
    const bad = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zipped.subarray(0, 40),
    });
    expect(bad.status).toBe(400);
    expect(await storedCount()).toBe(before + 50);
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 32));
    const big = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb,
    });
    expect(big.status).toBe(413);
  });
});
