/**
 * The session's durable copies (client/session/session.ts, sealed-session.ts): a password
 * session's tokens are stored only sealed under the database key (issue #17): IndexedDB, the quick
 * copy in localStorage and the service worker's queue hold no token in clear, a page that locks
 * forgets them, the unlock opens them again, and a session an earlier version stored in clear is
 * sealed at the next unlock. IndexedDB is fake-indexeddb; the rest is the real code.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readDeviceRecord } from '../../../client/session/device-records.ts';
import { databaseNameFor, forgetSessionTokens, loadSession, openSession, restoreSession, saveSession, SESSION_KEY } from '../../../client/session/session.ts';
import type { Session } from '../../../client/session/identity.ts';
import { keepDeviceRecord } from '../../../client/session/device-records.ts';
import { getSession, openOutboxDb, setSession } from '../../../client/queue/index.ts';

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() { return map.size; },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, String(v)),
  };
}

/** An unsigned JWT with the claims the client reads (the server verifies; the client only looks). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part(claims)}.signature`;
}

const ORIGIN = 'http://127.0.0.1:9';
const now = Math.floor(Date.now() / 1000);
const claims = { sub: 'user-9', tenant: 'agency', device: 'tablet-9' };

function session(accessToken: string, refreshToken: string): Session {
  return {
    kind: 'password', accessToken, refreshToken, expiresAt: (now + 900) * 1000,
    user: { tenantId: 'agency', role: 'crew', userId: 'user-9', deviceId: 'tablet-9', unitId: 'M9' },
  };
}

async function queued() {
  const db = await openOutboxDb();
  try {
    return await getSession(db);
  } finally {
    db.close();
  }
}

beforeEach(() => {
  vi.stubGlobal('localStorage', memoryStorage());
  vi.stubGlobal('location', { origin: ORIGIN });
  // A browser with service workers, none active yet (the queue's database is written directly).
  vi.stubGlobal('navigator', { onLine: true, serviceWorker: { controller: null, getRegistration: async () => undefined } });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const KEY = 'ab'.repeat(32);
const OTHER_KEY = 'cd'.repeat(32);

/** Everything this origin stores about the session, as text (what a copied profile gives away). */
async function everythingStored(): Promise<string> {
  return JSON.stringify([await readDeviceRecord(SESSION_KEY), localStorage.getItem(SESSION_KEY), await queued()]);
}

describe('the session kept durably, its tokens sealed', () => {
  it('saveSession keeps the session in IndexedDB and the quick copy with its tokens sealed; the queue gets none', async () => {
    const access = jwt({ ...claims, exp: now + 900 });
    await saveSession(session(access, 'refresh-secret-1'), KEY);
    const stored = await everythingStored();
    expect(stored).toContain('user-9');
    expect(stored).not.toContain('refresh-secret-1');
    expect(stored).not.toContain(access.split('.')[1]);
    // The page that saved it (unlocked) has the tokens in memory.
    expect(loadSession()?.refreshToken).toBe('refresh-secret-1');
    expect(loadSession()?.accessToken).toBe(access);
  });

  it('a locked page has no tokens; the unlock opens them, another key does not', async () => {
    const access = jwt({ ...claims, exp: now + 900 });
    await saveSession(session(access, 'refresh-secret-2'), KEY);
    forgetSessionTokens();
    localStorage.clear(); // a browser restart: the quick copy may be anything
    const restored = await restoreSession();
    expect(restored?.user.userId).toBe('user-9');
    expect(restored?.accessToken).toBe('');
    expect(restored?.refreshToken).toBeUndefined();
    const dbName = databaseNameFor(restored!.user);
    expect((await openSession(OTHER_KEY, dbName))?.refreshToken).toBeUndefined();
    expect((await openSession(KEY, dbName))?.refreshToken).toBe('refresh-secret-2');
    expect(loadSession()?.accessToken).toBe(access);
  });

  it('saving a password session needs the key (a locked page cannot)', async () => {
    await expect(saveSession(session(jwt({ ...claims, exp: now + 900 }), 'refresh-x'))).rejects.toThrow(/locked/);
  });

  it('a session an earlier version stored in clear (and its tokens in the queue) is sealed at the next unlock', async () => {
    const legacy = session(jwt({ ...claims, exp: now + 900 }), 'refresh-legacy');
    await keepDeviceRecord(SESSION_KEY, legacy);
    localStorage.setItem(SESSION_KEY, JSON.stringify(legacy));
    const db = await openOutboxDb();
    await setSession(db, { serverUrl: ORIGIN, token: legacy.accessToken, deviceId: 'tablet-9', ...{ refreshToken: 'refresh-legacy' } } as never);
    db.close();
    const opened = await openSession(KEY, databaseNameFor(legacy.user));
    expect(opened?.refreshToken).toBe('refresh-legacy');
    expect(JSON.stringify([await readDeviceRecord(SESSION_KEY), localStorage.getItem(SESSION_KEY), await queued()])).not.toContain('refresh-legacy');
  });
});
