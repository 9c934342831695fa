import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { PostgresIdentityStore } from '../../../server/auth/identity-store-postgres.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import type { Role } from '../../../shared/protocol/index.ts';
import { AUTH, pathOf, SYNC } from '../../../shared/protocol/index.ts';
import { RoundRobinProxy } from '../../helpers/round-robin-proxy.ts';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.ts';
import { freePort, makeDataDir } from '../../helpers/server.ts';

export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const SKIP_POSTGRES = process.env['SKIP_POSTGRES_TESTS'] === '1';

/**
 * Real server processes (`node --import tsx server/cli.ts`, what `npm start` runs) on one
 * PostgreSQL schema, each with its own DATA_DIR and port, as an operator would run them behind a
 * load balancer, and (`startProxy`) that load balancer: a round-robin proxy with no stickiness,
 * so consecutive requests of one client land on different processes. Clients sign in through it
 * with real users and passwords (`signIn`); development tokens are off unless a test turns them on.
 */
export class ProcessCluster {
  /** PostgreSQL reserves names beginning with `pg_` for itself: this helper's schemas are `helper_pg_…`. */
  readonly schema = `helper_pg_${randomBytes(5).toString('hex')}`;
  readonly processes: ServerProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  proxy: RoundRobinProxy | undefined;

  private readonly secrets = new Map<string, string>();
  private secret(name: string): string {
    if (!this.secrets.has(name)) this.secrets.set(name, randomBytes(33).toString('base64'));
    return this.secrets.get(name)!;
  }

  async start(count: number, env: Record<string, string> = {}): Promise<ServerProcess[]> {
    const outcomes = await Promise.allSettled(Array.from({ length: count }, async (_, i) => {
      const dataDir = makeDataDir(`scale-out-${i}`);
      this.dirs.push(dataDir);
      return startServerProcess({
        port: await freePort(), dataDir,
        env: {
          STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: this.schema,
          DEV_TOKENS: 'false', SEED_DEMO: 'false',
          // What every process of a deployment shares (docs/deployment.md): the signing key, the
          // transport keys' sealing key and the audit chain's key.
          JWT_SECRET: this.secret('jwt'), TRANSPORT_KEY_SECRET: this.secret('transport'), AUDIT_KEY: this.secret('audit'),
          ...env,
        },
        // Three processes compiling TypeScript at once on a shared, loaded machine.
        startTimeoutMs: 240_000,
      });
    }));
    const started = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    this.processes.push(...started);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  /** The load balancer in front of every process started so far. */
  async startProxy(): Promise<RoundRobinProxy> {
    this.proxy = new RoundRobinProxy(this.processes.map((p) => p.url));
    await this.proxy.start();
    return this.proxy;
  }

  /** The process whose pid a lease holder (`<host>/<pid>/<id>`) names, e.g. the CAD bridge's leader. */
  async leaseHolder(key: string): Promise<ServerProcess | undefined> {
    const [row] = await this.query<{ holder: string }>(`SELECT holder FROM ${this.schema}.leases WHERE key = $1 AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`, [key]);
    const pid = Number(row?.holder.split('/')[1]);
    return this.processes.find((p) => p.child.pid === pid);
  }

  /**
   * Users written straight into the shared identity tables, as an operator bootstraps an agency's
   * first admin (further users are created through the admin API by the tests).
   */
  async createUsers(users: { tenantId: string; username: string; password: string; role: Role; unitId?: string }[]): Promise<void> {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const identities = await PostgresIdentityStore.open({ pool, schema: this.schema, transportKeySecret: this.secret('transport'), accessTokenTtlSeconds: 900, log: () => undefined });
    try {
      for (const user of users) {
        await identities.createUser({
          id: randomUUID(), tenantId: user.tenantId, username: user.username, passwordHash: await hashPassword(user.password), role: user.role,
          unitId: user.unitId, technicianId: undefined, displayName: undefined, createdAt: Date.now(),
        });
      }
    } finally {
      await identities.close();
      await pool.end();
    }
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.admin.query<R>(text, values)).rows;
  }

  async stop(): Promise<void> {
    await this.proxy?.stop();
    await Promise.all(this.processes.splice(0).map((p) => p.stop()));
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await this.admin.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.admin.end();
  }
}

export interface SignedIn { accessToken: string; refreshToken: string; user: { userId: string } }

/** A real sign-in (user name and password) through `base`, e.g. the proxy. */
export async function signIn(base: string, tenantId: string, username: string, password: string, deviceId: string): Promise<SignedIn> {
  const response = await fetch(base + pathOf(AUTH.login), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId, username, password, deviceId }),
  });
  if (response.status !== 200) throw new Error(`sign-in of ${username} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as SignedIn;
}

/**
 * A push through the balancer as a device's queue sends it: one that gets no answer (its process
 * died under it: 502, or the connection dropped) is sent again until one is acknowledged. Answers
 * the conflicts, less those that are the pushed version itself (a repeat finding its own first
 * attempt stored).
 */
export async function pushThrough(base: string, token: string, collection: string, schemaVersion: number, rows: { newDocumentState: Record<string, unknown> }[]): Promise<Record<string, unknown>[]> {
  const sent = new Map(rows.map((row) => [String(row.newDocumentState['id']), String(row.newDocumentState['rev'])]));
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base}${pathOf(SYNC.push, { collection })}?schemaVersion=${schemaVersion}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
    }).catch(() => undefined);
    if (response?.status === 200) {
      const conflicts = (await response.json()) as Record<string, unknown>[];
      return attempt === 1 ? conflicts : conflicts.filter((c) => sent.get(String(c['id'])) !== String(c['rev']));
    }
    if (response && response.status !== 502) throw new Error(`push of ${collection} answered ${response.status}: ${await response.text()}`);
    if (attempt >= 20) throw new Error(`push of ${collection} not acknowledged after 20 attempts`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
