import { ApiClient, AUTH, type TokenAnswer } from '../../shared/protocol/index.ts';
import { getSession, SESSION_REFRESH_LOCK, setSession, type OutboxDb, type OutboxSession } from '../../client/queue/index.ts';

export interface QueueRefreshOptions {
  fetch?: typeof fetch;
  /** Defaults to the worker's `navigator.locks`; Node has none, and then nothing else refreshes at the same time. */
  locks?: Pick<LockManager, 'request'>;
}

/**
 * Trades the refresh token for a new access token, so delivery can go on with no page open.
 *
 * Refresh tokens rotate, and presenting a rotated one again ends every session of the device
 * (the server takes it for theft). So this holds the same Web Lock as the pages, and inside it
 * reads the stored session again first: when a page (or an earlier run) has rotated the tokens
 * since this delivery read them, it goes on with those instead of refreshing with a spent one.
 */
export async function refreshQueueSession(db: OutboxDb, session: OutboxSession, options: QueueRefreshOptions = {}): Promise<OutboxSession | undefined> {
  const run = async (): Promise<OutboxSession | undefined> => {
    const stored = await getSession(db);
    if (stored && stored.token !== session.token) return stored;
    if (!session.refreshToken) return undefined;
    const api = new ApiClient({ serverUrl: session.serverUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
    const response = await api.send(AUTH.refresh, { json: { refreshToken: session.refreshToken, deviceId: session.deviceId } });
    if (!response.ok) return undefined;
    const body = (await response.json()) as Partial<TokenAnswer>;
    if (!body.accessToken) return undefined;
    const next: OutboxSession = { ...session, token: body.accessToken, ...(body.refreshToken ? { refreshToken: body.refreshToken } : {}) };
    // Stored before the lock is released: the next holder must never see the spent refresh token.
    await setSession(db, next);
    return next;
  };
  const locks = options.locks ?? (typeof navigator !== 'undefined' ? navigator.locks : undefined);
  return locks ? locks.request(SESSION_REFRESH_LOCK, run) : run();
}
