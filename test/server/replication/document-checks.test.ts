import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { seedDemoTenant } from '../../../server/auth/demo.ts';
import { seedDemoData } from '../../../server/demo/index.ts';
import { describeSchemaErrors } from '../../../server/replication/collections.ts';
import { isRealOffsetDateTime } from '../../../server/replication/document-checks.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { settled } from '../hooks/support.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-checks', subject: 'M1' });
const V = epcrSchema.version;

interface Answer { status: number; body: { error?: { code: string; message: string; details?: { path?: string; message: string }[] } } }

async function push(server: TestServer, docs: object[]): Promise<Answer> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(docs.map((doc) => ({ newDocumentState: doc }))),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const epcr = (extra: Record<string, unknown> = {}) => ({ ...newEpcr(TENANT, 'M1'), rev: '1-a', _deleted: false, ...extra });

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`documents both stores can hold, with real times (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    beforeAll(async () => {
      server = storeKind === 'postgres' ? await startTestServer({ store: (await schemas.openStore()).store }) : await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
      await schemas.dropAll();
    });

    it('an impossible time is refused with 400 naming the field; real ones, with or without seconds, are accepted', async () => {
      for (const time of ['9999-99-99T99:99:99+99:99', '2026-02-30T10:00:00+01:00', '2026-11-22T24:00+01:00', '2026-11-22T10:60:00-05:00', '2026-11-22T10:00:00+15:00']) {
        const answer = await push(server, [epcr({ times: { unitNotified: time } })]);
        expect(answer.status, time).toBe(400);
        expect(answer.body.error?.code).toBe('INVALID_DOCUMENT');
        expect(answer.body.error?.details?.[0]?.path, time).toBe('newDocumentState.times.unitNotified');
        expect(answer.body.error?.details?.[0]?.message).toMatch(/not a real date and time/);
      }
      const good = [epcr({ times: { unitNotified: '2024-02-29T23:59:59.5-05:00' } }), epcr({ times: { unitNotified: '2026-11-22T10:00+14:00' } })];
      expect((await push(server, good)).status).toBe(200);
    });

    it('text holding U+0000 or an unpaired surrogate is refused with 400 naming the field; nothing is written', async () => {
      const before = await server.app.store.countDocuments('epcrs', TENANT);
      const nul = await push(server, [epcr(), epcr({ narrative: { text: 'pt found\u0000 supine' } })]);
      expect(nul.status).toBe(400);
      expect(nul.body.error?.code).toBe('INVALID_DOCUMENT');
      expect(nul.body.error?.details?.[0]).toMatchObject({ path: 'newDocumentState.narrative.text' });
      expect(nul.body.error?.details?.[0]?.message).toMatch(/U\+0000/);
      const lone = await push(server, [epcr({ patient: { firstName: 'Ana\ud800' } })]);
      expect(lone.status).toBe(400);
      expect(lone.body.error?.details?.[0]).toMatchObject({ path: 'newDocumentState.patient.firstName' });
      expect(lone.body.error?.details?.[0]?.message).toMatch(/unpaired UTF-16 surrogate/);
      expect(await server.app.store.countDocuments('epcrs', TENANT)).toBe(before);
      // A real character outside the BMP (a surrogate pair) is text like any other.
      expect((await push(server, [epcr({ patient: { firstName: 'Ana 🚑' } })])).status).toBe(200);
    });

    it('a dispatcher\'s incident number holding U+0000, sent through the CAD bridge route, is refused with 400 naming the field', async () => {
      const dispatcher = devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console-checks' });
      const response = await fetch(`${server.url}/api/socket-bridge/incident-status`, {
        method: 'POST', headers: { authorization: `Bearer ${dispatcher}`, 'content-type': 'application/json' },
        body: JSON.stringify({ incidentNumber: 'D-77\u0000', status: 'closed' }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as Answer['body'];
      expect(body.error?.code).toBe('BAD_CAD_EVENT');
      expect(body.error?.message).toMatch(/incidentNumber: contains U\+0000/);
      expect(await server.app.store.countDocuments('incidents', TENANT)).toBe(0);
    });

    it('a document stored before this check, holding U+0000, does not break the filtered pull of its agency', async () => {
      const old = epcr({ narrative: { text: 'written by an older server\u0000' } });
      // Another unit's, with an unpaired surrogate: still filtered out of M1's pull.
      const otherUnit = { ...newEpcr(TENANT, 'M2'), rev: '1-a', _deleted: false, patient: { firstName: 'Bo\udc00' } };
      const written = await server.app.store.writeBatch({
        collection: 'epcrs', tenantId: TENANT, actor: { kind: 'system', tenantId: TENANT }, planOutbox: false,
        requests: [old, otherUnit].map((doc) => ({ id: doc.id, incoming: doc, decide: () => ({ action: 'write' as const, doc }) })),
      });
      expect(written.rejected).toHaveLength(0);
      // The crew's pull is filtered to its unit: on PostgreSQL it reads each document as jsonb.
      // A pull answers only below the oldest transaction still open (docs/protocol.md §11), and a
      // hook or the audit linker may hold one a moment: pulled again until the write is below it.
      type Page = { documents: { id: string; narrative?: { text?: string } }[] };
      const pull = async (): Promise<Page> => {
        const response = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${V}&limit=1000`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(200);
        return (await response.json()) as Page;
      };
      let page = await pull();
      for (let tries = 0; tries < 50 && !page.documents.some((d) => d.id === old.id); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        page = await pull();
      }
      const found = page.documents.find((d) => d.id === old.id);
      expect(found?.narrative?.text).toBe('written by an older server\u0000');
      expect(page.documents.map((d) => d.id)).not.toContain(otherUnit.id);
    });
  });
}

describe('real date-times', () => {
  it('follows the calendar', () => {
    expect(isRealOffsetDateTime('2023-02-29T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2000-02-29T00:00+00:00')).toBe(true);
    expect(isRealOffsetDateTime('1900-02-29T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2026-04-31T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2026-12-31T23:59:59.999999-14:00')).toBe(true);
    expect(isRealOffsetDateTime('0000-01-01T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2026-01-01T00:00:00Z')).toBe(false);
  });
});

describe('every text field of every collection (the demo agency\'s documents, made by the real hooks)', () => {
  let demo: TestServer;
  beforeAll(async () => {
    demo = await startTestServer({ hookRunner: { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50 } });
    await seedDemoTenant(demo.app.identities);
    await seedDemoData(demo.app);
    await settled(demo);
  }, 120_000);
  afterAll(async () => { await demo?.close(); });

  it('each stored document passes the new checks; with U+0000 in any one of its strings it is refused naming that field', async () => {
    const registry = demo.app.collectionRegistry;
    const checked = new Set<string>();
    let fields = 0;
    for (const collection of registry.keys()) {
      const page = await demo.app.store.pull({ collection, tenantId: 'demo', afterSeq: 0, limit: 10_000 });
      const spec = registry.get(collection)!;
      for (const stored of page.documents) {
        const doc = JSON.parse(stored.json) as Record<string, unknown>;
        expect(spec.validate(doc), `${collection} ${stored.id}: ${JSON.stringify(spec.validate.errors)}`).toBe(true);
        for (const path of stringPaths(doc)) {
          const poisoned = structuredClone(doc);
          setAt(poisoned, path, `${String(getAt(doc, path))}\u0000`);
          expect(spec.validate(poisoned), `${collection}.${path.join('.')}`).toBe(false);
          expect(describeSchemaErrors(spec.validate.errors)[0]?.path).toBe(path.join('.'));
          checked.add(`${collection}.${path.filter((p) => typeof p === 'string').join('.')}`);
          fields++;
        }
      }
    }
    // Every collection the demo fills (all but unit_status_events), with the text fields its documents have.
    expect(new Set([...checked].map((p) => p.split('.')[0]))).toEqual(new Set(['units', 'incidents', 'epcrs', 'billing_records', 'claims', 'orders', 'tickets', 'jobs', 'gps_points']));
    expect(fields).toBeGreaterThan(100);
  }, 60_000);
});

type Path = (string | number)[];

function stringPaths(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringPaths(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, key]));
  return [];
}

function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value);
}

function setAt(value: unknown, path: Path, next: unknown): void {
  const parent = getAt(value, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = next;
}
