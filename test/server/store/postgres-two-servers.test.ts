import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { PostgresStore } from '../../../server/store/postgres.ts';
import { newGpsPoint } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES, TEST_DATABASE_URL } from './fixtures.ts';

const TENANT = 'agency-a';
const WRITERS = 6;
const PUSHES = 15;
const PER_PUSH = 25;
const schemas = new PgSchemas();
const servers: TestServer[] = [];

/**
 * Two server instances, each with its own PostgresStore (own pool, own in-process write queue:
 * two processes in all but name) on one schema. Pushes go to both; a reader pulls from one with
 * its checkpoint while they commit. Their commits are ordered by transaction id, and pulls stop below the oldest open one.
 */
describe.skipIf(SKIP_POSTGRES)('two servers on one PostgreSQL schema', () => {
  beforeAll(async () => {
    const schema = await schemas.create();
    for (let i = 0; i < 2; i++) {
      const store = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 6 } });
      servers.push(await startTestServer({ store }));
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await schemas.dropAll();
  });

  it('pushes through both servers; a reader pulling by checkpoint from one gets every document exactly once', async () => {
    const reader = devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console' });
    const seen = new Map<string, number>();
    let writing = true;
    let pulls = 0;
    const readerLoop = (async () => {
      let checkpoint: unknown = null;
      for (;;) {
        const finalPass = !writing;
        const response = await fetch(`${servers[0]!.url}/api/sync/gps_points/pull?schemaVersion=0&limit=40&checkpoint=${encodeURIComponent(JSON.stringify(checkpoint))}`, {
          headers: { authorization: `Bearer ${reader}` },
        });
        expect(response.status).toBe(200);
        const page = (await response.json()) as { documents: { id: string }[]; checkpoint: unknown };
        pulls++;
        for (const d of page.documents) seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
        checkpoint = page.checkpoint;
        if (page.documents.length === 0) {
          if (finalPass) return;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    })();

    const expected = new Set<string>();
    await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
      const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt${w}`, subject: `M${w}` });
      for (let p = 0; p < PUSHES; p++) {
        const server = servers[(w + p) % 2]!;
        const points = Array.from({ length: PER_PUSH }, (_, j) => ({ ...newGpsPoint(TENANT, `M${w}`, p * PER_PUSH + j), rev: `1-w${w}`, _deleted: false }));
        for (const point of points) expected.add(point.id);
        const response = await fetch(`${server.url}/api/sync/gps_points/push?schemaVersion=0`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(points.map((newDocumentState) => ({ newDocumentState }))),
        });
        expect(response.status, await response.clone().text()).toBe(200);
        expect(await response.json()).toEqual([]);
      }
    }));
    writing = false;
    await readerLoop;

    expect(seen.size).toBe(expected.size);
    expect(new Set(seen.keys())).toEqual(expected);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(pulls).toBeGreaterThan(2);
    expect(await servers[1]!.app.store.countDocuments('gps_points', TENANT)).toBe(WRITERS * PUSHES * PER_PUSH);
    expect(await servers[1]!.app.store.verifyAudit()).toMatchObject({ ok: true });
  });
});
