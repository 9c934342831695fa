/**
 * The tables of device push credentials, in identity.sqlite (the IdentityStore owns the database
 * and hands it to this part: `identities.deviceCredentials`).
 *
 * - `device_credentials`: one row per credential; only the SHA-256 of its secret is kept (it is a
 *   256-bit random value, so a fast hash is enough, as for refresh tokens), with the thumbprint
 *   of the key it is bound to and the login session it was issued in: ending that session
 *   (logout, revocation of the session, the user or the device) ends the credential.
 * - `dpop_proofs`: the `jti` of every proof accepted, per key, until it could no longer pass the
 *   `iat` check anyway; in SQLite, so every server process sharing DATA_DIR refuses a replay.
 */
import type Database from 'better-sqlite3';

export interface DeviceCredentialRecord {
  id: string;
  tenantId: string;
  userId: string;
  deviceId: string;
  sessionId: string;
  secretHash: string;
  /** RFC 7638 thumbprint of the public key the credential is bound to. */
  jkt: string;
  createdAt: number;
  expiresAt: number;
}

/** Where credentials and seen proofs are kept: SQLite (below) or PostgreSQL (identity-store-postgres.ts). */
export interface DeviceCredentialStorage {
  issue(record: DeviceCredentialRecord): Promise<void>;
  get(id: string): Promise<DeviceCredentialRecord | undefined>;
  /** Records a proof's `jti` for its key; false when it was recorded before (a replay), by any process. */
  rememberProof(jkt: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS device_credentials (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  jkt         TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS device_credentials_session ON device_credentials (session_id);
CREATE TABLE IF NOT EXISTS dpop_proofs (
  jkt        TEXT NOT NULL,
  jti        TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (jkt, jti)
);
CREATE INDEX IF NOT EXISTS dpop_proofs_expiry ON dpop_proofs (expires_at);
`;

interface Row {
  id: string; tenant_id: string; user_id: string; device_id: string; session_id: string; secret_hash: string; jkt: string;
  created_at: number; expires_at: number;
}

export class DeviceCredentialStore implements DeviceCredentialStorage {
  private readonly stmts;
  private sweptAt = 0;

  constructor(db: Database.Database) {
    db.exec(SCHEMA_SQL);
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO device_credentials (id, tenant_id, user_id, device_id, session_id, secret_hash, jkt, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare<[string], Row>('SELECT * FROM device_credentials WHERE id = ?'),
      remember: db.prepare('INSERT OR IGNORE INTO dpop_proofs (jkt, jti, expires_at) VALUES (?, ?, ?)'),
      sweep: db.prepare('DELETE FROM dpop_proofs WHERE expires_at < ?'),
    };
  }

  /**
   * Stores a new credential. Earlier ones of the same session keep working until the session
   * ends or they expire: two tabs opening at once each ask for one, and whichever the queue kept
   * must still deliver.
   */
  async issue(record: DeviceCredentialRecord): Promise<void> {
    this.stmts.insert.run(record.id, record.tenantId, record.userId, record.deviceId, record.sessionId, record.secretHash, record.jkt, record.createdAt, record.expiresAt);
  }

  async get(id: string): Promise<DeviceCredentialRecord | undefined> {
    const row = this.stmts.get.get(id);
    return row ? {
      id: row.id, tenantId: row.tenant_id, userId: row.user_id, deviceId: row.device_id, sessionId: row.session_id, secretHash: row.secret_hash,
      jkt: row.jkt, createdAt: row.created_at, expiresAt: row.expires_at,
    } : undefined;
  }

  /** Records a proof's `jti` for its key; false when it was recorded before (a replay). */
  async rememberProof(jkt: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    if (now - this.sweptAt > 60_000) {
      this.sweptAt = now;
      this.stmts.sweep.run(now);
    }
    return this.stmts.remember.run(jkt, jti, expiresAt).changes === 1;
  }
}
