/**
 * PostgreSQL's audit verification reads the chain and its index through two cursors, a page
 * (2,000 rows) at a time: a log of several pages, whose index rows run across page ends, verifies
 * whole, and one index row deleted deep inside it is found, once. auditHead counts what a
 * checkpoint records.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntryInput } from '../../../server/store/types.ts';
import { PgSchemas, SKIP_POSTGRES } from './fixtures.ts';

const schemas = new PgSchemas();
afterAll(async () => { await schemas.dropAll(); });
const A = 'agency-a';

describe.skipIf(SKIP_POSTGRES)('PostgresStore.verifyAudit over many pages', () => {
  it('verifies 5,000 entries with 3 index rows each, and names the one index row deleted among them', async () => {
    const { store, schema } = await schemas.openStore();
    try {
      for (let batch = 0; batch < 10; batch++) {
        const entries: AuditEntryInput[] = Array.from({ length: 500 }, (_, i) => ({
          tenantId: A, action: 'read', actor: { kind: 'device', tenantId: A, userId: 'u' }, collection: 'epcrs',
          documents: [{ id: `d${batch}-${i}-a` }, { id: `d${batch}-${i}-b` }, { id: `d${batch}-${i}-c` }],
        }));
        await store.appendAudit(entries);
      }
      await store.verifyAudit(); // links them (ids are commit positions: see PostgresStore)
      const ids = (await schemas.query(`SELECT id FROM ${schema}.audit ORDER BY id`)).rows.map((r: { id: string }) => Number(r.id));
      const at = (n: number) => ids[n - 1]!; // the id of the n-th entry
      const whole = await store.verifyAudit({ watch: [at(1999), at(2000), at(2001), at(5000)] });
      expect(whole).toMatchObject({ ok: true, checked: 5000, problems: [], head: { count: 5000, lastId: at(5000) } });
      expect([...whole.watched.keys()].sort((a, b) => a - b)).toEqual([at(1999), at(2000), at(2001), at(5000)]);
      expect(await store.auditHead(at(4990))).toMatchObject({ lastId: at(5000), countAfter: 10 });

      // Entry 3001 named d6-0-b (batch 6, first entry).
      await schemas.query(`DELETE FROM ${schema}.audit_documents WHERE document_id = 'd6-0-b'`);
      const broken = await store.verifyAudit();
      expect(broken.ok).toBe(false);
      expect(broken.checked).toBe(5000);
      expect(broken.problems).toEqual([
        `entry ${at(3001)} names document d6-0-b but the per-document index has no row for it: index rows were deleted, so "who touched this document" would not show this entry`,
      ]);
    } finally {
      await store.close();
    }
  }, 120_000);
});
