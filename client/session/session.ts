/**
 * The signed-in session of this device, shared by every app and tab of the origin (saveSession()
 * keeps it durably in IndexedDB and the service worker's queue, with a quick copy in localStorage).
 * Two ways in: the server's login (`AUTH.login`, refreshed with `AUTH.refresh`)
 * or a developer token (`dev:<tenant>:<role>:<device>[:<unit|technician>]`) while real login is
 * not available. The apps only ever ask `getAccessToken()`; the worker asks through them.
 */
import { ApiClient, AUTH, readApiError, readDevToken, ROLES, type LoginRequest, type Role, type TokenAnswer } from '../../shared/protocol/index.ts';
import type { RawTransportKey } from '../sync/queue-seal.ts';
import { SESSION_REFRESH_LOCK } from '../queue/index.ts';
import { dropDeviceRecord, keepDeviceRecord, migrateFromLocalStorage } from './device-records.ts';
import { handOverSession, newerQueueSession } from './handover.ts';
import { jwtClaims, type Session, type SessionUser } from './identity.ts';

/** Where the session is kept (localStorage): its `storage` event tells other tabs of a new sign-in. */
export const SESSION_KEY = 'fieldsync.session';
const DEVICE_KEY = 'fieldsync.deviceId';

export class SessionError extends Error {}

export function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one way a session is saved (sign-in, signing in again, every token refresh, tokens the
 * service worker rotated): durably first, in both places that outlive the page, then the quick
 * copy. The IndexedDB record (device-records.ts) is what the next start reads; the service
 * worker's queue delivers (and refreshes) with its own copy while no page is open. localStorage
 * only follows once both are on disk: a copy newer than the durable ones would be gone at the next
 * start, which then presents a spent refresh token — the server takes that for theft and ends
 * every session of the device. (localStorage's `storage` event also tells other tabs.)
 */
export async function saveSession(session: Session): Promise<void> {
  await Promise.all([keepDeviceRecord(SESSION_KEY, session), handOverSession(session).catch(() => undefined)]);
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): Promise<void> {
  localStorage.removeItem(SESSION_KEY);
  return dropDeviceRecord(SESSION_KEY);
}

/**
 * `current` with the tokens the service worker rotated since it was saved (with no page open it
 * refreshes by itself), saved; `current` itself when it holds the newest ones.
 */
async function withQueueTokens(current: Session): Promise<Session> {
  const queued = await newerQueueSession(current);
  if (!queued) return current;
  const claims = jwtClaims(queued.token);
  const next: Session = {
    ...current, accessToken: queued.token, refreshToken: queued.refreshToken,
    ...(typeof claims['exp'] === 'number' ? { expiresAt: (claims['exp'] as number) * 1000 } : {}),
  };
  await saveSession(next);
  return next;
}

/**
 * The session at start: the durable copy (the localStorage one may be older or gone after a
 * crash), with the tokens the service worker rotated while no page was open.
 */
export async function restoreSession(): Promise<Session | undefined> {
  let session = await migrateFromLocalStorage<Session>(SESSION_KEY).catch(() => loadSession());
  if (session) session = await withQueueTokens(session).catch(() => session);
  if (session && localStorage.getItem(SESSION_KEY) !== JSON.stringify(session)) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
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
 * Signs in with the server; the session is saved (it holds no key), the transport key is only
 * returned. `save: false`: the caller checks the session first (signing in again must be the same person).
 */
export async function login(form: LoginRequest, options: { save?: boolean } = {}): Promise<SignIn> {
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
  if (options.save !== false) await saveSession(session);
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
    let current = loadSession();
    if (!current || current.kind !== 'password' || !current.refreshToken) return current;
    if (refusedRefresh?.token === current.refreshToken) throw new SessionError(refusedRefresh.message);
    // With no page open the service worker may have refreshed (and so rotated) the tokens itself.
    current = await withQueueTokens(current);
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
    // Durable, and in the service worker's queue, before the lock is released: nobody may refresh
    // with the spent token, not even after a restart.
    await saveSession(next);
    return next;
  };
  if (typeof navigator !== 'undefined' && navigator.locks) return navigator.locks.request(SESSION_REFRESH_LOCK, run);
  return run();
}

/** The token to send now; refreshed first when it expires within a minute and we are online. */
export async function getAccessToken(): Promise<string> {
  let session = loadSession();
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

export async function logout(): Promise<void> {
  const session = loadSession();
  await clearSession();
  if (session?.kind === 'password') await endServerSession(session);
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
