/**
 * Rate-limit counters in PostgreSQL, for the sign-in limits of several server processes on one
 * database (issue 19): a budget is spent once however the balancer spreads the attempts.
 *
 * Chosen over Redis (REDIS_URL): PostgreSQL is already the one thing every process must share,
 * so this adds no service to run, secure and monitor, and no dependency (no Redis client is
 * installed). Sign-ins are rare next to syncs, so one upsert per attempt costs little; the
 * per-device sync limit stays in each process's memory (a flood guard, counted per process: a
 * round trip per sync request would cost more than it guards).
 *
 * A fixed window per key, as @fastify/rate-limit's own stores count: one row per key, reset when
 * its window has passed, counted in one statement on the database's clock (process clocks may differ).
 */
import pg from 'pg';
import type { RateCounter } from './hardening.ts';

const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export class PostgresRateCounter implements RateCounter {
  private readonly table: string;
  private sweptAt = 0;

  private constructor(private readonly pool: pg.Pool, schema: string) {
    this.table = `${pg.escapeIdentifier(schema)}.rate_limits`;
  }

  static async open(pool: pg.Pool, schema: string): Promise<PostgresRateCounter> {
    const counter = new PostgresRateCounter(pool, schema);
    // Serialized: processes starting together each ran this CREATE TABLE IF NOT EXISTS, and two at
    // once fail on PostgreSQL's catalog ("duplicate key value violates unique constraint
    // pg_type_typname_nsp_index"): a process of three in a fresh clone's CI run did not start.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`fieldsync-rate-limits:${schema}`]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${counter.table} (key TEXT PRIMARY KEY, count INTEGER NOT NULL, window_start BIGINT NOT NULL)`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return counter;
  }

  async incr(key: string, windowMs: number): Promise<{ current: number; ttlMs: number }> {
    const now = Date.now();
    if (now - this.sweptAt > 60_000) {
      this.sweptAt = now;
      // Rows whose window ended long ago: an hour past the longest window anyone sets.
      await this.pool.query(`DELETE FROM ${this.table} WHERE window_start < ${NOW_MS} - $1`, [Math.max(windowMs, 3_600_000) + 3_600_000]);
    }
    const { rows } = await this.pool.query<{ count: number; ttl: string }>(
      `INSERT INTO ${this.table} AS r (key, count, window_start) VALUES ($1, 1, ${NOW_MS})
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN r.window_start + $2 <= ${NOW_MS} THEN 1 ELSE r.count + 1 END,
         window_start = CASE WHEN r.window_start + $2 <= ${NOW_MS} THEN ${NOW_MS} ELSE r.window_start END
       RETURNING count, (window_start + $2 - ${NOW_MS})::text AS ttl`, [key, windowMs]);
    return { current: rows[0]!.count, ttlMs: Math.max(0, Number(rows[0]!.ttl)) };
  }

  async read(key: string, windowMs: number): Promise<{ current: number; ttlMs: number }> {
    const { rows } = await this.pool.query<{ count: number; ttl: string }>(
      `SELECT count, (window_start + $2 - ${NOW_MS})::text AS ttl FROM ${this.table} WHERE key = $1 AND window_start + $2 > ${NOW_MS}`, [key, windowMs]);
    const row = rows[0];
    return row ? { current: row.count, ttlMs: Math.max(0, Number(row.ttl)) } : { current: 0, ttlMs: 0 };
  }
}
