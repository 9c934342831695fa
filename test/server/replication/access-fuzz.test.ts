/**
 * fast-check fuzzing of push and pull (2,400 generated requests in all): every answer is 2xx or
 * 4xx, never 5xx; a refused push writes nothing (no commit happens while it is handled); a
 * pull only ever returns the caller's agency, in the form its role may see.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { ROLES, type Role } from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { COLLECTIONS, DISPATCH_EPCR_KEYS, LOCKED_AT, make, seedWorld, VISIBLE } from '../../helpers/access.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';

const A = 'agency-a';
const B = 'agency-b';
const PUSH_RUNS = 1400;
const PULL_RUNS = 1000;

let server: TestServer;
let commits = 0;
let stopCounting: () => void;
const ids = Array.from({ length: 12 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

beforeAll(async () => {
  server = await startTestServer({ logLevel: 'silent' });
  await seedWorld(server.app.store, A);
  await seedWorld(server.app.store, B);
  stopCounting = server.app.store.onCommit(() => { commits++; });
}, 60_000);
afterAll(async () => {
  stopCounting();
  await server.close();
});

const tokenOf = (role: Role, tenantId: string) => devToken({
  tenantId, role, deviceId: `fuzz-${role}`,
  ...(role === 'crew' ? { subject: 'M1' } : role === 'technician' ? { subject: 'T1' } : {}),
});

const tokenArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ROLES).map((role) => tokenOf(role, A)) },
  { weight: 1, arbitrary: fc.constantFrom('', 'nonsense', 'dev:a:b', 'eyJhbGciOiJub25lIn0.e30.', `${tokenOf('admin', A)}:extra`, 'dev:agency-a:root:x') },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
);

/** Values the access rules care about, plus some that are plainly wrong. */
const interesting = fc.constantFrom<unknown>('M1', 'M2', 'T1', 'T2', A, B, LOCKED_AT, 'finalized', 'draft', 'unit', 'technician', 'assigned',
  null, true, false, 0, -1, 1e308, '', 'x'.repeat(300), [], {}, { text: 'note' }, ids[0]);

const collectionArb = fc.constantFrom(...COLLECTIONS);
const keyArb = fc.constantFrom('id', 'tenantId', 'rev', '_deleted', 'status', 'unitId', 'assignedUnitId', 'callSign', 'sourceType', 'sourceId',
  'assigneeId', 'ticketId', 'lockedAt', 'finalizeErrors', 'addendumOf', 'narrative', 'notes', 'lat', 'payer', 'conflicts', 'extra', '__proto__');

const docArb = fc.record({
  collection: collectionArb,
  tenant: fc.constantFrom(A, A, A, B),
  id: fc.constantFrom(...ids),
  revN: fc.integer({ min: 1, max: 30 }),
  patch: fc.dictionary(keyArb, fc.oneof(interesting, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 3 }),
});

const rowArb = fc.record({
  doc: docArb,
  assumed: fc.oneof(fc.constant(undefined), fc.constant('stored' as const), fc.jsonValue({ maxDepth: 2 })),
  extraKey: fc.boolean(),
});

/** Stands for the collection's current schema version (shared/schemas), filled in per request. */
const CURRENT = '(current)';
const versionParam = (value: string, collection: string) => (value === CURRENT ? String(schemaVersionOf(collection)) : value);

/** A push request: mostly near-valid rows for one collection, sometimes arbitrary JSON or bytes. */
const pushArb = fc.record({
  token: tokenArb,
  collection: fc.oneof({ weight: 9, arbitrary: collectionArb }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
  schemaVersion: fc.oneof({ weight: 9, arbitrary: fc.constant(CURRENT) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
  body: fc.oneof(
    { weight: 6, arbitrary: fc.array(rowArb, { minLength: 0, maxLength: 6 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ raw: JSON.stringify(v) })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ raw: s })) },
  ),
});

type GeneratedRow = { doc: { collection: string; tenant: string; id: string; revN: number; patch: Record<string, unknown> }; assumed: unknown; extraKey: boolean };

function buildBody(body: GeneratedRow[] | { raw: string }, collection: string, storedDocs: Map<string, unknown>): string {
  if (!Array.isArray(body)) return body.raw;
  const rows = body.map((row) => {
    const d = row.doc;
    const name = ((COLLECTIONS as readonly string[]).includes(collection) ? collection : d.collection) as keyof typeof make;
    const base = make[name](d.tenant) as Record<string, unknown>;
    const doc = { ...base, id: d.id, rev: `${d.revN}-fz${Math.floor(Math.random() * 1e9)}`, ...d.patch };
    const assumed = row.assumed === 'stored' ? storedDocs.get(`${collection}/${d.id}`) : row.assumed;
    return { newDocumentState: doc, ...(assumed !== undefined ? { assumedMasterState: assumed } : {}), ...(row.extraKey ? { extra: 1 } : {}) };
  });
  return JSON.stringify(rows);
}

describe('fuzzing', () => {
  it(`push: ${PUSH_RUNS} generated bodies, never a 5xx, nothing written when refused`, async () => {
    const storedDocs = new Map<string, unknown>();
    let ok = 0;
    let refused = 0;
    await fc.assert(fc.asyncProperty(pushArb, async (input) => {
      for (const collection of COLLECTIONS) {
        for (const doc of await server.app.store.getDocuments(collection, A, ids)) storedDocs.set(`${collection}/${doc.id}`, JSON.parse(doc.json));
      }
      const before = commits;
      const r = await fetch(`${server.url}/api/sync/${encodeURIComponent(input.collection)}/push?schemaVersion=${encodeURIComponent(versionParam(input.schemaVersion, input.collection))}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${input.token}`, 'content-type': 'application/json' },
        body: buildBody(input.body, input.collection, storedDocs),
      });
      const text = await r.text();
      expect(r.status, text).toBeLessThan(500);
      expect([2, 4]).toContain(Math.floor(r.status / 100));
      if (r.status >= 400) {
        refused++;
        expect(commits, `a refused push (${r.status}) committed something: ${text}`).toBe(before);
        const body = JSON.parse(text) as { error: { code: string; message: string } };
        expect(typeof body.error.code).toBe('string');
        expect(text).not.toMatch(/at .*\.ts:\d+|node_modules|\/work\//);
      } else {
        ok++;
        expect(Array.isArray(JSON.parse(text))).toBe(true);
      }
    }), { numRuns: PUSH_RUNS, seed: 20261122 });
    // Both paths were exercised.
    expect(ok).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  }, 240_000);

  const checkpointArb = fc.oneof(
    fc.constant(undefined),
    fc.nat({ max: 10_000 }).map((seq) => JSON.stringify({ seq })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 30 }),
    fc.constantFrom('{"seq":-1}', '{"seq":1.5}', '{"seq":1e300}', 'null', '[]', '{"seq":"1"}'),
  );
  const pullArb = fc.record({
    token: tokenArb,
    collection: fc.oneof({ weight: 9, arbitrary: collectionArb }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    schemaVersion: fc.oneof({ weight: 8, arbitrary: fc.constant(CURRENT) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    checkpoint: checkpointArb,
    limit: fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 20_000 }).map(String), fc.string({ maxLength: 10 })),
    extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
  });

  it(`pull: ${PULL_RUNS} generated queries, never a 5xx, never another agency or a slice the role may not see`, async () => {
    let ok = 0;
    await fc.assert(fc.asyncProperty(pullArb, async (input) => {
      const q = new URLSearchParams(input.extra);
      if (input.schemaVersion !== undefined) q.set('schemaVersion', versionParam(input.schemaVersion, input.collection));
      if (input.checkpoint !== undefined) q.set('checkpoint', input.checkpoint);
      if (input.limit !== undefined) q.set('limit', input.limit);
      const r = await fetch(`${server.url}/api/sync/${encodeURIComponent(input.collection)}/pull?${q}`, { headers: { authorization: `Bearer ${input.token}` } });
      const text = await r.text();
      expect(r.status, text).toBeLessThan(500);
      expect([2, 4]).toContain(Math.floor(r.status / 100));
      if (r.status !== 200) return;
      ok++;
      // Any token the server accepted is a development token of agency A: its third part is the role.
      const [, tenant, role] = input.token.split(':') as [string, string, Role];
      expect(tenant).toBe(A);
      const unit = role === 'crew' ? input.token.split(':')[4] : undefined;
      expect(VISIBLE[role][input.collection as keyof typeof VISIBLE[Role]]).toBeDefined();
      const page = JSON.parse(text) as { documents: Record<string, unknown>[]; checkpoint: { seq: number } };
      expect(Number.isSafeInteger(page.checkpoint.seq)).toBe(true);
      for (const doc of page.documents) {
        expect(doc['tenantId']).toBe(A);
        if (role === 'crew') expect(doc['unitId'] ?? doc['assignedUnitId'] ?? doc['callSign'] ?? doc['sourceId']).toBe(unit);
        if (role === 'technician' && input.collection === 'jobs') expect(doc['assigneeId']).toBe('T1');
        if (role === 'biller' && input.collection === 'epcrs') expect(doc['lockedAt']).toBeDefined();
        if (role === 'dispatcher' && input.collection === 'epcrs') expect(Object.keys(doc).every((k) => DISPATCH_EPCR_KEYS.includes(k))).toBe(true);
      }
    }), { numRuns: PULL_RUNS, seed: 20261123 });
    expect(ok).toBeGreaterThan(50);
  }, 240_000);
});
