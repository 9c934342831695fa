/**
 * The identity database in PostgreSQL, beside the document store in the same schema, so that any
 * number of server processes share users, devices, sessions, refresh-token families, revocations,
 * transport keys and device push credentials (issue 19). Tables are prefixed `identity_`.
 *
 * - Refresh-token rotation is one statement (a CTE that marks the old token used only if it was
 *   unused and inserts its successor from that row): of two processes given the same token at
 *   once, exactly one gets a row back; the other sees a reuse and ends the device's sessions.
 * - Transport keys are stored sealed (AES-256-GCM, the key id as associated data) with a key
 *   derived from TRANSPORT_KEY_SECRET: a copy of the database alone does not open queued reports.
 * - Access tokens are verified without a database round trip; their revocation check reads a
 *   revocation list (sessions revoked within an access token's lifetime, disabled users, revoked
 *   devices) that every process re-reads when another process announces a revocation (NOTIFY on
 *   the schema's identity channel, sent after the revocation commits), every `revocationPollMs`
 *   (500 ms by default: the fallback for a lost NOTIFY or LISTEN session) and at once after a
 *   revocation of its own. A revocation on one process is refused by every other within one
 *   NOTIFY and one read of the list (tens of milliseconds; the poll bounds it when NOTIFY is
 *   lost), and their open sockets are re-checked when it arrives.
 * - Demo seeding and table creation run under a transaction-scoped advisory lock: once per database.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { opt, toDevice, toSession, toUser, type DeviceRecord, type DeviceRow, type SessionRecord, type SessionRow, type UserRecord, type UserRow } from './identity-records.ts';
import type { DeviceCredentialRecord, DeviceCredentialStorage } from './device-credential-store.ts';
import type {
  IdentityStore, NewSession, RefreshTokenRecord, RevocationRecord, SessionState, SessionStatus, TransportKeyRecord, TransportKeyStatus,
} from './identity-store.ts';

export interface PostgresIdentityStoreOptions {
  /** The document store's pool (one owner of the database connections per process). */
  pool: pg.Pool;
  /** The document store's schema; must exist (PostgresStore.open creates it). */
  schema: string;
  /** TRANSPORT_KEY_SECRET (at least 32 characters): what transport keys are sealed with at rest. */
  transportKeySecret: string;
  /** How long a revoked session stays on the revocation list: an access token's lifetime (its tokens are refused for being expired after that). */
  accessTokenTtlSeconds: number;
  /** How often the revocation list is re-read; revocations by other processes take effect within it. */
  revocationPollMs?: number;
  /** Where a failed re-read is reported (the list keeps its last state meanwhile). */
  log?: (message: string) => void;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** First key of the advisory locks of this file (second: a hash of what is locked). */
const LOCK_NAMESPACE = 0x1d3a71;

const schemaSql = (t: (name: string) => string) => `
CREATE TABLE IF NOT EXISTS ${t('identity_users')} (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  username      TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL,
  unit_id       TEXT,
  technician_id TEXT,
  display_name  TEXT,
  created_at    BIGINT NOT NULL,
  disabled_at   BIGINT,
  UNIQUE (tenant_id, username)
);
CREATE INDEX IF NOT EXISTS identity_users_disabled ON ${t('identity_users')} (id) WHERE disabled_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${t('identity_devices')} (
  tenant_id     TEXT NOT NULL,
  id            TEXT NOT NULL,
  last_user_id  TEXT,
  first_seen_at BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  revoked_at    BIGINT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS identity_devices_revoked ON ${t('identity_devices')} (tenant_id, id) WHERE revoked_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${t('identity_sessions')} (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  user_id       TEXT,
  device_id     TEXT NOT NULL,
  kind          TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT,
  revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS identity_sessions_by_user ON ${t('identity_sessions')} (tenant_id, user_id);
CREATE INDEX IF NOT EXISTS identity_sessions_by_device ON ${t('identity_sessions')} (tenant_id, device_id);
CREATE INDEX IF NOT EXISTS identity_sessions_revoked ON ${t('identity_sessions')} (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${t('identity_refresh_tokens')} (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL,
  token_hash  TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  used_at     BIGINT,
  replaced_by TEXT
);
CREATE INDEX IF NOT EXISTS identity_refresh_tokens_by_session ON ${t('identity_refresh_tokens')} (session_id);
CREATE TABLE IF NOT EXISTS ${t('identity_revocations')} (
  id         BIGSERIAL PRIMARY KEY,
  tenant_id  TEXT NOT NULL,
  kind       TEXT NOT NULL,
  subject    TEXT NOT NULL,
  reason     TEXT NOT NULL,
  by_user_id TEXT,
  at         BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS identity_revocations_by_tenant ON ${t('identity_revocations')} (tenant_id, id);
CREATE TABLE IF NOT EXISTS ${t('identity_transport_keys')} (
  kid           TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  device_id     TEXT NOT NULL,
  key_sealed    BYTEA NOT NULL,
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT,
  revoke_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS identity_transport_keys_active ON ${t('identity_transport_keys')} (tenant_id, user_id, device_id) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS identity_transport_keys_by_device ON ${t('identity_transport_keys')} (tenant_id, device_id);
CREATE TABLE IF NOT EXISTS ${t('identity_device_credentials')} (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  jkt         TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS identity_device_credentials_session ON ${t('identity_device_credentials')} (session_id);
CREATE TABLE IF NOT EXISTS ${t('identity_dpop_proofs')} (
  jkt        TEXT NOT NULL,
  jti        TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (jkt, jti)
);
CREATE INDEX IF NOT EXISTS identity_dpop_proofs_expiry ON ${t('identity_dpop_proofs')} (expires_at);
CREATE TABLE IF NOT EXISTS ${t('identity_secrets')} (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
`;

interface TransportKeyRow {
  kid: string; tenant_id: string; user_id: string; device_id: string; key_sealed: Buffer; created_at: number; revoked_at: number | null; revoke_reason: string | null;
}

const deviceKey = (tenantId: string, deviceId: string) => `${tenantId}\u0000${deviceId}`;

type Queryable = pg.Pool | pg.PoolClient;

/** Times are BIGINT milliseconds: read as numbers whatever the pool's own type parsers (all fit in 2^53). */
const INT8_AS_NUMBER: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export class PostgresIdentityStore implements IdentityStore {
  private readonly pool: pg.Pool;
  private readonly t: (table: string) => string;
  private readonly sealKey: Buffer;
  private readonly lockKey: number;
  private readonly retentionMs: number;
  private readonly pollMs: number;
  private readonly log: (message: string) => void;
  /** The revocation list: revoked sessions (id → tenant), disabled users, revoked devices. */
  private revokedSessions = new Map<string, string>();
  private disabledUsers = new Set<string>();
  private revokedDevices = new Set<string>();
  private readonly listeners = new Set<(tenantId: string) => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private closed = false;
  private sweptAt = 0;
  /** When re-reading the revocation list started failing (undefined: it reads). */
  private failingSince: number | undefined;
  /** Where revocations are announced to every process of this schema. */
  private readonly channel: string;
  /** The session that LISTENs on `channel` (re-opened when lost; the poll covers the gap). */
  private listener: pg.Client | undefined;
  private listenRetryMs = 100;
  readonly deviceCredentials: DeviceCredentialStorage;

  private constructor(options: PostgresIdentityStoreOptions) {
    if (!SCHEMA_NAME.test(options.schema)) throw new Error(`identity store: schema "${options.schema}" must be a plain identifier (letters, digits, _)`);
    if (options.transportKeySecret.length < 32) throw new Error('identity store: TRANSPORT_KEY_SECRET must be at least 32 characters');
    this.pool = options.pool;
    const quoted = pg.escapeIdentifier(options.schema);
    this.t = (table) => `${quoted}.${table}`;
    this.sealKey = Buffer.from(hkdfSync('sha256', options.transportKeySecret, 'fieldsync', 'transport keys at rest', 32));
    this.lockKey = createHash('sha256').update(`fieldsync-identity:${options.schema}`).digest().readInt32BE(0);
    // A revoked session's access tokens die of age after one access-token lifetime; a minute more for clock skew.
    this.retentionMs = options.accessTokenTtlSeconds * 1000 + 60_000;
    this.pollMs = options.revocationPollMs ?? 500;
    this.channel = `fieldsync_identity_${options.schema}`.slice(0, 63);
    this.log = options.log ?? ((message) => console.error(message));
    this.deviceCredentials = this.credentialStorage();
  }

  /** Creates the tables when missing, reads the revocation list once and starts re-reading it. */
  static async open(options: PostgresIdentityStoreOptions): Promise<PostgresIdentityStore> {
    const store = new PostgresIdentityStore(options);
    await store.locked(async (client) => { await client.query(schemaSql(store.t)); });
    await store.refresh();
    store.schedule();
    await store.listen();
    return store;
  }

  /** Runs `work` in a transaction holding this schema's identity advisory lock (DDL, demo seeding). */
  private async locked<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.inTransaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, this.lockKey]);
      return work(client);
    });
  }

  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async rows<R extends pg.QueryResultRow>(db: Queryable, sql: string, params: unknown[] = []): Promise<R[]> {
    return (await db.query<R>({ text: sql, values: params, types: INT8_AS_NUMBER })).rows;
  }

  // ---- the revocation list ----------------------------------------------------------------------

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => {
        if (this.failingSince !== undefined) this.log(`identity store: the revocation list is read again (it was stale for ${Date.now() - this.failingSince} ms)`);
        this.failingSince = undefined;
      }, (error: unknown) => {
        // Said once per outage, not twice a second.
        if (this.failingSince === undefined) this.log(`identity store: re-reading the revocation list failed (the last one stays in use until it can be read again): ${error instanceof Error ? error.message : String(error)}`);
        this.failingSince ??= Date.now();
      }).finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  /**
   * LISTENs for other processes' revocations on a session of its own (the pool's settings): each
   * NOTIFY re-reads the list at once. A lost session is opened again with a growing pause, and the
   * list is read after it is back; meanwhile the poll keeps the list at most `pollMs` old.
   */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.pool.options);
    const lost = (error?: unknown): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      if (error) this.log(`identity store: the revocation LISTEN session was lost (the ${this.pollMs} ms poll covers the gap; reconnecting): ${error instanceof Error ? error.message : String(error)}`);
      void client.end().catch(() => undefined);
      if (this.closed) return;
      const delay = this.listenRetryMs;
      this.listenRetryMs = Math.min(5_000, delay * 2);
      setTimeout(() => { void this.listen(); }, delay).unref();
    };
    client.on('notification', () => { void this.refresh().catch(() => undefined); });
    client.on('error', lost);
    client.on('end', () => lost());
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
      this.listenRetryMs = 100;
      // Whatever was revoked while nobody listened.
      void this.refresh().catch(() => undefined);
    } catch (error) {
      lost(error);
    }
  }

  /** Re-reads the revocation list; one read at a time, and one more when asked during a read (it may have started before the write). */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          await this.readRevocations();
        } while (this.refreshAgain);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async readRevocations(): Promise<void> {
    const since = Date.now() - this.retentionMs;
    const [sessions, users, devices] = await Promise.all([
      this.rows<{ id: string; tenant_id: string }>(this.pool, `SELECT id, tenant_id FROM ${this.t('identity_sessions')} WHERE revoked_at IS NOT NULL AND revoked_at >= $1`, [since]),
      this.rows<{ id: string; tenant_id: string }>(this.pool, `SELECT id, tenant_id FROM ${this.t('identity_users')} WHERE disabled_at IS NOT NULL`),
      this.rows<{ id: string; tenant_id: string }>(this.pool, `SELECT tenant_id, id FROM ${this.t('identity_devices')} WHERE revoked_at IS NOT NULL`),
    ]);
    const changed = new Set<string>();
    const nextSessions = new Map(sessions.map((r) => [r.id, r.tenant_id]));
    for (const [id, tenant] of nextSessions) if (!this.revokedSessions.has(id)) changed.add(tenant);
    const nextUsers = new Set(users.map((r) => r.id));
    for (const r of users) if (!this.disabledUsers.has(r.id)) changed.add(r.tenant_id);
    const nextDevices = new Set(devices.map((r) => deviceKey(r.tenant_id, r.id)));
    for (const r of devices) if (!this.revokedDevices.has(deviceKey(r.tenant_id, r.id))) changed.add(r.tenant_id);
    this.revokedSessions = nextSessions;
    this.disabledUsers = nextUsers;
    this.revokedDevices = nextDevices;
    for (const tenant of changed) {
      for (const listener of this.listeners) {
        try {
          listener(tenant);
        } catch {
          // a listener's failure must not stop the list
        }
      }
    }
  }

  onRemoteRevocation(listener: (tenantId: string) => void): void {
    this.listeners.add(listener);
  }

  sessionState(sessionId: string, tenantId: string, deviceId: string, userId: string | undefined): SessionState {
    // The token's signature vouches for the session having been opened (sessions are never deleted).
    if (this.revokedSessions.has(sessionId)) return 'revoked';
    if (userId !== undefined && this.disabledUsers.has(userId)) return 'user-disabled';
    if (this.revokedDevices.has(deviceKey(tenantId, deviceId))) return 'device-revoked';
    return 'ok';
  }

  // ---- users and devices ------------------------------------------------------------------------

  async findUserByName(tenantId: string, username: string): Promise<UserRecord | undefined> {
    const [row] = await this.rows<UserRow>(this.pool, `SELECT * FROM ${this.t('identity_users')} WHERE tenant_id = $1 AND username = $2`, [tenantId, username]);
    return row ? toUser(row) : undefined;
  }

  async getUser(tenantId: string, id: string): Promise<UserRecord | undefined> {
    return this.userOf(this.pool, tenantId, id);
  }

  private async userOf(db: Queryable, tenantId: string, id: string): Promise<UserRecord | undefined> {
    const [row] = await this.rows<UserRow>(db, `SELECT * FROM ${this.t('identity_users')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row ? toUser(row) : undefined;
  }

  async listUsers(tenantId: string): Promise<UserRecord[]> {
    return (await this.rows<UserRow>(this.pool, `SELECT * FROM ${this.t('identity_users')} WHERE tenant_id = $1 ORDER BY username`, [tenantId])).map(toUser);
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    return (await this.rows(this.pool, `SELECT 1 FROM ${this.t('identity_users')} WHERE tenant_id = $1 LIMIT 1`, [tenantId])).length > 0;
  }

  private async insertUser(db: Queryable, user: Omit<UserRecord, 'disabledAt'>): Promise<UserRecord> {
    await db.query(
      `INSERT INTO ${this.t('identity_users')} (id, tenant_id, username, password_hash, role, unit_id, technician_id, display_name, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [user.id, user.tenantId, user.username, user.passwordHash, user.role, user.unitId ?? null, user.technicianId ?? null, user.displayName ?? null, user.createdAt]);
    return { ...user, disabledAt: undefined };
  }

  async createUser(user: Omit<UserRecord, 'disabledAt'>): Promise<UserRecord> {
    return this.insertUser(this.pool, user);
  }

  async createTenantUsers(tenantId: string, users: Omit<UserRecord, 'disabledAt'>[]): Promise<boolean> {
    return this.locked(async (client) => {
      if ((await this.rows(client, `SELECT 1 FROM ${this.t('identity_users')} WHERE tenant_id = $1 LIMIT 1`, [tenantId])).length > 0) return false;
      for (const user of users) await this.insertUser(client, user);
      return true;
    });
  }

  async getDevice(tenantId: string, id: string): Promise<DeviceRecord | undefined> {
    return this.deviceOf(this.pool, tenantId, id);
  }

  private async deviceOf(db: Queryable, tenantId: string, id: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.rows<DeviceRow>(db, `SELECT * FROM ${this.t('identity_devices')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row ? toDevice(row) : undefined;
  }

  async touchDevice(tenantId: string, deviceId: string, userId: string | undefined, now: number): Promise<void> {
    await this.touch(this.pool, tenantId, deviceId, userId, now);
  }

  private async touch(db: Queryable, tenantId: string, deviceId: string, userId: string | undefined, now: number): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t('identity_devices')} (tenant_id, id, last_user_id, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (tenant_id, id) DO UPDATE SET last_user_id = excluded.last_user_id, last_seen_at = excluded.last_seen_at`,
      [tenantId, deviceId, userId ?? null, now]);
  }

  async listDevices(tenantId: string): Promise<DeviceRecord[]> {
    return (await this.rows<DeviceRow>(this.pool, `SELECT * FROM ${this.t('identity_devices')} WHERE tenant_id = $1 ORDER BY last_seen_at DESC`, [tenantId])).map(toDevice);
  }

  // ---- sessions and refresh tokens ------------------------------------------------------------------

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.rows<SessionRow>(this.pool, `SELECT * FROM ${this.t('identity_sessions')} WHERE id = $1`, [id]);
    return row ? toSession(row) : undefined;
  }

  async sessionStatus(id: string): Promise<SessionStatus | undefined> {
    const [row] = await this.rows<SessionRow & { user_disabled_at: number | null; device_revoked_at: number | null }>(this.pool,
      `SELECT s.*, u.disabled_at AS user_disabled_at, d.revoked_at AS device_revoked_at
       FROM ${this.t('identity_sessions')} s LEFT JOIN ${this.t('identity_users')} u ON u.id = s.user_id
       LEFT JOIN ${this.t('identity_devices')} d ON d.tenant_id = s.tenant_id AND d.id = s.device_id
       WHERE s.id = $1`, [id]);
    if (!row) return undefined;
    return { ...toSession(row), userDisabledAt: opt(row.user_disabled_at), deviceRevokedAt: opt(row.device_revoked_at) };
  }

  async openSession(input: NewSession): Promise<TransportKeyRecord | undefined> {
    const { session, refreshToken: token, transportKey } = input;
    return this.inTransaction(async (client) => {
      await this.touch(client, session.tenantId, session.deviceId, session.userId, session.createdAt);
      await client.query(
        `INSERT INTO ${this.t('identity_sessions')} (id, tenant_id, user_id, device_id, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [session.id, session.tenantId, session.userId ?? null, session.deviceId, session.kind, session.createdAt]);
      if (token) {
        await client.query(
          `INSERT INTO ${this.t('identity_refresh_tokens')} (id, session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
          [token.id, token.sessionId, token.tokenHash, token.createdAt, token.expiresAt]);
      }
      return transportKey ? this.activeOrInsert(client, transportKey) : undefined;
    });
  }

  async getRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const [row] = await this.rows<{ id: string; session_id: string; token_hash: string; created_at: number; expires_at: number; used_at: number | null; replaced_by: string | null }>(
      this.pool, `SELECT * FROM ${this.t('identity_refresh_tokens')} WHERE id = $1`, [id]);
    return row ? {
      id: row.id, sessionId: row.session_id, tokenHash: row.token_hash, createdAt: row.created_at, expiresAt: row.expires_at,
      usedAt: opt(row.used_at), replacedBy: opt(row.replaced_by),
    } : undefined;
  }

  async rotateRefreshToken(oldId: string, next: Omit<RefreshTokenRecord, 'usedAt' | 'replacedBy'>, now: number): Promise<boolean> {
    // One statement: the UPDATE's row lock makes a concurrent rotation of the same token wait and
    // then find used_at set (READ COMMITTED re-checks the WHERE), so it updates and inserts nothing.
    const result = await this.pool.query(
      `WITH used AS (
         UPDATE ${this.t('identity_refresh_tokens')} SET used_at = $2, replaced_by = $3 WHERE id = $1 AND used_at IS NULL RETURNING session_id
       )
       INSERT INTO ${this.t('identity_refresh_tokens')} (id, session_id, token_hash, created_at, expires_at)
       SELECT $3, session_id, $4, $5, $6 FROM used`,
      [oldId, now, next.id, next.tokenHash, next.createdAt, next.expiresAt]);
    return result.rowCount === 1;
  }

  private async insertRevocation(db: Queryable, entry: Omit<RevocationRecord, 'id'>): Promise<void> {
    await db.query(`INSERT INTO ${this.t('identity_revocations')} (tenant_id, kind, subject, reason, by_user_id, at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [entry.tenantId, entry.kind, entry.subject, entry.reason, entry.byUserId ?? null, entry.at]);
  }

  /**
   * After a revocation of this process has committed: every other process is told (NOTIFY, after
   * the commit so they read it), and this one's own list is current before the caller answers.
   */
  private async revoked<T>(result: T): Promise<T> {
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, 'revoked'])
      .catch((error: unknown) => this.log(`identity store: announcing a revocation failed (other processes see it at their next poll): ${error instanceof Error ? error.message : String(error)}`));
    await this.refresh().catch((error: unknown) => this.log(`identity store: re-reading the revocation list failed: ${error instanceof Error ? error.message : String(error)}`));
    return result;
  }

  async revokeSession(id: string, reason: string, now: number, record?: Omit<RevocationRecord, 'id'>): Promise<number> {
    const n = await this.inTransaction(async (client) => {
      const result = await client.query(`UPDATE ${this.t('identity_sessions')} SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL`, [now, reason, id]);
      if (record) await this.insertRevocation(client, record);
      return result.rowCount ?? 0;
    });
    return this.revoked(n);
  }

  async revokeDeviceSessions(tenantId: string, deviceId: string, reason: string, now: number, record?: Omit<RevocationRecord, 'id'>): Promise<number> {
    const n = await this.inTransaction(async (client) => {
      const result = await client.query(
        `UPDATE ${this.t('identity_sessions')} SET revoked_at = $1, revoke_reason = $2 WHERE tenant_id = $3 AND device_id = $4 AND revoked_at IS NULL`,
        [now, reason, tenantId, deviceId]);
      if (record) await this.insertRevocation(client, record);
      return result.rowCount ?? 0;
    });
    return this.revoked(n);
  }

  /** Ends the open sessions and transport keys of a user or device (`column`); how many sessions it ended. */
  private async revokeSessionsAndKeys(client: pg.PoolClient, column: 'user_id' | 'device_id', tenantId: string, subject: string, reason: string, now: number): Promise<number> {
    const ended = await client.query(
      `UPDATE ${this.t('identity_sessions')} SET revoked_at = $1, revoke_reason = $2 WHERE tenant_id = $3 AND ${column} = $4 AND revoked_at IS NULL`,
      [now, reason, tenantId, subject]);
    await client.query(`UPDATE ${this.t('identity_transport_keys')} SET revoked_at = $1, revoke_reason = $2 WHERE tenant_id = $3 AND ${column} = $4 AND revoked_at IS NULL`,
      [now, reason, tenantId, subject]);
    return ended.rowCount ?? 0;
  }

  async setUserRevoked(tenantId: string, userId: string, revoked: boolean, byUserId: string | undefined, now: number): Promise<{ user: UserRecord; sessionsRevoked: number } | undefined> {
    const result = await this.inTransaction(async (client) => {
      const updated = await client.query(`UPDATE ${this.t('identity_users')} SET disabled_at = $1 WHERE tenant_id = $2 AND id = $3`, [revoked ? now : null, tenantId, userId]);
      if (updated.rowCount === 0) return undefined;
      let sessionsRevoked = 0;
      if (revoked) {
        sessionsRevoked = await this.revokeSessionsAndKeys(client, 'user_id', tenantId, userId, 'user revoked by admin', now);
        await this.insertRevocation(client, { tenantId, kind: 'user', subject: userId, reason: 'revoked by admin', byUserId, at: now });
      }
      return { user: (await this.userOf(client, tenantId, userId))!, sessionsRevoked };
    });
    return this.revoked(result);
  }

  async setDeviceRevoked(tenantId: string, deviceId: string, revoked: boolean, byUserId: string | undefined, now: number): Promise<{ device: DeviceRecord; sessionsRevoked: number }> {
    const result = await this.inTransaction(async (client) => {
      await client.query(
        `INSERT INTO ${this.t('identity_devices')} (tenant_id, id, last_user_id, first_seen_at, last_seen_at, revoked_at) VALUES ($1, $2, NULL, $3, $3, $4)
         ON CONFLICT (tenant_id, id) DO UPDATE SET revoked_at = excluded.revoked_at`,
        [tenantId, deviceId, now, revoked ? now : null]);
      let sessionsRevoked = 0;
      if (revoked) {
        sessionsRevoked = await this.revokeSessionsAndKeys(client, 'device_id', tenantId, deviceId, 'device revoked by admin', now);
        await this.insertRevocation(client, { tenantId, kind: 'device', subject: deviceId, reason: 'revoked by admin', byUserId, at: now });
      }
      return { device: (await this.deviceOf(client, tenantId, deviceId))!, sessionsRevoked };
    });
    return this.revoked(result);
  }

  async listRevocations(tenantId: string, limit: number): Promise<RevocationRecord[]> {
    const rows = await this.rows<{ id: number; tenant_id: string; kind: string; subject: string; reason: string; by_user_id: string | null; at: number }>(this.pool,
      `SELECT * FROM ${this.t('identity_revocations')} WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`, [tenantId, limit]);
    return rows.map((row) => ({
      id: row.id, tenantId: row.tenant_id, kind: row.kind as RevocationRecord['kind'], subject: row.subject, reason: row.reason,
      byUserId: opt(row.by_user_id), at: row.at,
    }));
  }

  // ---- transport keys -------------------------------------------------------------------------------

  private seal(kid: string, key: Uint8Array): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    return Buffer.concat([iv, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  }

  private open(kid: string, sealed: Buffer): Uint8Array {
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
      return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]));
    } catch {
      throw new Error(`transport key ${kid} does not open with TRANSPORT_KEY_SECRET: every process must be given the same one, and it must not change while keys it sealed are in use`);
    }
  }

  private toTransportKey(row: TransportKeyRow): TransportKeyRecord {
    return {
      kid: row.kid, tenantId: row.tenant_id, userId: row.user_id, deviceId: row.device_id, key: this.open(row.kid, row.key_sealed), createdAt: row.created_at,
      revokedAt: opt(row.revoked_at), revokeReason: opt(row.revoke_reason),
    };
  }

  private async activeOf(db: Queryable, tenantId: string, userId: string, deviceId: string): Promise<TransportKeyRecord | undefined> {
    const [row] = await this.rows<TransportKeyRow>(db,
      `SELECT * FROM ${this.t('identity_transport_keys')} WHERE tenant_id = $1 AND user_id = $2 AND device_id = $3 AND revoked_at IS NULL`, [tenantId, userId, deviceId]);
    return row ? this.toTransportKey(row) : undefined;
  }

  /** The partial unique index allows one active key per user and device: of two concurrent sign-ins, the second inserts nothing and reads the first's. */
  private async activeOrInsert(db: Queryable, k: Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'>): Promise<TransportKeyRecord> {
    await db.query(
      `INSERT INTO ${this.t('identity_transport_keys')} (kid, tenant_id, user_id, device_id, key_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, user_id, device_id) WHERE revoked_at IS NULL DO NOTHING`,
      [k.kid, k.tenantId, k.userId, k.deviceId, this.seal(k.kid, k.key), k.createdAt]);
    return (await this.activeOf(db, k.tenantId, k.userId, k.deviceId))!;
  }

  async activeTransportKey(tenantId: string, userId: string, deviceId: string): Promise<TransportKeyRecord | undefined> {
    return this.activeOf(this.pool, tenantId, userId, deviceId);
  }

  async ensureTransportKey(candidate: Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'>): Promise<TransportKeyRecord> {
    return this.activeOrInsert(this.pool, candidate);
  }

  async transportKeyStatus(kid: string): Promise<TransportKeyStatus | undefined> {
    const [row] = await this.rows<TransportKeyRow & { username: string | null; user_disabled_at: number | null; device_revoked_at: number | null }>(this.pool,
      `SELECT k.*, u.username AS username, u.disabled_at AS user_disabled_at, d.revoked_at AS device_revoked_at
       FROM ${this.t('identity_transport_keys')} k LEFT JOIN ${this.t('identity_users')} u ON u.id = k.user_id
       LEFT JOIN ${this.t('identity_devices')} d ON d.tenant_id = k.tenant_id AND d.id = k.device_id
       WHERE k.kid = $1`, [kid]);
    if (!row) return undefined;
    return { ...this.toTransportKey(row), username: opt(row.username), userDisabledAt: opt(row.user_disabled_at), deviceRevokedAt: opt(row.device_revoked_at) };
  }

  // ---- device push credentials ------------------------------------------------------------------------

  private credentialStorage(): DeviceCredentialStorage {
    return {
      issue: async (r: DeviceCredentialRecord) => {
        await this.pool.query(
          `INSERT INTO ${this.t('identity_device_credentials')} (id, tenant_id, user_id, device_id, session_id, secret_hash, jkt, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [r.id, r.tenantId, r.userId, r.deviceId, r.sessionId, r.secretHash, r.jkt, r.createdAt, r.expiresAt]);
      },
      get: async (id: string) => {
        const [row] = await this.rows<{ id: string; tenant_id: string; user_id: string; device_id: string; session_id: string; secret_hash: string; jkt: string; created_at: number; expires_at: number }>(
          this.pool, `SELECT * FROM ${this.t('identity_device_credentials')} WHERE id = $1`, [id]);
        return row ? {
          id: row.id, tenantId: row.tenant_id, userId: row.user_id, deviceId: row.device_id, sessionId: row.session_id, secretHash: row.secret_hash,
          jkt: row.jkt, createdAt: row.created_at, expiresAt: row.expires_at,
        } : undefined;
      },
      rememberProof: async (jkt: string, jti: string, expiresAt: number, now: number) => {
        if (now - this.sweptAt > 60_000) {
          this.sweptAt = now;
          await this.pool.query(`DELETE FROM ${this.t('identity_dpop_proofs')} WHERE expires_at < $1`, [now]);
        }
        // Every process shares the table: a proof replayed to another process is refused too.
        const result = await this.pool.query(`INSERT INTO ${this.t('identity_dpop_proofs')} (jkt, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [jkt, jti, expiresAt]);
        return result.rowCount === 1;
      },
    };
  }

  // ---- shared secrets (trial servers only) ------------------------------------------------------------

  /**
   * A secret every process of this database uses: the first process to ask stores `candidate`,
   * every later one reads it. Only for trial servers (SEED_DEMO or DEV_TOKENS) without JWT_SECRET
   * or TRANSPORT_KEY_SECRET: it is stored in clear, so a deployment sets both instead.
   */
  static async sharedSecret(pool: pg.Pool, schema: string, name: string, candidate: string): Promise<string> {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`identity store: schema "${schema}" must be a plain identifier (letters, digits, _)`);
    const table = `${pg.escapeIdentifier(schema)}.identity_secrets`;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, createHash('sha256').update(`fieldsync-identity:${schema}`).digest().readInt32BE(0)]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at BIGINT NOT NULL)`);
      await client.query(`INSERT INTO ${table} (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [name, candidate, Date.now()]);
      const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${table} WHERE name = $1`, [name]);
      await client.query('COMMIT');
      return rows[0]!.value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.refreshing?.catch(() => undefined);
  }
}

