import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PostgresStore } from '../../../server/store/postgres.ts';
import { PgSchemas, SKIP_POSTGRES, TEST_DATABASE_URL } from './fixtures.ts';
import { doc, runStoreContract, writeAll } from './store-contract.ts';

const schemas = new PgSchemas();
afterAll(async () => { await schemas.dropAll(); });

describe.skipIf(SKIP_POSTGRES)('PostgreSQL', () => {
  runStoreContract('PostgresStore', schemas.factory(), { failCommits: true, sharedLog: true });

  describe('PostgresStore specifics', () => {
    it('open() creates the tables once; several stores may open one schema at the same time; seq and the audit chain survive a restart', async () => {
      const schema = await schemas.create();
      const opened = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 2 } })));
      const first = (await opened[0]!.writeBatch(writeAll('epcrs', [doc('a'), doc('b')]))).written;
      await Promise.all(opened.map((s) => s.close()));

      const again = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema });
      const next = (await again.writeBatch(writeAll('epcrs', [doc('c')]))).written[0]!;
      expect(next.seq).toBeGreaterThan(first[1]!.seq);
      expect(await again.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
      expect(await again.countDocuments('epcrs', 'agency-a')).toBe(3);
      await again.close();
    });

    it('a change committed late with a lower position is never skipped: reads stop below the oldest open writer; writers never wait for each other', async () => {
      const { store, schema } = await schemas.openStore();
      const a = (await store.writeBatch(writeAll('epcrs', [doc('a')]))).written[0]!;
      // Another process's writer: its transaction has its xid (hence its position) and is still open.
      const slow = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await slow.connect();
      await slow.query('BEGIN');
      const { rows: [head] } = await slow.query(`SELECT pg_current_xact_id()::text::bigint AS xid, base_xid, base_pos FROM ${schema}.head`);
      const slowSeq = Number(head.base_pos) + (Number(head.xid) - Number(head.base_xid)) * 65536;
      // A later writer is not held up by it (no global lock) ...
      const started = Date.now();
      const b = (await store.writeBatch(writeAll('epcrs', [doc('b')]))).written[0]!;
      expect(Date.now() - started).toBeLessThan(4000);
      expect(b.seq).toBeGreaterThan(slowSeq);
      // ... but b is not readable yet: returning it would move a reader's checkpoint past the slow write.
      const during = await store.pull({ collection: 'epcrs', tenantId: 'agency-a', afterSeq: 0, limit: 10 });
      expect(during.documents.map((d) => d.id)).toEqual(['a']);
      expect(during.lastSeq).toBe(a.seq);
      await slow.query(`INSERT INTO ${schema}.documents (collection, id, tenant_id, seq, deleted, body, committed_at) VALUES ('epcrs', 'late', 'agency-a', $1, false, $2, 0)`,
        [slowSeq, JSON.stringify(doc('late'))]);
      await slow.query('COMMIT');
      await slow.end();
      // From the checkpoint the reader kept: the late one, then b, in position order.
      const after = await store.pull({ collection: 'epcrs', tenantId: 'agency-a', afterSeq: during.lastSeq, limit: 10 });
      expect(after.documents.map((d) => d.id)).toEqual(['late', 'b']);
      await store.close();
    });

    it('the change feed: one instance hears the commits of another by NOTIFY; after its LISTEN session is killed it reconnects and reads what was committed meanwhile', async () => {
      const schema = await schemas.create();
      const appName = `fs-feed-${schema}`;
      // A poll far too slow to matter: only NOTIFY and the re-read after reconnecting can deliver.
      const listener = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 2, application_name: appName }, feedPollMs: 600_000 });
      const writer = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 2 } });
      const heard: string[] = [];
      listener.onCommit((event) => heard.push(...event.documents.map((d) => d.id)));
      await writer.writeBatch(writeAll('epcrs', [doc('before')])); // may be before the feed started: not required
      await new Promise((r) => setTimeout(r, 300));
      heard.length = 0;
      await writer.writeBatch(writeAll('epcrs', [doc('n1'), doc('n2')]));
      await vi.waitFor(() => expect(heard).toEqual(['n1', 'n2']), { timeout: 10_000 });

      await schemas.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [appName]);
      await writer.writeBatch(writeAll('epcrs', [doc('while-away')])); // its NOTIFY reaches nobody
      await vi.waitFor(() => expect(heard).toEqual(['n1', 'n2', 'while-away']), { timeout: 15_000 });
      await writer.writeBatch(writeAll('epcrs', [doc('after')]));
      await vi.waitFor(() => expect(heard).toEqual(['n1', 'n2', 'while-away', 'after']), { timeout: 10_000 });

      // An older transaction holds a change back; it ends by ROLLBACK, which notifies nobody.
      const slow = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await slow.connect();
      await slow.query('BEGIN');
      await slow.query('SELECT pg_current_xact_id()');
      await writer.writeBatch(writeAll('epcrs', [doc('held')]));
      await new Promise((r) => setTimeout(r, 300));
      expect(heard).not.toContain('held'); // not before a pull could return it
      await slow.query('ROLLBACK');
      await slow.end();
      await vi.waitFor(() => expect(heard).toEqual(['n1', 'n2', 'while-away', 'after', 'held']), { timeout: 10_000 });
      await Promise.all([listener.close(), writer.close()]);
    });

    it('outbox claims: one claim per entry until its lease ends, settled only with its token; a retry time with a fraction of a millisecond is kept', async () => {
      const { store } = await schemas.openStore();
      await store.enqueueOutbox([{ key: 'k1', kind: 'n', tenantId: 'agency-a', payload: {}, causationId: 'c' }]);
      const peer = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema: store.schema, pool: { max: 2 } });
      const [mine] = await store.claimOutbox(Date.now(), 10, 1000);
      expect(mine?.claimToken).toBeDefined();
      expect(await peer.claimOutbox(Date.now(), 10, 1000)).toEqual([]); // claimed: not for another process
      await new Promise((r) => setTimeout(r, 1100));
      const [taken] = await peer.claimOutbox(Date.now(), 10, 60_000); // the lease ran out: another takes it
      expect(taken?.id).toBe(mine!.id);
      expect(await store.completeOutbox(mine!.id, mine!.claimToken)).toBe(false); // no longer its claim
      // The hook runner's backoff is a fraction of a millisecond off the clock (it failed the BIGINT update).
      expect(await peer.retryOutboxLater(taken!.id, Date.now() + 60_000.37, 'target down', taken!.claimToken)).toBe(true);
      expect(await store.claimOutbox(Date.now(), 10, 1000)).toEqual([]); // not due yet
      await peer.close();
      await store.close();
    });

    it('a transaction open in another database of the PostgreSQL server holds nothing back (one in this database does: the tests above)', async () => {
      const { store } = await schemas.openStore();
      const elsewhere = new pg.Client({ connectionString: TEST_DATABASE_URL.replace(/\/[^/?]+(\?|$)/, '/postgres$1') });
      await elsewhere.connect();
      try {
        await elsewhere.query('BEGIN');
        await elsewhere.query('SELECT pg_current_xact_id()');
        // Someone else's long transaction (another database on the same server) stays open meanwhile.
        await store.writeBatch(writeAll('epcrs', [doc('free')]));
        await vi.waitFor(async () => {
          const page = await store.pull({ collection: 'epcrs', tenantId: 'agency-a', afterSeq: 0, limit: 10 });
          expect(page.documents.map((d) => d.id)).toContain('free');
        }, { timeout: 10_000 });
      } finally {
        await elsewhere.query('ROLLBACK').catch(() => undefined);
        await elsewhere.end();
      }
      await store.close();
    });

    it('the age of the oldest open writer is reported', async () => {
      const { store } = await schemas.openStore();
      const slow = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await slow.connect();
      await slow.query('BEGIN');
      await slow.query('SELECT pg_current_xact_id()');
      await new Promise((r) => setTimeout(r, 300));
      const stats = await store.writerStats();
      expect(stats.openWriters).toBeGreaterThanOrEqual(1);
      expect(stats.oldestWriterAgeMs).toBeGreaterThanOrEqual(250);
      await slow.query('ROLLBACK');
      await slow.end();
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
      expect(ok.written.map((w) => w.id)).toEqual(['fine']);

      // Kill every connection of the store behind its back; the next calls get new ones.
      await schemas.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);
      await new Promise((r) => setTimeout(r, 200));
      let result;
      for (let attempt = 0; attempt < 3 && !result; attempt++) {
        result = await store.writeBatch(writeAll('epcrs', [doc('after-kill')])).catch(() => undefined);
      }
      expect(result?.written[0]!.seq).toBeGreaterThan(ok.written[0]!.seq);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
      await store.close();
    });

    it('close() lets queued writes finish, then ends the pool', async () => {
      const { store } = await schemas.openStore();
      const writes = Array.from({ length: 5 }, (_, i) => store.writeBatch(writeAll('epcrs', [doc(`w${i}`)])));
      await store.close();
      const seqs = (await Promise.all(writes)).map((r) => r.written[0]!.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(5);
      await expect(store.writeBatch(writeAll('epcrs', [doc('late')]))).rejects.toThrow('closed');
      await expect(store.ping()).rejects.toThrow();
    });

    it('refuses a schema name that is not a plain identifier', () => {
      expect(() => new PostgresStore({ connectionString: TEST_DATABASE_URL, schema: 'x; DROP TABLE y' })).toThrow('plain identifier');
    });
  });
});
