/**
 * What the queue is delivered with. The service worker delivers with no page open, and while the
 * app is locked, so it keeps its own credential beside the queue: for a signed-in user a
 * push-only device credential bound to a non-extractable key (client/session/device-credential.ts,
 * server/auth/device-credential.ts), which can read nothing and cannot get a token that reads.
 * The user's access and refresh tokens are never stored here: they exist on the device only sealed
 * under the user's unlock (client/session/sealed-session.ts).
 */
import { withOutbox, type OutboxDb } from './database.ts';

/** The push-only credential of a signed-in user on this device (docs/protocol.md §3, "Device push credentials"). */
export interface QueueCredential {
  /** `dc_<id>.<secret>`: sent as `Authorization: DPoP …`, good for push only. */
  token: string;
  /** ECDSA P-256; the private half is non-extractable: it signs each push's DPoP proof and cannot be read out. */
  keys: CryptoKeyPair;
  userId: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface OutboxSession {
  serverUrl: string;
  deviceId?: string;
  /** A signed-in user's push-only credential. */
  credential?: QueueCredential;
  /** A bearer token: development sessions only (a dev token protects nothing anyway), and tests. */
  token?: string;
  /** The server's clock minus this device's (ms), learned from a refused proof's `Date`: proofs carry the server's time. */
  clockOffsetMs?: number;
}

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
