import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { JsonDepthScanner, nestsDeeperThan } from '../../../server/http/json-depth.ts';
import { quarantineJson } from '../../../server/store/document-json.ts';
import { importTransportKey, sealDocument } from '../../../shared/crypto/envelope.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-hostile', subject: 'M1' });
const V = epcrSchema.version;

/** `{"a":{"a":…}}` nested `levels` deep: 6 bytes a level, so 5,000 levels are a 30 KB body. */
function nested(levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
}

interface ErrorAnswer { status: number; body: { error: { code: string; message: string } } }

async function push(server: TestServer, body: string): Promise<ErrorAnswer> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body,
  });
  return { status: response.status, body: (await response.json()) as ErrorAnswer['body'] };
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`hostile bodies get a 4xx naming the problem, never a 500 (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    beforeAll(async () => {
      server = storeKind === 'postgres' ? await startTestServer({ store: (await schemas.openStore()).store }) : await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
      await schemas.dropAll();
    });

    it('a sealed row nested 5,000 levels deep (30 KB) is refused with 400 BODY_TOO_DEEP, and the server keeps serving', async () => {
      // 5,000 levels answered 500 in the issue's run; 50,000 overflow the stack on any machine.
      for (const levels of [5000, 50_000]) {
        const body = `[{"newDocumentState":{"id":"${randomUUID()}","$enc":${nested(levels)}}}]`;
        expect(body.length).toBeGreaterThan(levels * 6);
        const answer = await push(server, body);
        expect(answer.status, `${levels} levels`).toBe(400);
        expect(answer.body.error.code).toBe('BODY_TOO_DEEP');
        expect(answer.body.error.message).toMatch(/64 levels/);
      }
      // The same nesting in an ordinary (unsealed) row is refused alike.
      expect((await push(server, `[{"newDocumentState":${nested(5000)}}]`)).body.error.code).toBe('BODY_TOO_DEEP');
      // A well-formed push right after is written.
      const doc = { ...newEpcr(TENANT, 'M1'), rev: '1-a', _deleted: false };
      const ok = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify([{ newDocumentState: doc }]),
      });
      expect(ok.status).toBe(200);
      expect(await server.app.store.countDocuments('epcrs', TENANT)).toBe(1);
    });

    it('the same nesting gzip-compressed (a few hundred bytes on the wire) is refused alike', async () => {
      const { gzipSync } = await import('node:zlib');
      const zipped = gzipSync(`[{"newDocumentState":${nested(100_000)}}]`);
      expect(zipped.length).toBeLessThan(5000);
      const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zipped,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorAnswer['body']).error.code).toBe('BODY_TOO_DEEP');
    });

    it('a sealed row that opens to a document nested 100,000 levels deep is refused as BAD_ENVELOPE and kept, not a 500', async () => {
      const issued = await server.app.auth.transportKeys.issue(TENANT, 'user-hostile', 'tablet-hostile', Date.now());
      const key = { kid: issued.kid, key: await importTransportKey(issued.key) };
      const id = randomUUID();
      // What a hostile client encrypts by hand: JSON.stringify cannot write this text from an
      // object here either, so sealDocument is handed the text for its one JSON.stringify call.
      const text = `{"id":"${id}","a":${nested(100_000)}}`;
      const stand = { id };
      const stringify = JSON.stringify;
      JSON.stringify = ((value: unknown, ...rest: unknown[]) => (value === stand ? text : stringify(value, ...(rest as [])))) as typeof JSON.stringify;
      let envelope;
      try {
        envelope = await sealDocument(key, 'epcrs', stand);
      } finally {
        JSON.stringify = stringify;
      }
      const answer = await push(server, JSON.stringify([{ newDocumentState: envelope }]));
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('BAD_ENVELOPE');
      expect(answer.body.error.message).toMatch(/more than 64 levels deep/);
      const kept = await server.app.store.listQuarantine(TENANT, 50);
      expect(kept.map((q) => q.documentId)).toContain(id);
    });

    it('a malformed sealed row within the limit is still refused as BAD_ENVELOPE and kept in quarantine', async () => {
      const id = randomUUID();
      const answer = await push(server, `[{"newDocumentState":{"id":"${id}","$enc":${nested(40)}}}]`);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('BAD_ENVELOPE');
      const kept = await server.app.store.listQuarantine(TENANT, 50);
      expect(kept.map((q) => q.documentId)).toContain(id);
    });

    it('a refused row whose id holds U+0000 is still kept in quarantine (PostgreSQL text cannot hold it)', async () => {
      const answer = await push(server, '[{"newDocumentState":{"id":"bad\\u0000id","$enc":{"v":1}}}]');
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('BAD_ENVELOPE');
      const kept = await server.app.store.listQuarantine(TENANT, 50);
      expect(kept.map((q) => q.documentId)).toContain('bad\ufffdid');
    });
  });
}

describe('the nesting scanner', () => {
  it('counts brackets outside strings only, however the text is split into chunks', () => {
    const text = JSON.stringify([{ a: '{[{[\\"', b: [[[{ c: 'x"]]]}' }]]], d: '\\' }, [[]]]);
    const whole = new JsonDepthScanner(64);
    whole.feed(Buffer.from(text));
    expect(whole.deepest).toBe(6);
    const bytes = Buffer.from(text);
    const byByte = new JsonDepthScanner(64);
    for (const byte of bytes) byByte.feed(Uint8Array.of(byte));
    expect(byByte.deepest).toBe(6);
    expect(new JsonDepthScanner(5).feed(bytes)).toBe(false);
  });

  it('an opened sealed document is measured without recursion (the body scan cannot see inside the ciphertext)', () => {
    const deep = JSON.parse(nested(100_000)) as unknown;
    expect(nestsDeeperThan(deep, 64)).toBe(true);
    expect(nestsDeeperThan(JSON.parse(nested(64)), 64)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(nested(65)), 64)).toBe(true);
    expect(nestsDeeperThan({ a: [1, 'x', { b: null }] }, 3)).toBe(false);
  });

  it('a document JSON.stringify cannot write is kept down to 64 levels instead of throwing', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) deep = { a: deep };
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const kept = quarantineJson({ id: 'x', deep });
    expect(kept).toContain('"id":"x"');
    expect(kept).toContain('not kept');
  });
});
