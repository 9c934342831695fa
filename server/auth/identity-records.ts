import type { Role } from '../../shared/protocol/index.ts';

/*
 * The records the identity service works with, and the identity tables' rows as both stores read
 * them (SQLite's identity.sqlite and PostgreSQL's identity_* tables have the same columns).
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


export interface UserRow {
  id: string; tenant_id: string; username: string; password_hash: string; role: string; unit_id: string | null;
  technician_id: string | null; display_name: string | null; created_at: number; disabled_at: number | null;
}
export interface DeviceRow { tenant_id: string; id: string; last_user_id: string | null; first_seen_at: number; last_seen_at: number; revoked_at: number | null }
export interface SessionRow {
  id: string; tenant_id: string; user_id: string | null; device_id: string; kind: string; created_at: number; revoked_at: number | null;
}

export const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.id, tenantId: row.tenant_id, username: row.username, passwordHash: row.password_hash, role: row.role as Role,
    unitId: opt(row.unit_id), technicianId: opt(row.technician_id), displayName: opt(row.display_name), createdAt: row.created_at,
    disabledAt: opt(row.disabled_at),
  };
}

export function toDevice(row: DeviceRow): DeviceRecord {
  return {
    tenantId: row.tenant_id, id: row.id, lastUserId: opt(row.last_user_id), firstSeenAt: row.first_seen_at, lastSeenAt: row.last_seen_at,
    revokedAt: opt(row.revoked_at),
  };
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id, tenantId: row.tenant_id, userId: opt(row.user_id), deviceId: row.device_id, kind: row.kind as SessionRecord['kind'],
    createdAt: row.created_at, revokedAt: opt(row.revoked_at),
  };
}
