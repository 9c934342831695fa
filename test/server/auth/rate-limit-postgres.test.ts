/**
 * The sign-in counters on PostgreSQL (issue 19): processes starting together each open them, and
 * a fresh clone's CI run lost one of three server processes to a concurrent CREATE TABLE
 * ("duplicate key value violates unique constraint pg_type_typname_nsp_index").
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresRateCounter } from '../../../server/auth/rate-limit-postgres.ts';
import { SKIP_POSTGRES, TEST_DATABASE_URL } from '../store/fixtures.ts';

describe.skipIf(SKIP_POSTGRES)('sign-in counters in PostgreSQL', () => {
  const schema = `rlc_${randomBytes(5).toString('hex')}`;
  // One pool per "process": each opens the counters on its own connections, as processes do.
  const pools = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 }));
  afterAll(async () => {
    await pools[0]!.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it('open on eight processes at once, and count one budget for all of them', async () => {
    await pools[0]!.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    const counters = await Promise.all(pools.map((pool) => PostgresRateCounter.open(pool, schema)));
    const counts = await Promise.all(counters.map((counter) => counter.incr('login:ip:127.0.0.9', 60_000)));
    expect(counts.map((c) => c.current).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await counters[3]!.read('login:ip:127.0.0.9', 60_000)).current).toBe(8);
  });
});
