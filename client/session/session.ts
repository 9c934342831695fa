/**
 * The signed-in session of this device, shared by every app and tab of the origin (saveSession()
 * keeps it durably in IndexedDB and the service worker's queue, with a quick copy in localStorage).
 * Two ways in: the server's login (`AUTH.login`, refreshed with `AUTH.refresh`)
 * or a developer token (`dev:<tenant>:<role>:<device>[:<unit|technician>]`) while real login is
 * not available. The apps only ever ask `getAccessToken()`; the worker asks through them.
 */
import { ApiClient, AUTH, readApiError, readDevToken, ROLES, type LoginRequest, type Role, type TokenAnswer } from '../../shared/protocol/index.ts';
import type { RawTransportKey } from '../sync/queue-seal.ts';
import { dropDeviceRecord, keepDeviceRecord, migrateFromLocalStorage, readDeviceRecord } from './device-records.ts';
import { handOverSession } from './handover.ts';
import { jwtClaims, type Session, type SessionUser } from './identity.ts';
import { heldKey } from './lock.ts';
import { openTokens, sealTokens, type SealedTokens, type SessionTokens } from './sealed-session.ts';

/** Where the session is kept (localStorage): its `storage` event tells other tabs of a new sign-in. */
export const SESSION_KEY = 'fieldsync.session';
const DEVICE_KEY = 'fieldsync.deviceId';
/** The Web Lock every page holds while it rotates the refresh token (one rotation at a time per device). */
const SESSION_REFRESH_LOCK = 'fieldsync-session-refresh';

export class SessionError extends Error {}

/**
 * The session as stored (IndexedDB and localStorage): a password session's tokens only sealed under
 * the database key (sealed-session.ts), so nothing stored reads PHI without the user's unlock.
 * A developer session keeps its token in clear (it is not secret). Sessions an earlier version
 * stored with clear tokens are sealed at the next unlock.
 */
type StoredSession = Omit<Session, 'accessToken'> & { accessToken?: string; sealed?: SealedTokens };

/** The clear tokens of the stored session, in this page's memory only while it is unlocked. */
let unsealed: (SessionTokens & { ct: string }) | undefined;

function readStored(): StoredSession | undefined {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : undefined;
  } catch {
    return undefined;
  }
}

/** The stored session with the tokens this page holds for it (none while locked: `accessToken` is then ''). */
function withTokens(stored: StoredSession): Session {
  const { sealed, ...rest } = stored;
  if (!sealed) return { ...rest, accessToken: rest.accessToken ?? '' };
  const tokens = unsealed?.ct === sealed.ct ? unsealed : undefined;
  const { refreshToken: _legacy, ...base } = rest;
  return { ...base, accessToken: tokens?.accessToken ?? '', ...(tokens?.refreshToken ? { refreshToken: tokens.refreshToken } : {}) };
}

export function loadSession(): Session | undefined {
  const stored = readStored();
  return stored ? withTokens(stored) : undefined;
}

/** Whether this page holds the tokens of the stored session (it is unlocked, or a developer session). */
export function hasSessionTokens(): boolean {
  return !!loadSession()?.accessToken;
}

/**
 * Opens the stored session's tokens with the database key (unlocking, or another tab refreshed
 * them): from then on this page has them in memory. A session an earlier version stored in clear
 * is sealed now. Returns the session with its tokens.
 */
export async function openSession(databaseKey: string, dbName: string): Promise<Session | undefined> {
  const stored = (await readDeviceRecord<StoredSession>(SESSION_KEY).catch(() => undefined)) ?? readStored();
  if (!stored || stored.kind !== 'password') return stored ? withTokens(stored) : undefined;
  if (!stored.sealed) {
    // An earlier version's clear tokens: sealed now, and the clear copies overwritten.
    if (stored.accessToken) await saveSession({ ...stored, accessToken: stored.accessToken }, databaseKey);
    return loadSession();
  }
  if (unsealed?.ct !== stored.sealed.ct) {
    const tokens = await openTokens(databaseKey, dbName, stored.sealed);
    if (tokens) unsealed = { ...tokens, ct: stored.sealed.ct };
  }
  if (localStorage.getItem(SESSION_KEY) !== JSON.stringify(stored)) localStorage.setItem(SESSION_KEY, JSON.stringify(stored));
  return withTokens(stored);
}

/** Forgets the clear tokens in this page (locking). */
export function forgetSessionTokens(): void {
  unsealed = undefined;
}

/**
 * The one way a session is saved (sign-in, signing in again, every token refresh): durably first
 * (IndexedDB, what the next start reads), then the quick copy in localStorage (whose `storage`
 * event tells other tabs). A password session's tokens are sealed with the database key first:
 * `databaseKey`, or the one this page holds (it must be unlocked). The service worker's queue gets
 * its push-only credential (handover.ts), never these tokens.
 */
export async function saveSession(session: Session, databaseKey?: string): Promise<void> {
  let stored: StoredSession = session;
  if (session.kind === 'password') {
    const dbName = databaseNameFor(session.user);
    const key = databaseKey ?? heldKey(dbName);
    if (!key) throw new SessionError('The app is locked: unlock it to save the sign-in.');
    const { accessToken, refreshToken, ...rest } = session;
    const sealed = await sealTokens(key, dbName, { accessToken, ...(refreshToken ? { refreshToken } : {}) });
    stored = { ...rest, sealed };
    unsealed = { accessToken, ...(refreshToken ? { refreshToken } : {}), ct: sealed.ct };
  }
  await keepDeviceRecord(SESSION_KEY, stored);
  localStorage.setItem(SESSION_KEY, JSON.stringify(stored));
  await handOverSession(session).catch(() => undefined);
}

export function clearSession(): Promise<void> {
  unsealed = undefined;
  localStorage.removeItem(SESSION_KEY);
  return dropDeviceRecord(SESSION_KEY);
}

/**
 * The session at start: the durable copy (the localStorage one may be older or gone after a
 * crash). Its tokens are opened at the unlock (`openSession`).
 */
export async function restoreSession(): Promise<Session | undefined> {
  const stored = await migrateFromLocalStorage<StoredSession>(SESSION_KEY).catch(() => readStored());
  if (stored && localStorage.getItem(SESSION_KEY) !== JSON.stringify(stored)) localStorage.setItem(SESSION_KEY, JSON.stringify(stored));
  return stored ? withTokens(stored) : undefined;
}

/** Another tab may have rotated the tokens: this page opens the stored ones when it holds the key. */
async function adoptStoredTokens(): Promise<Session | undefined> {
  const stored = readStored();
  if (!stored) return undefined;
  if (stored.kind === 'password' && stored.sealed && unsealed?.ct !== stored.sealed.ct) {
    const dbName = databaseNameFor(stored.user);
    const key = heldKey(dbName);
    if (key) {
      const tokens = await openTokens(key, dbName, stored.sealed);
      if (tokens) unsealed = { ...tokens, ct: stored.sealed.ct };
    }
  }
  return withTokens(stored);
}

/** A stable id for this browser profile: the default device id at sign-in. */
export function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${Math.random().toString(36).slice(2, 10)}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

/** The identity a developer token carries, checked like the server checks it. */
export function parseDevToken(token: string): SessionUser {
  const reading = readDevToken(token.trim());
  if (reading.ok) return reading.identity;
  if (reading.problem === 'unknown-role') throw new SessionError(`"${reading.role}" is not a role; use one of ${ROLES.join(', ')}.`);
  throw new SessionError('A developer token looks like dev:<agency>:<role>:<device>, with an optional unit or technician at the end.');
}

export function devSession(token: string): Session {
  return { kind: 'dev', accessToken: token.trim(), user: parseDevToken(token) };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sessionFrom(answer: TokenAnswer, fallback: { tenantId?: string; deviceId?: string; username?: string }, previous?: SessionUser): Session {
  const claims = jwtClaims(answer.accessToken);
  const user = answer.user ?? {};
  const role = (str(user['role']) ?? str(claims['role']) ?? previous?.role) as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new SessionError('The server did not say which role this account has.');
  const expSeconds = typeof answer.expiresIn === 'number' ? answer.expiresIn : undefined;
  const exp = typeof claims['exp'] === 'number' ? (claims['exp'] as number) * 1000 : undefined;
  const unitId = str(user['unitId']) ?? str(claims['unit']) ?? previous?.unitId;
  const technicianId = str(user['technicianId']) ?? str(claims['technician']) ?? previous?.technicianId;
  const displayName = str(user['displayName']) ?? str(user['name']) ?? previous?.displayName;
  const username = str(user['username']) ?? previous?.username ?? fallback.username;
  return {
    kind: 'password',
    accessToken: answer.accessToken,
    ...(answer.refreshToken ? { refreshToken: answer.refreshToken } : {}),
    ...(expSeconds !== undefined ? { expiresAt: Date.now() + expSeconds * 1000 } : exp !== undefined ? { expiresAt: exp } : {}),
    user: {
      tenantId: str(user['tenantId']) ?? str(claims['tenant']) ?? previous?.tenantId ?? fallback.tenantId ?? '',
      role,
      userId: str(user['userId']) ?? str(user['id']) ?? str(claims['sub']) ?? previous?.userId ?? fallback.username ?? '',
      deviceId: str(user['deviceId']) ?? str(claims['device']) ?? previous?.deviceId ?? fallback.deviceId ?? deviceId(),
      ...(unitId ? { unitId } : {}),
      ...(technicianId ? { technicianId } : {}),
      ...(displayName ? { displayName } : {}),
      ...(username ? { username } : {}),
    },
  };
}

/** The apps are served by the server itself: same origin, and each call says which token it carries. */
const api = new ApiClient();

async function errorMessage(response: Response): Promise<string> {
  return (await readApiError(response)).message;
}

export interface SignIn {
  session: Session;
  /** The key to seal queued changes with (transport-key.ts keeps it, wrapped); absent from servers that do not issue one. */
  transportKey?: RawTransportKey;
}

function transportKeyOf(value: unknown): RawTransportKey | undefined {
  const { kid, key } = (value ?? {}) as { kid?: unknown; key?: unknown };
  return typeof kid === 'string' && typeof key === 'string' ? { kid, key } : undefined;
}

/**
 * Signs in with the server. Nothing is saved: the caller saves the session with the database key
 * the password opens (`saveSession(session, key)`, its tokens are sealed under it) and keeps the
 * transport key the same way; signing in again checks first that it is the same person.
 */
export async function login(form: LoginRequest): Promise<SignIn> {
  let response: Response;
  try {
    response = await api.send(AUTH.login, { json: form, token: false });
  } catch {
    throw new SessionError('The server cannot be reached. Signing in needs a connection once; after that the apps work offline.');
  }
  if (response.status === 404) throw new SessionError('This server does not offer password sign-in yet. Use a developer token (below).');
  if (!response.ok) throw new SessionError(await errorMessage(response));
  const answer = (await response.json()) as TokenAnswer & { transportKey?: unknown };
  const session = sessionFrom(answer, form);
  const transportKey = transportKeyOf(answer.transportKey);
  return { session, ...(transportKey ? { transportKey } : {}) };
}

/**
 * A refresh token the server refused, with its words. It is never sent again: the server counts a
 * second use of a spent token as theft and ends every session of the device, so a retry would
 * turn "your sign-in expired" into "every session was ended".
 */
let refusedRefresh: { token: string; message: string } | undefined;

/** Why the server refused to refresh the session this device holds (signing in again is the fix), if it did. */
export function refreshRefusal(): string | undefined {
  const current = loadSession();
  return refusedRefresh && current?.refreshToken === refusedRefresh.token ? refusedRefresh.message : undefined;
}

/** Exchanges the refresh token; one tab at a time (Web Locks), so a rotated token is not used twice. */
export async function refreshSession(): Promise<Session | undefined> {
  const run = async (): Promise<Session | undefined> => {
    // Another tab may have rotated the tokens since this page read them.
    const current = await adoptStoredTokens();
    if (!current || current.kind !== 'password' || !current.refreshToken) return current;
    if (refusedRefresh?.token === current.refreshToken) throw new SessionError(refusedRefresh.message);
    if (current.expiresAt && current.expiresAt - Date.now() > 60_000) return current; // another tab just did it
    const response = await api.send(AUTH.refresh, {
      json: { refreshToken: current.refreshToken, deviceId: current.user.deviceId }, token: false,
    });
    if (response.status === 401 || response.status === 403) {
      const refusal = { token: current.refreshToken ?? '', message: await errorMessage(response) };
      refusedRefresh = refusal;
      throw new SessionError(refusal.message);
    }
    if (!response.ok) return current; // server trouble: keep working with what we have
    const next = sessionFrom((await response.json()) as TokenAnswer, {}, current.user);
    if (!next.refreshToken && current.refreshToken) next.refreshToken = current.refreshToken;
    // Durable before the lock is released: nobody may refresh with the spent token, not even after a restart.
    await saveSession(next);
    return next;
  };
  if (typeof navigator !== 'undefined' && navigator.locks) return navigator.locks.request(SESSION_REFRESH_LOCK, run);
  return run();
}

/** The token to send now; refreshed first when it expires within a minute and we are online. */
export async function getAccessToken(): Promise<string> {
  let session = loadSession();
  if (session && !session.accessToken) session = await adoptStoredTokens();
  if (!session) throw new SessionError('Not signed in.');
  if (session.kind === 'password' && session.expiresAt && session.expiresAt - Date.now() < 60_000 && navigator.onLine) {
    try {
      session = (await refreshSession()) ?? session;
    } catch {
      // the server refused the refresh: the request will get 401 and the app asks to sign in again
    }
  }
  return session.accessToken;
}

/**
 * Signs out on this device, and on the server when this page holds the tokens (unlocked). A locked
 * page cannot end the server's session (its tokens are sealed): the device credential and the
 * session then live until they expire or an administrator revokes the device.
 */
export async function logout(): Promise<void> {
  const session = loadSession();
  await clearSession();
  if (session?.kind === 'password' && session.accessToken) await endServerSession(session);
}

/** Ends a session on the server (its access token, and its refresh token if it has one); unreachable: nothing to do. */
export async function endServerSession(tokens: { accessToken: string; refreshToken?: string }): Promise<void> {
  await api.send(AUTH.logout, { token: tokens.accessToken, json: { refreshToken: tokens.refreshToken } }).catch(() => undefined);
}

/**
 * Whether the server still takes this access token: its reason when it refuses it (401), else
 * undefined (any other answer: assumed valid, the apps work offline). Throws when unreachable.
 */
export async function signInRefusal(token: string): Promise<string | undefined> {
  const response = await api.send(AUTH.me, { token });
  if (response.status !== 401) return undefined;
  const error = await readApiError(response);
  return error.code === `HTTP_${response.status}` ? 'The server no longer accepts this sign-in.' : error.message;
}

/** The app a role starts in. */
export function homeFor(role: Role): string {
  switch (role) {
    case 'crew': return '/crew/';
    case 'technician': return '/tech/';
    case 'office': return '/office/';
    default: return '/dispatch/';
  }
}

/**
 * One local database per device and user (RxDB names: lower case letters, digits, _ and -).
 * `enc1`: databases whose PHI is encrypted (keys.ts) have names of their own; a copy an
 * earlier version left unencrypted is not opened again (it cannot be, with the new schema).
 */
export function databaseNameFor(user: SessionUser): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  let hash = 0x811c9dc5;
  const key = `enc1|${user.tenantId}|${user.userId}|${user.deviceId}|${user.unitId ?? ''}|${user.technicianId ?? ''}`;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return `fs_${clean(user.tenantId).slice(0, 24)}_${clean(user.userId).slice(0, 32)}_${hash.toString(36)}`;
}
