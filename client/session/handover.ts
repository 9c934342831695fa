/**
 * Handing the queue what it delivers with (client/queue/session.ts): the service worker delivers
 * with no page open, so it keeps its own credential. For a signed-in user that is the push-only
 * device credential (device-credential.ts), never the user's tokens: those stay sealed under the
 * unlock (sealed-session.ts). A development session hands over its dev token (it protects nothing).
 */
import { getStatus, loadQueueSession, postToQueue, saveQueueSession, withOutbox, type OutboxSession } from '../queue/index.ts';
import { credentialServes, issueDeviceCredential } from './device-credential.ts';
import type { Session } from './identity.ts';

const supported = () => typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof indexedDB !== 'undefined';

/**
 * The queue's session for `session`: the credential it has when that still serves (same user and
 * device, not expiring, not refused by the server), else a new one, which needs the unlocked
 * session's access token and the server. Undefined when none can be had now (offline, locked):
 * the queue keeps what it has.
 */
export async function queueSessionFor(session: Session, options: { renew?: boolean } = {}): Promise<OutboxSession | undefined> {
  const serverUrl = location.origin;
  if (session.kind === 'dev') return { serverUrl, token: session.accessToken, deviceId: session.user.deviceId };
  const queued = await loadQueueSession().catch(() => undefined);
  const refused = await withOutbox(getStatus).then((status) => status.signedOut === true, () => false);
  const keep = !options.renew && !refused && queued?.deviceId === session.user.deviceId && credentialServes(queued.credential, session);
  const credential = keep ? queued!.credential! : session.accessToken ? await issueDeviceCredential(session, serverUrl).catch(() => undefined) : undefined;
  if (!credential) {
    // Tokens an earlier version kept here in clear go now, even before a credential replaces them.
    const legacy = queued as (OutboxSession & { refreshToken?: string }) | undefined;
    return legacy?.token !== undefined || legacy?.refreshToken !== undefined ? { serverUrl, deviceId: session.user.deviceId } : undefined;
  }
  return { serverUrl, deviceId: session.user.deviceId, credential, ...(queued?.clockOffsetMs !== undefined ? { clockOffsetMs: queued.clockOffsetMs } : {}) };
}

/**
 * Gives the service worker what it delivers the queue with. Stored in the queue's database at
 * once, so a service worker that is not running or not installed yet finds it, and sent as a
 * message, which also starts a delivery. The whole record is replaced: tokens an earlier version
 * kept there in clear are gone with it.
 */
export async function handOverSession(session: Session | undefined, options: { renew?: boolean } = {}): Promise<void> {
  if (!session || !supported()) return;
  const next = await queueSessionFor(session, options);
  if (!next) return;
  await saveQueueSession(next).catch(() => undefined);
  await postToQueue({ type: 'fieldsync:session', session: next });
}
