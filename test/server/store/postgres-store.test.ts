import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../server/store/postgres.ts';
import { PgSchemas, SKIP_POSTGRES, TEST_DATABASE_URL } from './fixtures.ts';
import { doc, runStoreContract, writeAll } from './store-contract.ts';

const schemas = new PgSchemas();
afterAll(async () => { await schemas.dropAll(); });

describe.skipIf(SKIP_POSTGRES)('PostgreSQL', () => {
  runStoreContract('PostgresStore', schemas.factory(), { failCommits: true });

  describe('PostgresStore specifics', () => {
    it('open() creates the tables once; several stores may open one schema at the same time; seq and the audit chain survive a restart', async () => {
      const schema = await schemas.create();
      const opened = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 2 } })));
      const first = (await opened[0]!.writeBatch(writeAll('epcrs', [doc('a'), doc('b')]))).written;
      await Promise.all(opened.map((s) => s.close()));

      const again = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema });
      const next = (await again.writeBatch(writeAll('epcrs', [doc('c')]))).written[0]!;
      expect(next.seq).toBe(first[1]!.seq + 1);
      expect(await again.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
      expect(await again.countDocuments('epcrs', 'agency-a')).toBe(3);
      await again.close();
    });

    it('reads never wait for writers; a writer waits for the lock, and its commit becomes visible whole', async () => {
      const { store } = await schemas.openStore();
      await store.writeBatch(writeAll('epcrs', [doc('a')]));
      // Another "process" holds the write lock in an open transaction.
      const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [store.lockKey[0], store.lockKey[1]]);
      let committed = false;
      const writing = store.writeBatch(writeAll('epcrs', [doc('b'), doc('c')])).then((r) => { committed = true; return r; });
      await new Promise((r) => setTimeout(r, 150));
      expect(committed).toBe(false);
      const during = Date.now();
      const page = await store.pull({ collection: 'epcrs', tenantId: 'agency-a', afterSeq: 0, limit: 10 });
      expect(Date.now() - during).toBeLessThan(100);
      expect(page.documents.map((d) => d.id)).toEqual(['a']);
      await holder.query('COMMIT');
      await holder.end();
      const result = await writing;
      expect(result.written.map((d) => d.id)).toEqual(['b', 'c']);
      expect((await store.pull({ collection: 'epcrs', tenantId: 'agency-a', afterSeq: page.lastSeq, limit: 10 })).documents.map((d) => d.id)).toEqual(['b', 'c']);
      await store.close();
    });

    it('a failing statement rolls back and returns its connection; killed connections are replaced', async () => {
      const schema = await schemas.create();
      const appName = `fs-test-${schema}`;
      const store = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 2, application_name: appName } });
      // PostgreSQL text cannot hold NUL: the document insert fails inside the transaction.
      for (let i = 0; i < 6; i++) {
        await expect(store.writeBatch(writeAll('epcrs', [doc(`ok${i}`), doc(`bad\u0000${i}`)]))).rejects.toThrow();
      }
      expect(await store.countDocuments('epcrs', 'agency-a')).toBe(0);
      const ok = await store.writeBatch(writeAll('epcrs', [doc('fine')]));
      expect(ok.written[0]!.seq).toBe(1); // nothing consumed by the failures

      // Kill every connection of the store behind its back; the next calls get new ones.
      await schemas.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);
      await new Promise((r) => setTimeout(r, 200));
      let result;
      for (let attempt = 0; attempt < 3 && !result; attempt++) {
        result = await store.writeBatch(writeAll('epcrs', [doc('after-kill')])).catch(() => undefined);
      }
      expect(result?.written[0]!.seq).toBe(2);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
      await store.close();
    });

    it('close() lets queued writes finish, then ends the pool', async () => {
      const { store } = await schemas.openStore();
      const writes = Array.from({ length: 5 }, (_, i) => store.writeBatch(writeAll('epcrs', [doc(`w${i}`)])));
      await store.close();
      expect((await Promise.all(writes)).map((r) => r.written[0]!.seq)).toEqual([1, 2, 3, 4, 5]);
      await expect(store.writeBatch(writeAll('epcrs', [doc('late')]))).rejects.toThrow('closed');
      await expect(store.ping()).rejects.toThrow();
    });

    it('refuses a schema name that is not a plain identifier', () => {
      expect(() => new PostgresStore({ connectionString: TEST_DATABASE_URL, schema: 'x; DROP TABLE y' })).toThrow('plain identifier');
    });
  });
});
