import { createHash, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AUTH, ErrorCode, patternOf, type Identity, type Role } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import { actorOf } from './actor.ts';
import type { Actor, AuditEntryInput } from '../store/types.ts';
import { devTokenAuthenticator, type AuthenticatedSession, type Authenticator } from './identity.ts';
import type { DeviceRecord, UserRecord } from './identity-records.ts';
import type { IdentityStore } from './identity-store.ts';
import { CLAIM_TEXT, signAccessToken, TokenError, verifyAccessToken, type AccessClaims } from './jwt.ts';
import { passwordProblems } from './password-policy.ts';
import { DEFAULT_SCRYPT, dummyHash, hashPassword, verifyPassword, type ScryptParams } from './passwords.ts';
import { TransportKeys, type IssuedTransportKey } from './transport-keys.ts';

export interface AuthServiceOptions {
  identities: IdentityStore;
  secret: Uint8Array;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Also accept `dev:` tokens (development and tests). */
  devTokens: boolean;
  /** Where authentication events are audited (the store's hash-chained log). */
  audit?: (entries: AuditEntryInput[]) => Promise<void>;
  scrypt?: ScryptParams;
  now?: () => number;
}

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds. */
  expiresIn: number;
  expiresAt: string;
  refreshToken: string;
  refreshExpiresIn: number;
  identity: Identity;
  /** The signed-in user, with the identity the token carries. */
  user: {
    id: string; userId: string; username: string; displayName?: string; tenantId: string; role: Role; deviceId: string;
    unitId?: string; technicianId?: string;
  };
  /**
   * Sign-in only: the key this user seals queued changes with on this device (the same one on
   * every sign-in there, until revoked). The device stores it only wrapped (client/session/transport-key.ts).
   */
  transportKey?: IssuedTransportKey;
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  unitId?: string;
  technicianId?: string;
  displayName?: string;
}

export type PublicUser = Omit<UserRecord, 'passwordHash' | 'createdAt' | 'disabledAt'> & { createdAt: string; disabledAt?: string };

const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

function unauthorized(code: ErrorCode, message: string): HttpError {
  return new HttpError(401, code, message);
}

const BAD_CREDENTIALS = () => unauthorized(ErrorCode.BAD_CREDENTIALS, 'The agency, username or password is wrong.');
const BAD_REFRESH = () => unauthorized(ErrorCode.BAD_REFRESH_TOKEN, 'The refresh token is not valid; sign in again. Changes waiting on the device are kept.');

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Logins, token rotation, logout and revocation, and the `Authenticator` every route and the
 * socket.io handshakes use. Every request re-checks its session (one indexed SQLite lookup; on
 * PostgreSQL, the revocation list each process re-reads every 500 ms), so logout and revocation
 * take effect at the next request (on other processes within half a second), not at token expiry.
 */
export class AuthService implements Authenticator {
  private readonly dev = devTokenAuthenticator();
  private readonly listeners = new Set<(tenantId: string) => void>();
  private readonly now: () => number;
  private readonly scrypt: ScryptParams;
  /** Keys devices seal their queued changes with; the push route opens them (server/replication/envelopes.ts). */
  readonly transportKeys: TransportKeys;

  constructor(private readonly options: AuthServiceOptions) {
    this.now = options.now ?? Date.now;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.transportKeys = new TransportKeys(options.identities);
    // Revocations made by another process (PostgreSQL): open connections here are re-checked at once.
    options.identities.onRemoteRevocation?.((tenantId) => this.notifyRevoked(tenantId));
  }

  get identities(): IdentityStore {
    return this.options.identities;
  }

  /**
   * A 32-byte key for `purpose` alone, derived (HKDF-SHA256) from the token signing key, so every
   * process of the server has the same one and it changes with that key. For the server's own
   * MACs on data it keeps (an attachment upload's owner, server/attachments/tus-server.ts); never
   * the signing key itself.
   */
  derivedKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.options.secret, new Uint8Array(0), `fieldsync ${purpose}`, 32));
  }

  // ---- Authenticator --------------------------------------------------------------------------

  authenticate(token: string | undefined): Identity {
    return this.authenticateSession(token).identity;
  }

  authenticateSession(token: string | undefined): AuthenticatedSession {
    if (!token) throw unauthorized(ErrorCode.UNAUTHENTICATED, `Send Authorization: Bearer <token>; get one from POST ${patternOf(AUTH.login)}.`);
    if (token.startsWith('dev:')) {
      if (!this.options.devTokens) throw unauthorized(ErrorCode.BAD_TOKEN, 'Development tokens are turned off on this server; sign in to get a token.');
      return { identity: this.dev.authenticate(token) };
    }
    let claims: AccessClaims;
    try {
      claims = verifyAccessToken(token, this.options.secret, this.now());
    } catch (error) {
      if (error instanceof TokenError && error.problem === 'expired') {
        throw unauthorized(ErrorCode.TOKEN_EXPIRED, 'Your session token expired; refresh it or sign in again. Changes waiting on the device are kept and sync after that.');
      }
      throw unauthorized(ErrorCode.BAD_TOKEN, 'The token is not valid; sign in again to get a new one.');
    }
    const session: AuthenticatedSession = { identity: identityOf(claims), sessionId: claims.sid, expiresAt: claims.exp * 1000 };
    this.checkSession(session);
    return session;
  }

  isSessionValid(session: AuthenticatedSession): boolean {
    if (session.sessionId === undefined) return true;
    try {
      this.checkSession(session);
      return session.expiresAt === undefined || session.expiresAt > this.now();
    } catch {
      return false;
    }
  }

  onRevoked(listener: (tenantId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The revocation check of every request: session, user and device must all still be valid. */
  private checkSession(session: AuthenticatedSession): void {
    const identity = session.identity;
    const state = this.options.identities.sessionState(session.sessionId!, identity.tenantId, identity.deviceId, identity.userId);
    if (state === 'unknown') throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This session no longer exists; sign in again.');
    if (state === 'revoked') throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This session was ended (signed out or revoked); sign in again.');
    if (state === 'user-disabled') throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This account was disabled by your administrator.');
    if (state === 'device-revoked') throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This device was revoked by your administrator.');
  }

  private notifyRevoked(tenantId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(tenantId);
      } catch {
        // a listener's failure must not undo a revocation
      }
    }
  }

  // ---- login, refresh, logout -----------------------------------------------------------------

  async login(input: { tenantId: string; username: string; password: string; deviceId: string }, context: { requestId?: string } = {}): Promise<TokenPair> {
    const { identities } = this.options;
    const user = USERNAME.test(input.username) ? (await identities.findUserByName(input.tenantId, input.username)) : undefined;
    // Unknown users cost the same scrypt as known ones: no enumeration by timing.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? await dummyHash(this.scrypt));
    const actor: Actor = { kind: 'device', tenantId: input.tenantId, deviceId: input.deviceId, ...(user ? { userId: user.id, role: user.role } : {}) };
    if (!user || !ok) {
      await this.audit([{ tenantId: input.tenantId, action: 'login_failed', actor, details: { username: input.username, requestId: context.requestId } }]);
      throw BAD_CREDENTIALS();
    }
    if (user.disabledAt !== undefined) {
      await this.audit([{ tenantId: input.tenantId, action: 'login_failed', actor, details: { username: input.username, why: 'disabled' } }]);
      throw new HttpError(403, ErrorCode.ACCOUNT_DISABLED, 'This account is disabled; ask your agency\'s administrator.');
    }
    const device = await identities.getDevice(input.tenantId, input.deviceId);
    if (device?.revokedAt !== undefined) {
      await this.audit([{ tenantId: input.tenantId, action: 'login_failed', actor, details: { username: input.username, why: 'device revoked' } }]);
      throw new HttpError(403, ErrorCode.DEVICE_REVOKED, 'This device was revoked by your administrator; it cannot sign in until it is re-enabled.');
    }
    const now = this.now();
    const sessionId = randomUUID();
    const refresh = this.newRefreshToken(sessionId, now);
    const keyRecord = await identities.openSession({
      session: { id: sessionId, tenantId: input.tenantId, userId: user.id, deviceId: input.deviceId, kind: 'login', createdAt: now },
      refreshToken: refresh.record,
      transportKey: this.transportKeys.candidate(input.tenantId, user.id, input.deviceId, now),
    });
    const transportKey = TransportKeys.issued(keyRecord!);
    await this.audit([{ tenantId: input.tenantId, action: 'login', actor, details: { sessionId, requestId: context.requestId, transportKeyId: transportKey.kid } }]);
    return { ...await this.tokenPair(user, input.deviceId, sessionId, refresh.token, now), transportKey };
  }

  /**
   * Whether the user last signed in on this device, which is not revoked: the global sign-in limit
   * lets such a sign-in through (a spray's made-up device ids are not known). Two indexed lookups,
   * no password check.
   */
  async isKnownDevice(tenantId: string, username: string, deviceId: string): Promise<boolean> {
    const user = USERNAME.test(username) ? await this.options.identities.findUserByName(tenantId, username) : undefined;
    const device = user ? await this.options.identities.getDevice(tenantId, deviceId) : undefined;
    return device !== undefined && device.lastUserId === user!.id && device.revokedAt === undefined;
  }

  async refresh(input: { refreshToken: string; deviceId: string }): Promise<TokenPair> {
    const { identities } = this.options;
    const parsed = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(input.refreshToken);
    if (!parsed) throw BAD_REFRESH();
    const record = await identities.getRefreshToken(parsed[1]!);
    if (!record) throw BAD_REFRESH();
    const given = Buffer.from(sha256(parsed[2]!), 'hex');
    if (!timingSafeEqual(given, Buffer.from(record.tokenHash, 'hex'))) throw BAD_REFRESH();
    const session = await identities.getSession(record.sessionId);
    if (!session || session.revokedAt !== undefined) throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This session was ended (signed out or revoked); sign in again.');
    const now = this.now();
    const actor: Actor = { kind: 'device', tenantId: session.tenantId, deviceId: input.deviceId, ...(session.userId ? { userId: session.userId } : {}) };
    if (session.deviceId !== input.deviceId) {
      // A refresh token is bound to its device: from anywhere else it was stolen.
      await identities.revokeSession(session.id, 'refresh token used from another device', now,
        { tenantId: session.tenantId, kind: 'session', subject: session.id, reason: `refresh token presented by device ${input.deviceId}`, byUserId: undefined, at: now });
      await this.audit([{ tenantId: session.tenantId, action: 'refresh_refused', actor, details: { sessionId: session.id, why: 'other device' } }]);
      this.notifyRevoked(session.tenantId);
      throw BAD_REFRESH();
    }
    // Before rotating: an expired token is not spent, so presenting it again (a page and the service
    // worker each try it) is expiry again, not the reuse that ends every session of the device.
    if (record.expiresAt <= now) throw unauthorized(ErrorCode.REFRESH_TOKEN_EXPIRED, 'The refresh token expired; sign in again. Changes waiting on the device are kept.');
    const rotated = this.newRefreshToken(session.id, now);
    // One atomic step in the identity database: of two processes given the same token at once, one wins.
    const reused = record.usedAt !== undefined || !await identities.rotateRefreshToken(record.id, rotated.record, now);
    if (reused) {
      // A rotated token came back: someone holds a copy. End every session of the device.
      const ended = await identities.revokeDeviceSessions(session.tenantId, session.deviceId, 'refresh token reuse', now,
        { tenantId: session.tenantId, kind: 'device-tokens', subject: session.deviceId, reason: 'refresh token reuse', byUserId: undefined, at: now });
      await this.audit([{ tenantId: session.tenantId, action: 'refresh_reuse', actor, details: { sessionId: session.id, sessionsRevoked: ended } }]);
      this.notifyRevoked(session.tenantId);
      throw unauthorized(ErrorCode.REFRESH_TOKEN_REUSED, 'This refresh token was already used; every session of this device was ended for safety. Sign in again.');
    }
    const user = session.userId ? await identities.getUser(session.tenantId, session.userId) : undefined;
    if (!user) throw BAD_REFRESH();
    if (user.disabledAt !== undefined) throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This account was disabled by your administrator.');
    if ((await identities.getDevice(session.tenantId, session.deviceId))?.revokedAt !== undefined) throw unauthorized(ErrorCode.TOKEN_REVOKED, 'This device was revoked by your administrator.');
    await identities.touchDevice(session.tenantId, session.deviceId, user.id, now);
    return this.tokenPair(user, session.deviceId, session.id, rotated.token, now);
  }

  /** Ends a session; its access tokens are refused from the next request on. */
  async logout(sessionId: string, identity: Identity): Promise<boolean> {
    const now = this.now();
    const ended = await this.options.identities.revokeSession(sessionId, 'logout', now) > 0;
    if (ended) {
      await this.audit([{ tenantId: identity.tenantId, action: 'logout', actor: actorOf(identity), details: { sessionId } }]);
      this.notifyRevoked(identity.tenantId);
    }
    return ended;
  }

  /** Logout with only a refresh token in hand (e.g. the access token already expired). */
  async logoutWithRefreshToken(refreshToken: string): Promise<boolean> {
    const parsed = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(refreshToken);
    const record = parsed ? await this.options.identities.getRefreshToken(parsed[1]!) : undefined;
    if (!parsed || !record || !timingSafeEqual(Buffer.from(sha256(parsed[2]!), 'hex'), Buffer.from(record.tokenHash, 'hex'))) throw BAD_REFRESH();
    const session = await this.options.identities.getSession(record.sessionId);
    if (!session) throw BAD_REFRESH();
    const identity: Identity = { tenantId: session.tenantId, role: 'crew', deviceId: session.deviceId, userId: session.userId ?? 'unknown' };
    const user = session.userId ? await this.options.identities.getUser(session.tenantId, session.userId) : undefined;
    if (user) identity.role = user.role;
    return this.logout(session.id, identity);
  }

  private newRefreshToken(sessionId: string, now: number) {
    const id = randomBytes(16).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    return {
      token: `${id}.${secret}`,
      record: { id, sessionId, tokenHash: sha256(secret), createdAt: now, expiresAt: now + this.options.refreshTokenTtlSeconds * 1000 },
    };
  }

  private async tokenPair(user: UserRecord, deviceId: string, sessionId: string, refreshToken: string, now: number): Promise<TokenPair> {
    const claims = claimsOf(user, deviceId, sessionId);
    const ttl = this.options.accessTokenTtlSeconds;
    const accessToken = await signAccessToken(this.options.secret, claims, ttl, now);
    const identity = identityOf({ ...claims, jti: '', iat: 0, exp: 0 });
    return {
      accessToken, tokenType: 'Bearer', expiresIn: ttl, expiresAt: new Date(Math.floor(now / 1000) * 1000 + ttl * 1000).toISOString(),
      refreshToken, refreshExpiresIn: this.options.refreshTokenTtlSeconds,
      identity,
      user: { id: user.id, ...identity, username: user.username, ...(user.displayName ? { displayName: user.displayName } : {}) },
    };
  }

  // ---- tokens for devices without a user (CLI) -------------------------------------------------

  /**
   * `npm run token`: a signed token for a device, with its own session so it can be revoked like
   * any other (revoke the device). No user exists behind it: the subject is `cli:<role>@<device>`.
   */
  async mintDeviceToken(input: { tenantId: string; role: Role; deviceId: string; unitId?: string; technicianId?: string; ttlSeconds: number }): Promise<string> {
    for (const [name, value] of Object.entries({ tenant: input.tenantId, device: input.deviceId, unit: input.unitId, technician: input.technicianId })) {
      if (value !== undefined && !CLAIM_TEXT.test(value)) throw new Error(`${name} "${value}" may only use letters, digits and _ . @ : - (up to 64)`);
    }
    const now = this.now();
    const sessionId = randomUUID();
    await this.options.identities.openSession({ session: { id: sessionId, tenantId: input.tenantId, userId: undefined, deviceId: input.deviceId, kind: 'cli', createdAt: now } });
    return signAccessToken(this.options.secret, {
      sub: `cli:${input.role}@${input.deviceId}`, tenant: input.tenantId, role: input.role, device: input.deviceId, sid: sessionId,
      ...(input.role === 'crew' && input.unitId ? { unit: input.unitId } : {}),
      ...(input.role === 'technician' && input.technicianId ? { technician: input.technicianId } : {}),
    }, input.ttlSeconds, now);
  }

  // ---- administration ---------------------------------------------------------------------------

  async createUser(tenantId: string, input: NewUser, by?: Identity): Promise<UserRecord> {
    const problems = [...validateNewUser(input), ...await passwordProblems(input.password, input.username)];
    if (problems.length > 0) throw new HttpError(400, ErrorCode.INVALID_USER, `The user is invalid: ${problems.join('; ')}.`);
    if (await this.options.identities.findUserByName(tenantId, input.username)) {
      throw new HttpError(409, ErrorCode.USERNAME_TAKEN, `There already is a user "${input.username}" in your agency.`);
    }
    const user = await this.options.identities.createUser({
      id: randomUUID(), tenantId, username: input.username, passwordHash: await hashPassword(input.password, this.scrypt), role: input.role,
      unitId: input.role === 'crew' ? input.unitId : undefined, technicianId: input.role === 'technician' ? input.technicianId : undefined,
      displayName: input.displayName, createdAt: this.now(),
    });
    if (by) await this.audit([{ tenantId, action: 'user_create', actor: actorOf(by), details: { userId: user.id, username: user.username, role: user.role } }]);
    return user;
  }

  async setUserRevoked(tenantId: string, userId: string, revoked: boolean, by: Identity): Promise<{ user: UserRecord; sessionsRevoked: number } | undefined> {
    const { identities } = this.options;
    const now = this.now();
    const result = await identities.setUserRevoked(tenantId, userId, revoked, by.userId, now);
    if (!result) return undefined;
    await this.audit([{ tenantId, action: revoked ? 'user_revoke' : 'user_enable', actor: actorOf(by), details: { userId, sessionsRevoked: result.sessionsRevoked } }]);
    if (revoked) this.notifyRevoked(tenantId);
    return result;
  }

  async setDeviceRevoked(tenantId: string, deviceId: string, revoked: boolean, by: Identity): Promise<{ device: DeviceRecord; sessionsRevoked: number }> {
    const { identities } = this.options;
    const now = this.now();
    const result = await identities.setDeviceRevoked(tenantId, deviceId, revoked, by.userId, now);
    await this.audit([{ tenantId, action: revoked ? 'device_revoke' : 'device_enable', actor: actorOf(by), details: { deviceId, sessionsRevoked: result.sessionsRevoked } }]);
    if (revoked) this.notifyRevoked(tenantId);
    return result;
  }

  private async audit(entries: AuditEntryInput[]): Promise<void> {
    if (this.options.audit) await this.options.audit(entries);
  }
}

/** What is wrong with a new user besides its password (server/auth/password-policy.ts judges that). */
export function validateNewUser(input: NewUser): string[] {
  const problems: string[] = [];
  if (typeof input.username !== 'string' || !USERNAME.test(input.username)) problems.push('username must be 1-64 letters, digits or _ . @ -');
  if (input.role === 'crew' && (!input.unitId || !CLAIM_TEXT.test(input.unitId))) problems.push('a crew user needs unitId (its unit\'s call sign, e.g. "M1")');
  if (input.role === 'technician' && (!input.technicianId || !CLAIM_TEXT.test(input.technicianId))) problems.push('a technician needs technicianId (the assignee id of their jobs)');
  if (input.displayName !== undefined && (typeof input.displayName !== 'string' || input.displayName.length > 100)) problems.push('displayName must be up to 100 characters');
  return problems;
}

export function publicUser(user: UserRecord): PublicUser {
  return {
    id: user.id, tenantId: user.tenantId, username: user.username, role: user.role, unitId: user.unitId, technicianId: user.technicianId,
    displayName: user.displayName, createdAt: new Date(user.createdAt).toISOString(),
    ...(user.disabledAt !== undefined ? { disabledAt: new Date(user.disabledAt).toISOString() } : {}),
  };
}

function claimsOf(user: UserRecord, deviceId: string, sessionId: string): Omit<AccessClaims, 'jti' | 'iat' | 'exp'> {
  return {
    sub: user.id, tenant: user.tenantId, role: user.role, device: deviceId, sid: sessionId,
    ...(user.role === 'crew' && user.unitId ? { unit: user.unitId } : {}),
    ...(user.role === 'technician' && user.technicianId ? { technician: user.technicianId } : {}),
  };
}

function identityOf(claims: AccessClaims): Identity {
  const identity: Identity = { tenantId: claims.tenant, role: claims.role, deviceId: claims.device, userId: claims.sub };
  if (claims.role === 'crew' && claims.unit) identity.unitId = claims.unit;
  if (claims.role === 'technician' && claims.technician) identity.technicianId = claims.technician;
  return identity;
}

