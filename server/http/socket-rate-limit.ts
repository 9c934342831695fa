import type { FastifyBaseLogger } from 'fastify';
import type { Namespace, Server as SocketServer, Socket } from 'socket.io';
import { ErrorCode, SOCKET_LIMIT_EVENT, type SocketLimitNotice } from '../../shared/protocol/index.ts';

export interface SocketRateLimit {
  /** Messages one socket may send per window. */
  limit: number;
  windowMs: number;
  log?: FastifyBaseLogger;
}

/**
 * Per-socket message limits on every namespace of `io`, present and future. One socket sending
 * 20,000 messages stalled `/health` for up to 1.6 s (issue 17): every message is parsed and
 * handled on the event loop. A socket over its budget is told why (SOCKET_LIMIT_EVENT) and
 * disconnected; the messages it already sent are dropped with its connection, and other sockets
 * are not affected. A fixed window per socket: a client sends a handful of messages per
 * connection, so the edge of a window never matters to one that behaves.
 *
 * Written here rather than taken from a library: @fastify/rate-limit counts HTTP requests, and
 * socket.io has no message limiter of its own; this is a counter in a `socket.use` middleware.
 */
export function limitSocketMessages(io: SocketServer, options: SocketRateLimit): void {
  const attach = (nsp: Namespace) => nsp.use((socket, next) => {
    watch(socket, options);
    next();
  });
  attach(io.of('/'));
  io.on('new_namespace', attach);
}

function watch(socket: Socket, { limit, windowMs, log }: SocketRateLimit): void {
  let windowStart = Date.now();
  let count = 0;
  let cut = false;
  socket.use((_packet, next) => {
    if (cut) return;
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      count = 0;
    }
    if (++count <= limit) {
      next();
      return;
    }
    cut = true;
    log?.warn({ namespace: socket.nsp.name, socketId: socket.id, address: socket.handshake.address, limit, windowMs }, 'socket over its message limit: disconnected');
    socket.emit(SOCKET_LIMIT_EVENT, {
      code: ErrorCode.RATE_LIMITED,
      message: `This connection sent more than ${limit} messages in ${windowMs / 1000} s and is closed; reconnect, and send only what the protocol needs (subscribe once per connection).`,
      limit, windowMs,
    } satisfies SocketLimitNotice);
    // Closes the underlying connection after the notice is flushed; what it still sends is dropped.
    socket.disconnect(true);
  });
}
