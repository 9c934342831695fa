import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.ts';
import { freePort, makeDataDir } from '../../helpers/server.ts';

export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const SKIP_POSTGRES = process.env['SKIP_POSTGRES_TESTS'] === '1';

/**
 * Real server processes (`node --import tsx server/cli.ts`, what `npm start` runs) on one
 * PostgreSQL schema, each with its own DATA_DIR and port, as an operator would run them behind a
 * load balancer. The tests use development tokens, which every process accepts (DEV_TOKENS is
 * passed explicitly); signed-in sessions are shared through PostgreSQL too
 * (test/server/auth/identity-postgres.test.ts).
 */
export class ProcessCluster {
  /** PostgreSQL reserves names beginning with `pg_` for itself: this helper's schemas are `helper_pg_…`. */
  readonly schema = `helper_pg_${randomBytes(5).toString('hex')}`;
  readonly processes: ServerProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });

  async start(count: number, env: Record<string, string> = {}): Promise<ServerProcess[]> {
    const outcomes = await Promise.allSettled(Array.from({ length: count }, async (_, i) => {
      const dataDir = makeDataDir(`scale-out-${i}`);
      this.dirs.push(dataDir);
      return startServerProcess({
        port: await freePort(), dataDir,
        env: {
          STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: this.schema,
          DEV_TOKENS: 'true', SEED_DEMO: 'false', ...env,
        },
        // Three processes compiling TypeScript at once on a shared, loaded machine.
        startTimeoutMs: 120_000,
      });
    }));
    const started = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    this.processes.push(...started);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.admin.query<R>(text, values)).rows;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((p) => p.stop()));
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await this.admin.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.admin.end();
  }
}
