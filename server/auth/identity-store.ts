import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Role } from '../../shared/protocol/index.ts';
import { DeviceCredentialStore, type DeviceCredentialStorage } from './device-credential-store.ts';

/**
 * Users, devices, sessions, refresh tokens, transport keys and revocations, in `identity.sqlite`
 * beside the document store in DATA_DIR. Kept apart from `fieldsync.sqlite` so credentials never
 * travel with document backups or exports, and so the document store stays free of identity
 * concerns. Passwords and refresh tokens are stored as hashes only (scrypt; SHA-256 for refresh
 * tokens, which are 256-bit random values, so a fast hash is enough). Transport keys cannot be:
 * the server must decrypt with them (server/auth/transport-keys.ts).
 */
export interface UserRecord {
  id: string;
  tenantId: string;
  username: string;
  passwordHash: string;
  role: Role;
  unitId: string | undefined;
  technicianId: string | undefined;
  displayName: string | undefined;
  createdAt: number;
  disabledAt: number | undefined;
}

export interface DeviceRecord {
  tenantId: string;
  id: string;
  lastUserId: string | undefined;
  firstSeenAt: number;
  lastSeenAt: number;
  revokedAt: number | undefined;
}

export interface SessionRecord {
  id: string;
  tenantId: string;
  userId: string | undefined;
  deviceId: string;
  kind: 'login' | 'cli';
  createdAt: number;
  revokedAt: number | undefined;
}

export interface SessionStatus extends SessionRecord {
  userDisabledAt: number | undefined;
  deviceRevokedAt: number | undefined;
}

export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | undefined;
  replacedBy: string | undefined;
}

/** A device's key for sealing its queued changes (shared/crypto/envelope.ts), bound to tenant, user and device. */
export interface TransportKeyRecord {
  kid: string;
  tenantId: string;
  userId: string;
  deviceId: string;
  /** 32 raw bytes. */
  key: Uint8Array;
  createdAt: number;
  revokedAt: number | undefined;
  revokeReason: string | undefined;
}

/** A transport key with what can make it unusable without touching it: its user disabled, its device revoked. */
export interface TransportKeyStatus extends TransportKeyRecord {
  username: string | undefined;
  userDisabledAt: number | undefined;
  deviceRevokedAt: number | undefined;
}

export interface RevocationRecord {
  id: number;
  tenantId: string;
  kind: 'user' | 'device' | 'session' | 'device-tokens';
  subject: string;
  reason: string;
  byUserId: string | undefined;
  at: number;
}


/** What a session's revocation check of one request finds (the access token itself was verified already). */
export type SessionState = 'ok' | 'unknown' | 'revoked' | 'user-disabled' | 'device-revoked';

/** A sign-in's writes, made together: the device seen, the session, its first refresh token and the transport key. */
export interface NewSession {
  session: Omit<SessionRecord, 'revokedAt'>;
  /** Absent for a CLI token's session. */
  refreshToken?: Omit<RefreshTokenRecord, 'usedAt' | 'replacedBy'>;
  /** A fresh key, stored only when the user has no active key on the device yet (the active one is returned then). */
  transportKey?: Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'>;
}

/**
 * The identity database: SQLite in DATA_DIR (SqliteIdentityStore, below), or PostgreSQL beside
 * the document store (identity-store-postgres.ts); server/auth/identity-store-factory.ts picks by
 * the store kind. Every write that must be atomic is one method, so each implementation makes it
 * one transaction (or one statement) of its own.
 */
export interface IdentityStore {
  findUserByName(tenantId: string, username: string): Promise<UserRecord | undefined>;
  getUser(tenantId: string, id: string): Promise<UserRecord | undefined>;
  listUsers(tenantId: string): Promise<UserRecord[]>;
  tenantExists(tenantId: string): Promise<boolean>;
  createUser(user: Omit<UserRecord, 'disabledAt'>): Promise<UserRecord>;
  /** Creates these users unless the tenant already has some (demo seeding: once per database, whoever starts first). */
  createTenantUsers(tenantId: string, users: Omit<UserRecord, 'disabledAt'>[]): Promise<boolean>;
  getDevice(tenantId: string, id: string): Promise<DeviceRecord | undefined>;
  /** Records that the device was seen now (with the user who used it). */
  touchDevice(tenantId: string, deviceId: string, userId: string | undefined, now: number): Promise<void>;
  listDevices(tenantId: string): Promise<DeviceRecord[]>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** The session with its user's and device's revocation state: one indexed lookup. */
  sessionStatus(id: string): Promise<SessionStatus | undefined>;
  /**
   * The revocation check of every request, synchronous: SQLite looks the session up; PostgreSQL
   * answers from a revocation list every process refreshes at least every second.
   */
  sessionState(sessionId: string, tenantId: string, deviceId: string, userId: string | undefined): SessionState;
  /** Writes a sign-in (or CLI token) session; returns the transport key the user has on the device now, when one was asked for. */
  openSession(input: NewSession): Promise<TransportKeyRecord | undefined>;
  getRefreshToken(id: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Marks `oldId` used and stores its successor, atomically: false when it was used already (by
   * this or any other process), and then nothing is written.
   */
  rotateRefreshToken(oldId: string, next: Omit<RefreshTokenRecord, 'usedAt' | 'replacedBy'>, now: number): Promise<boolean>;
  revokeSession(id: string, reason: string, now: number, record?: Omit<RevocationRecord, 'id'>): Promise<number>;
  revokeDeviceSessions(tenantId: string, deviceId: string, reason: string, now: number, record?: Omit<RevocationRecord, 'id'>): Promise<number>;
  /** Disables (revoked) or re-enables a user: with revocation, its sessions and transport keys end too. Undefined: no such user. */
  setUserRevoked(tenantId: string, userId: string, revoked: boolean, byUserId: string | undefined, now: number): Promise<{ user: UserRecord; sessionsRevoked: number } | undefined>;
  /** Revokes or restores a device (one never seen is recorded as revoked): with revocation, its sessions and transport keys end too. */
  setDeviceRevoked(tenantId: string, deviceId: string, revoked: boolean, byUserId: string | undefined, now: number): Promise<{ device: DeviceRecord; sessionsRevoked: number }>;
  activeTransportKey(tenantId: string, userId: string, deviceId: string): Promise<TransportKeyRecord | undefined>;
  /** The user's active key on the device, or `candidate` stored as it (concurrent callers all get the same one). */
  ensureTransportKey(candidate: Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'>): Promise<TransportKeyRecord>;
  transportKeyStatus(kid: string): Promise<TransportKeyStatus | undefined>;
  listRevocations(tenantId: string, limit: number): Promise<RevocationRecord[]>;
  /** Device push credentials and the DPoP proofs seen (device-credential-store.ts). */
  readonly deviceCredentials: DeviceCredentialStorage;
  /** Called with the tenant when another process revoked something (PostgreSQL): open connections are re-checked. */
  onRemoteRevocation?(listener: (tenantId: string) => void): void;
  close(): Promise<void>;
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  username      TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL,
  unit_id       TEXT,
  technician_id TEXT,
  display_name  TEXT,
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER,
  UNIQUE (tenant_id, username)
);
CREATE TABLE IF NOT EXISTS devices (
  tenant_id     TEXT NOT NULL,
  id            TEXT NOT NULL,
  last_user_id  TEXT,
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  revoked_at    INTEGER,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE IF NOT EXISTS sessions (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  user_id       TEXT,
  device_id     TEXT NOT NULL,
  kind          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_by_device ON sessions (tenant_id, device_id);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL,
  token_hash  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  replaced_by TEXT
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_session ON refresh_tokens (session_id);
CREATE TABLE IF NOT EXISTS revocations (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id  TEXT NOT NULL,
  kind       TEXT NOT NULL,
  subject    TEXT NOT NULL,
  reason     TEXT NOT NULL,
  by_user_id TEXT,
  at         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revocations_by_tenant ON revocations (tenant_id, id);
CREATE TABLE IF NOT EXISTS transport_keys (
  kid           TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  device_id     TEXT NOT NULL,
  key           BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS transport_keys_by_owner ON transport_keys (tenant_id, user_id, device_id);
CREATE INDEX IF NOT EXISTS transport_keys_by_device ON transport_keys (tenant_id, device_id);
`;

interface UserRow {
  id: string; tenant_id: string; username: string; password_hash: string; role: string; unit_id: string | null;
  technician_id: string | null; display_name: string | null; created_at: number; disabled_at: number | null;
}
interface DeviceRow { tenant_id: string; id: string; last_user_id: string | null; first_seen_at: number; last_seen_at: number; revoked_at: number | null }
interface SessionRow {
  id: string; tenant_id: string; user_id: string | null; device_id: string; kind: string; created_at: number; revoked_at: number | null;
}
interface TransportKeyRow {
  kid: string; tenant_id: string; user_id: string; device_id: string; key: Buffer; created_at: number; revoked_at: number | null; revoke_reason: string | null;
}
interface RefreshRow { id: string; session_id: string; token_hash: string; created_at: number; expires_at: number; used_at: number | null; replaced_by: string | null }

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export class SqliteIdentityStore implements IdentityStore {
  private readonly db: Database.Database;
  private readonly stmts;

  /** `dataDir` holds `identity.sqlite`; `:memory:` for tests of pure logic. */
  constructor(dataDir: string) {
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true });
      file = path.join(dataDir, 'identity.sqlite');
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA_SQL);
    this.stmts = {
      userInsert: this.db.prepare(
        `INSERT INTO users (id, tenant_id, username, password_hash, role, unit_id, technician_id, display_name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      userByName: this.db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE tenant_id = ? AND username = ?'),
      userById: this.db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE tenant_id = ? AND id = ?'),
      usersOfTenant: this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE tenant_id = ? ORDER BY username'),
      tenantExists: this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?'),
      userDisable: this.db.prepare('UPDATE users SET disabled_at = ? WHERE tenant_id = ? AND id = ?'),
      deviceTouch: this.db.prepare(
        `INSERT INTO devices (tenant_id, id, last_user_id, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, id) DO UPDATE SET last_user_id = excluded.last_user_id, last_seen_at = excluded.last_seen_at`),
      deviceGet: this.db.prepare<[string, string], DeviceRow>('SELECT * FROM devices WHERE tenant_id = ? AND id = ?'),
      devicesOfTenant: this.db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE tenant_id = ? ORDER BY last_seen_at DESC'),
      deviceRevoke: this.db.prepare(
        `INSERT INTO devices (tenant_id, id, last_user_id, first_seen_at, last_seen_at, revoked_at) VALUES (?, ?, NULL, ?, ?, ?)
         ON CONFLICT (tenant_id, id) DO UPDATE SET revoked_at = excluded.revoked_at`),
      sessionInsert: this.db.prepare(
        'INSERT INTO sessions (id, tenant_id, user_id, device_id, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      sessionGet: this.db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      sessionStatus: this.db.prepare<[string], SessionRow & { user_disabled_at: number | null; device_revoked_at: number | null }>(
        `SELECT s.*, u.disabled_at AS user_disabled_at, d.revoked_at AS device_revoked_at
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id LEFT JOIN devices d ON d.tenant_id = s.tenant_id AND d.id = s.device_id
         WHERE s.id = ?`),
      revokeSession: this.db.prepare('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL'),
      revokeUserSessions: this.db.prepare('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL'),
      revokeDeviceSessions: this.db.prepare('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE tenant_id = ? AND device_id = ? AND revoked_at IS NULL'),
      refreshInsert: this.db.prepare('INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      refreshGet: this.db.prepare<[string], RefreshRow>('SELECT * FROM refresh_tokens WHERE id = ?'),
      refreshUse: this.db.prepare('UPDATE refresh_tokens SET used_at = ?, replaced_by = ? WHERE id = ? AND used_at IS NULL'),
      transportKeyInsert: this.db.prepare(
        'INSERT INTO transport_keys (kid, tenant_id, user_id, device_id, key, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      transportKeyActive: this.db.prepare<[string, string, string], TransportKeyRow>(
        `SELECT * FROM transport_keys WHERE tenant_id = ? AND user_id = ? AND device_id = ? AND revoked_at IS NULL
         ORDER BY created_at DESC LIMIT 1`),
      transportKeyStatus: this.db.prepare<[string], TransportKeyRow & { username: string | null; user_disabled_at: number | null; device_revoked_at: number | null }>(
        `SELECT k.*, u.username AS username, u.disabled_at AS user_disabled_at, d.revoked_at AS device_revoked_at
         FROM transport_keys k LEFT JOIN users u ON u.id = k.user_id LEFT JOIN devices d ON d.tenant_id = k.tenant_id AND d.id = k.device_id
         WHERE k.kid = ?`),
      transportKeysRevokeOfUser: this.db.prepare('UPDATE transport_keys SET revoked_at = ?, revoke_reason = ? WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL'),
      transportKeysRevokeOfDevice: this.db.prepare('UPDATE transport_keys SET revoked_at = ?, revoke_reason = ? WHERE tenant_id = ? AND device_id = ? AND revoked_at IS NULL'),
      revocationInsert: this.db.prepare('INSERT INTO revocations (tenant_id, kind, subject, reason, by_user_id, at) VALUES (?, ?, ?, ?, ?, ?)'),
      revocationsOfTenant: this.db.prepare<[string, number], {
        id: number; tenant_id: string; kind: string; subject: string; reason: string; by_user_id: string | null; at: number;
      }>('SELECT * FROM revocations WHERE tenant_id = ? ORDER BY id DESC LIMIT ?'),
    };
  }

  private transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private insertUser(user: Omit<UserRecord, 'disabledAt'>): UserRecord {
    this.stmts.userInsert.run(user.id, user.tenantId, user.username, user.passwordHash, user.role, user.unitId ?? null,
      user.technicianId ?? null, user.displayName ?? null, user.createdAt);
    return { ...user, disabledAt: undefined };
  }

  async createUser(user: Omit<UserRecord, 'disabledAt'>): Promise<UserRecord> {
    return this.insertUser(user);
  }

  async createTenantUsers(tenantId: string, users: Omit<UserRecord, 'disabledAt'>[]): Promise<boolean> {
    return this.transaction(() => {
      // Checked inside the transaction: two processes sharing DATA_DIR create it once.
      if ((this.stmts.tenantExists.get(tenantId)?.n ?? 0) > 0) return false;
      for (const user of users) this.insertUser(user);
      return true;
    });
  }

  async findUserByName(tenantId: string, username: string): Promise<UserRecord | undefined> {
    const row = this.stmts.userByName.get(tenantId, username);
    return row ? toUser(row) : undefined;
  }

  async getUser(tenantId: string, id: string): Promise<UserRecord | undefined> {
    const row = this.stmts.userById.get(tenantId, id);
    return row ? toUser(row) : undefined;
  }

  async listUsers(tenantId: string): Promise<UserRecord[]> {
    return this.stmts.usersOfTenant.all(tenantId).map(toUser);
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    return (this.stmts.tenantExists.get(tenantId)?.n ?? 0) > 0;
  }

  async touchDevice(tenantId: string, deviceId: string, userId: string | undefined, now: number): Promise<void> {
    this.stmts.deviceTouch.run(tenantId, deviceId, userId ?? null, now, now);
  }

  async getDevice(tenantId: string, id: string): Promise<DeviceRecord | undefined> {
    const row = this.stmts.deviceGet.get(tenantId, id);
    return row ? toDevice(row) : undefined;
  }

  async listDevices(tenantId: string): Promise<DeviceRecord[]> {
    return this.stmts.devicesOfTenant.all(tenantId).map(toDevice);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.stmts.sessionGet.get(id);
    return row ? toSession(row) : undefined;
  }

  private statusOf(id: string): SessionStatus | undefined {
    const row = this.stmts.sessionStatus.get(id);
    if (!row) return undefined;
    return { ...toSession(row), userDisabledAt: opt(row.user_disabled_at), deviceRevokedAt: opt(row.device_revoked_at) };
  }

  async sessionStatus(id: string): Promise<SessionStatus | undefined> {
    return this.statusOf(id);
  }

  /** One indexed lookup per request. */
  sessionState(sessionId: string, tenantId: string, deviceId: string): SessionState {
    const status = this.statusOf(sessionId);
    if (!status || status.tenantId !== tenantId || status.deviceId !== deviceId) return 'unknown';
    if (status.revokedAt !== undefined) return 'revoked';
    if (status.userDisabledAt !== undefined) return 'user-disabled';
    if (status.deviceRevokedAt !== undefined) return 'device-revoked';
    return 'ok';
  }

  async openSession(input: NewSession): Promise<TransportKeyRecord | undefined> {
    const { session, refreshToken: token, transportKey } = input;
    return this.transaction(() => {
      this.stmts.deviceTouch.run(session.tenantId, session.deviceId, session.userId ?? null, session.createdAt, session.createdAt);
      this.stmts.sessionInsert.run(session.id, session.tenantId, session.userId ?? null, session.deviceId, session.kind, session.createdAt);
      if (token) this.stmts.refreshInsert.run(token.id, token.sessionId, token.tokenHash, token.createdAt, token.expiresAt);
      return transportKey ? this.activeOrInsert(transportKey) : undefined;
    });
  }

  private activeOrInsert(k: Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'>): TransportKeyRecord {
    const active = this.stmts.transportKeyActive.get(k.tenantId, k.userId, k.deviceId);
    if (active) return toTransportKey(active);
    this.stmts.transportKeyInsert.run(k.kid, k.tenantId, k.userId, k.deviceId, Buffer.from(k.key), k.createdAt);
    return { ...k, revokedAt: undefined, revokeReason: undefined };
  }

  async ensureTransportKey(candidate: Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'>): Promise<TransportKeyRecord> {
    return this.transaction(() => this.activeOrInsert(candidate));
  }

  async getRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.stmts.refreshGet.get(id);
    return row ? {
      id: row.id, sessionId: row.session_id, tokenHash: row.token_hash, createdAt: row.created_at, expiresAt: row.expires_at,
      usedAt: opt(row.used_at), replacedBy: opt(row.replaced_by),
    } : undefined;
  }

  async rotateRefreshToken(oldId: string, next: Omit<RefreshTokenRecord, 'usedAt' | 'replacedBy'>, now: number): Promise<boolean> {
    return this.transaction(() => {
      // Used already (two uses raced, or a copy came back): the second one is a reuse.
      if (this.stmts.refreshUse.run(now, next.id, oldId).changes === 0) return false;
      this.stmts.refreshInsert.run(next.id, next.sessionId, next.tokenHash, next.createdAt, next.expiresAt);
      return true;
    });
  }

  async revokeSession(id: string, reason: string, now: number, record?: Omit<RevocationRecord, 'id'>): Promise<number> {
    return this.transaction(() => {
      const n = this.stmts.revokeSession.run(now, reason, id).changes;
      if (record) this.insertRevocation(record);
      return n;
    });
  }

  async revokeDeviceSessions(tenantId: string, deviceId: string, reason: string, now: number, record?: Omit<RevocationRecord, 'id'>): Promise<number> {
    return this.transaction(() => {
      const n = this.stmts.revokeDeviceSessions.run(now, reason, tenantId, deviceId).changes;
      if (record) this.insertRevocation(record);
      return n;
    });
  }

  async setUserRevoked(tenantId: string, userId: string, revoked: boolean, byUserId: string | undefined, now: number): Promise<{ user: UserRecord; sessionsRevoked: number } | undefined> {
    return this.transaction(() => {
      if (!this.stmts.userById.get(tenantId, userId)) return undefined;
      this.stmts.userDisable.run(revoked ? now : null, tenantId, userId);
      let sessionsRevoked = 0;
      if (revoked) {
        sessionsRevoked = this.stmts.revokeUserSessions.run(now, 'user revoked by admin', tenantId, userId).changes;
        this.stmts.transportKeysRevokeOfUser.run(now, 'user revoked by admin', tenantId, userId);
        this.insertRevocation({ tenantId, kind: 'user', subject: userId, reason: 'revoked by admin', byUserId, at: now });
      }
      return { user: toUser(this.stmts.userById.get(tenantId, userId)!), sessionsRevoked };
    });
  }

  async setDeviceRevoked(tenantId: string, deviceId: string, revoked: boolean, byUserId: string | undefined, now: number): Promise<{ device: DeviceRecord; sessionsRevoked: number }> {
    return this.transaction(() => {
      this.stmts.deviceRevoke.run(tenantId, deviceId, now, now, revoked ? now : null);
      let sessionsRevoked = 0;
      if (revoked) {
        sessionsRevoked = this.stmts.revokeDeviceSessions.run(now, 'device revoked by admin', tenantId, deviceId).changes;
        this.stmts.transportKeysRevokeOfDevice.run(now, 'device revoked by admin', tenantId, deviceId);
        this.insertRevocation({ tenantId, kind: 'device', subject: deviceId, reason: 'revoked by admin', byUserId, at: now });
      }
      return { device: toDevice(this.stmts.deviceGet.get(tenantId, deviceId)!), sessionsRevoked };
    });
  }

  /** The key this user uses on this device now, if it has one that was not revoked. */
  async activeTransportKey(tenantId: string, userId: string, deviceId: string): Promise<TransportKeyRecord | undefined> {
    const row = this.stmts.transportKeyActive.get(tenantId, userId, deviceId);
    return row ? toTransportKey(row) : undefined;
  }

  async transportKeyStatus(kid: string): Promise<TransportKeyStatus | undefined> {
    const row = this.stmts.transportKeyStatus.get(kid);
    if (!row) return undefined;
    return { ...toTransportKey(row), username: opt(row.username), userDisabledAt: opt(row.user_disabled_at), deviceRevokedAt: opt(row.device_revoked_at) };
  }

  private insertRevocation(entry: Omit<RevocationRecord, 'id'>): void {
    this.stmts.revocationInsert.run(entry.tenantId, entry.kind, entry.subject, entry.reason, entry.byUserId ?? null, entry.at);
  }

  async listRevocations(tenantId: string, limit: number): Promise<RevocationRecord[]> {
    return this.stmts.revocationsOfTenant.all(tenantId, limit).map((row) => ({
      id: row.id, tenantId: row.tenant_id, kind: row.kind as RevocationRecord['kind'], subject: row.subject, reason: row.reason,
      byUserId: opt(row.by_user_id), at: row.at,
    }));
  }

  private credentialStore: DeviceCredentialStore | undefined;

  /** Device push credentials and the DPoP proofs seen, in this database (server/auth/device-credential-store.ts). */
  get deviceCredentials(): DeviceCredentialStorage {
    this.credentialStore ??= new DeviceCredentialStore(this.db);
    return this.credentialStore;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id, tenantId: row.tenant_id, username: row.username, passwordHash: row.password_hash, role: row.role as Role,
    unitId: opt(row.unit_id), technicianId: opt(row.technician_id), displayName: opt(row.display_name), createdAt: row.created_at,
    disabledAt: opt(row.disabled_at),
  };
}

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    tenantId: row.tenant_id, id: row.id, lastUserId: opt(row.last_user_id), firstSeenAt: row.first_seen_at, lastSeenAt: row.last_seen_at,
    revokedAt: opt(row.revoked_at),
  };
}

function toTransportKey(row: TransportKeyRow): TransportKeyRecord {
  return {
    kid: row.kid, tenantId: row.tenant_id, userId: row.user_id, deviceId: row.device_id, key: new Uint8Array(row.key), createdAt: row.created_at,
    revokedAt: opt(row.revoked_at), revokeReason: opt(row.revoke_reason),
  };
}

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id, tenantId: row.tenant_id, userId: opt(row.user_id), deviceId: row.device_id, kind: row.kind as SessionRecord['kind'],
    createdAt: row.created_at, revokedAt: opt(row.revoked_at),
  };
}
