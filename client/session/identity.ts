/** Who is signed in on this device: the session as every app and the database worker see it. */
import type { Role } from '../../shared/protocol/index.ts';

export interface SessionUser {
  tenantId: string;
  role: Role;
  userId: string;
  /** The name typed at sign-in (password sessions): signing in again asks only for the password. */
  username?: string;
  deviceId: string;
  unitId?: string;
  technicianId?: string;
  displayName?: string;
}

export interface Session {
  kind: 'password' | 'dev';
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms when the access token expires (absent: does not expire, e.g. a developer token). */
  expiresAt?: number;
  user: SessionUser;
}

/** JWT payload claims (unverified: only to learn who we are; the server verifies). */
export function jwtClaims(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return {};
  }
}
