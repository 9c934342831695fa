/**
 * The session the queue is delivered with. The service worker delivers with no page open, so it
 * keeps its own copy beside the queue: pages hand it over after every sign-in and token refresh
 * (client/session/handover.ts), and the service worker stores the tokens it rotates itself
 * (sw/queue/session-refresh.ts).
 */
import { withOutbox, type OutboxDb } from './database.ts';

export interface OutboxSession {
  serverUrl: string;
  token: string;
  refreshToken?: string;
  deviceId?: string;
}

/** The Web Lock every page (client/session/session.ts) and the service worker hold while they rotate the refresh token. */
export const SESSION_REFRESH_LOCK = 'fieldsync-session-refresh';

export async function getSession(db: OutboxDb): Promise<OutboxSession | undefined> {
  return (await db.get('meta', 'session')) as OutboxSession | undefined;
}

export async function setSession(db: OutboxDb, session: OutboxSession): Promise<void> {
  await db.put('meta', session, 'session');
}

/** The stored session, read by a page (which holds no connection to the queue). */
export function loadQueueSession(): Promise<OutboxSession | undefined> {
  return withOutbox(getSession);
}

/** Stores a page's session for the service worker. */
export function saveQueueSession(session: OutboxSession): Promise<void> {
  return withOutbox((db) => setSession(db, session));
}
