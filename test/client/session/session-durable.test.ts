/**
 * The session's durable copies (client/session/session.ts): with no page open the service worker
 * refreshes by itself, which rotates the refresh token in its queue only. The next start must go
 * on with those tokens (the IndexedDB record still holds the spent one, and presenting it again
 * ends every session of the device), and a page handing over an older session must not put the
 * spent token back into the queue. IndexedDB is fake-indexeddb; the rest is the real code.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readDeviceRecord } from '../../../client/session/device-records.ts';
import { loadSession, restoreSession, saveSession, SESSION_KEY } from '../../../client/session/session.ts';
import type { Session } from '../../../client/session/identity.ts';
import { handOverSession } from '../../../client/session/handover.ts';
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

describe('the session kept durably', () => {
  it('saveSession keeps the session in IndexedDB, in the service worker queue and in the quick copy', async () => {
    const first = session(jwt({ ...claims, exp: now + 900 }), 'refresh-1');
    await saveSession(first);
    expect((await readDeviceRecord<Session>(SESSION_KEY))?.refreshToken).toBe('refresh-1');
    expect((await queued())?.refreshToken).toBe('refresh-1');
    expect(loadSession()?.refreshToken).toBe('refresh-1');
  });

  it('at start, adopts the tokens the service worker rotated with no page open, and keeps them durably', async () => {
    const before = session(jwt({ ...claims, exp: now + 900 }), 'refresh-2');
    await saveSession(before);
    // The service worker refreshed while every page was closed: only its queue knows.
    const db = await openOutboxDb();
    await setSession(db, { serverUrl: ORIGIN, token: jwt({ ...claims, exp: now + 1800 }), refreshToken: 'refresh-3', deviceId: 'tablet-9' });
    db.close();
    localStorage.clear(); // a browser restart: the quick copy may be anything

    const restored = await restoreSession();
    expect(restored?.refreshToken).toBe('refresh-3');
    expect((await readDeviceRecord<Session>(SESSION_KEY))?.refreshToken).toBe('refresh-3');
    expect(loadSession()?.refreshToken).toBe('refresh-3');

    // A page still holding the older session hands it over: the queue keeps the newer tokens.
    await handOverSession(before);
    expect((await queued())?.refreshToken).toBe('refresh-3');
  });
});
