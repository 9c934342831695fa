import type { Namespace, Socket } from 'socket.io';
import { ErrorCode, type Identity, type SocketHandshakeAuth } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { AuthenticatedSession, Authenticator } from './identity.ts';

/** How long a connection's session is trusted between re-checks (revocations end it at once). */
export const SESSION_RECHECK_MS = 5000;

/**
 * The session a socket was let in with. A connection lives while its session does: a logout or
 * revocation ends it, re-checked at least every `SESSION_RECHECK_MS`. An access token that merely
 * expires does not end an open connection (the socket.io client would not reconnect after a
 * server-side disconnect).
 */
export class SocketSession {
  private checkedAt = Date.now();

  constructor(private readonly auth: Authenticator, readonly session: AuthenticatedSession) {}

  get identity(): Identity {
    return this.session.identity;
  }

  /** Logged out or revoked (signed tokens only: a development token has no session to end). */
  ended(): boolean {
    if (!this.auth.isSessionValid || this.session.sessionId === undefined) return false;
    const { expiresAt: _expiresAt, ...rest } = this.session;
    return !this.auth.isSessionValid(rest);
  }

  /** Whether the socket may still receive data, asking the session store at most every `SESSION_RECHECK_MS`. */
  stillValid(now: number): boolean {
    if (now - this.checkedAt < SESSION_RECHECK_MS) return true;
    this.checkedAt = now;
    return !this.ended();
  }
}

/**
 * The one socket authentication, for every namespace (the change stream and the live feed): the
 * handshake's `auth: { token }` (the raw token, no `Bearer `) is checked like an HTTP request's.
 * A refused handshake is a `connect_error` whose `message` is the server's words and whose
 * `data` is `{ code }` (docs/protocol.md §11–12).
 */
export function authenticateSockets(nsp: Namespace, auth: Authenticator): void {
  nsp.use((socket, next) => {
    try {
      const raw = (socket.handshake.auth as SocketHandshakeAuth | undefined)?.token;
      const token = typeof raw === 'string' ? raw : undefined;
      const session = auth.authenticateSession ? auth.authenticateSession(token) : { identity: auth.authenticate(token) };
      socket.data.session = new SocketSession(auth, session);
      socket.data.identity = session.identity;
      next();
    } catch (error) {
      const failure = new Error(error instanceof HttpError ? error.message : 'authentication failed') as Error & { data?: { code: string } };
      failure.data = { code: error instanceof HttpError ? error.code : ErrorCode.UNAUTHENTICATED };
      next(failure);
    }
  });
}

/** The session a socket of an authenticated namespace was let in with. */
export function socketSessionOf(socket: Socket): SocketSession {
  return socket.data.session as SocketSession;
}
