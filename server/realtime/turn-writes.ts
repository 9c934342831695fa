import type { Socket } from 'socket.io';

/**
 * The parts of engine.io's connection (socket.conn) and its websocket transport this relies on.
 * They are not in engine.io's public types; engine.io 6 has had them unchanged (socket.io reads
 * `transport.writable` itself for volatile packets).
 */
interface EngineConnection {
  readonly readyState: string;
  readonly transport: {
    readonly name: string;
    writable: boolean;
    /** ws's WebSocket, whose `_socket` is the TCP socket. */
    readonly socket?: { readonly _socket?: { cork(): void; uncork(): void } };
  };
  flush(): void;
  on(event: 'flush', listener: () => void): unknown;
}

const connectionOf = (socket: Socket): EngineConnection => socket.conn as unknown as EngineConnection;
const tcpOf = (conn: EngineConnection) => (conn.transport.name === 'websocket' ? conn.transport.socket?._socket : undefined);

/**
 * One TCP write per subscriber per event-loop turn for the live feed, instead of one per event.
 *
 * A group commit makes its changes visible in one synchronous loop (store/group-commit.ts), and
 * the live feed emits an event per change per subscriber. engine.io sends the first packet at
 * once and the rest, one websocket frame and one `writev` each, when that first write completes:
 * on loopback and behind a proxy alike, each write is a syscall plus the TCP path, which showed
 * as the largest single cost per GPS point in the fleet profile.
 *
 * `holdWritesThisTurn(socket)` keeps the connection's packets in engine.io's write buffer until
 * the current synchronous work (the commit group's loop) is done, then flushes them as one batch
 * into a corked TCP socket: the frames, each packet still its own frame in the same order, leave
 * in one write. Nothing waits for a timer or the disk: the batch goes out in the same turn.
 * socket.io drops a `volatile` packet while the transport is not writable, as it does while any
 * write is in flight: the server sends none on a connection that carries `/live`.
 */
export function holdWritesThisTurn(socket: Socket): void {
  const conn = connectionOf(socket);
  // Already writing: engine.io buffers the packets and sends them together when that write is done.
  if (held.has(conn) || !conn.transport.writable || !tcpOf(conn)) return;
  conn.transport.writable = false;
  held.add(conn);
  if (held.size === 1) queueMicrotask(release);
}

/** Makes every batch engine.io flushes on this connection one TCP write (see `holdWritesThisTurn`). */
export function corkEachFlush(socket: Socket): void {
  const conn = connectionOf(socket);
  if ((conn as { [CORKED]?: true })[CORKED]) return;
  (conn as { [CORKED]?: true })[CORKED] = true;
  conn.on('flush', () => {
    const tcp = tcpOf(conn);
    if (!tcp) return;
    // engine.io writes the whole batch synchronously after 'flush'; the microtask always runs, so
    // the socket is never left corked even if that write throws.
    tcp.cork();
    queueMicrotask(() => tcp.uncork());
  });
}

const CORKED = Symbol('fieldsync.corkEachFlush');
const held = new Set<EngineConnection>();

function release(): void {
  const conns = [...held];
  held.clear();
  for (const conn of conns) {
    // Writable again before anything can throw: a connection left unwritable would hear nothing more.
    conn.transport.writable = true;
    try {
      conn.flush();
    } catch {
      // engine.io reports a failed write as the connection's error and closes it; nothing to add here.
    }
  }
}
