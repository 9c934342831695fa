/**
 * Handing the session to the outbound queue (client/queue/session.ts): the service worker delivers
 * with no page open, so it keeps its own copy of the session and refreshes it itself. Pages hand
 * over every new session, and take over the tokens the service worker rotated meanwhile.
 */
import { loadQueueSession, postToQueue, saveQueueSession, type OutboxSession } from '../queue/index.ts';
import { jwtClaims, type Session } from './identity.ts';

const supported = () => typeof navigator !== 'undefined' && 'serviceWorker' in navigator;

export function queueSessionOf(session: Session): OutboxSession {
  return {
    serverUrl: location.origin,
    token: session.accessToken,
    ...(session.refreshToken ? { refreshToken: session.refreshToken } : {}),
    deviceId: session.user.deviceId,
  };
}

/**
 * Gives the service worker the session it delivers the queue with (its own copy: no page may be
 * open when it delivers). Stored in the queue's database at once, so a service worker that is not
 * running or not installed yet finds it, and sent as a message, which also starts a delivery.
 */
export async function handOverSession(session: Session | undefined): Promise<void> {
  if (!session || !supported()) return;
  // Never a step back: the copy a page started with may be older than the tokens the service
  // worker (or another tab) rotated since, and the queue would refresh with a spent token.
  if (await newerQueueSession(session)) return;
  await storeQueueSession(session);
  await postToQueue({ type: 'fieldsync:session', session: queueSessionOf(session) });
}

/**
 * The session the service worker holds, when it is newer than `current`: with no page open it may
 * have refreshed the access token itself, which rotates the refresh token. The page must go on
 * with that one; presenting the old refresh token again would look like theft to the server and
 * end every session of the device.
 */
export async function newerQueueSession(current: Session): Promise<OutboxSession | undefined> {
  if (current.kind !== 'password' || !current.refreshToken || typeof indexedDB === 'undefined') return undefined;
  let queued: OutboxSession | undefined;
  try {
    queued = await loadQueueSession();
  } catch {
    return undefined;
  }
  if (!queued?.refreshToken || queued.refreshToken === current.refreshToken) return undefined;
  if (queued.deviceId !== undefined && queued.deviceId !== current.user.deviceId) return undefined;
  const mine = jwtClaims(current.accessToken);
  const theirs = jwtClaims(queued.token);
  if (mine['sub'] !== theirs['sub'] || mine['tenant'] !== theirs['tenant']) return undefined;
  const theirExp = typeof theirs['exp'] === 'number' ? theirs['exp'] : 0;
  const myExp = typeof mine['exp'] === 'number' ? mine['exp'] : 0;
  return theirExp > myExp ? queued : undefined;
}

/** Stores the page's new session in the queue at once (the message may come after a delivery started). */
export async function storeQueueSession(session: Session): Promise<void> {
  if (typeof indexedDB === 'undefined' || !supported()) return;
  try {
    await saveQueueSession(queueSessionOf(session));
  } catch {
    // the message to the service worker carries it too
  }
}
