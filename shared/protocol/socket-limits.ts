/**
 * What a socket.io client of either namespace (`/sync`, `/live`) is told when it sends more
 * messages than the server takes (docs/protocol.md §11 "Message limit"): this event, then the
 * server disconnects it (reason `io server disconnect`, which socket.io clients do not retry by
 * themselves). A well-behaved client never sees it: it sends a few messages per connection.
 */
export const SOCKET_LIMIT_EVENT = 'limit:exceeded';

export interface SocketLimitNotice {
  code: 'RATE_LIMITED';
  message: string;
  /** Messages a socket may send per window, and the window in milliseconds. */
  limit: number;
  windowMs: number;
}
