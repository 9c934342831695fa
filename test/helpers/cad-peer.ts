import { createServer, type Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';

export interface ReceivedCadEvent {
  event: string;
  payload: Record<string, unknown>;
  /** The bridge connection it came over (a resend after a late acknowledgement comes over the same one). */
  socketId: string;
}

/**
 * A real socket.io server standing in for the field's CAD backend: it checks the bridge's token,
 * records and acknowledges every event it receives, can emit events to the bridge, and can be
 * stopped and restarted on the same port.
 */
export class CadPeer {
  readonly received: ReceivedCadEvent[] = [];
  readonly refusedTokens: string[] = [];
  connections = 0;
  private http: HttpServer | undefined;
  private io: Server | undefined;
  port = 0;

  constructor(private readonly expectedToken: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    this.http = createServer();
    this.io = new Server(this.http);
    this.io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: string }).token ?? '';
      if (token !== this.expectedToken) {
        this.refusedTokens.push(token);
        next(new Error('invalid CAD token'));
        return;
      }
      next();
    });
    this.io.on('connection', (socket: Socket) => {
      this.connections++;
      socket.onAny((event: string, payload: Record<string, unknown>, ack?: (answer: unknown) => void) => {
        this.received.push({ event, payload, socketId: socket.id });
        if (typeof ack === 'function') ack({ ok: true });
      });
    });
    await new Promise<void>((resolve) => this.http!.listen(port, '127.0.0.1', resolve));
    const address = this.http.address();
    this.port = typeof address === 'object' && address ? address.port : port;
  }

  /** Sends an event to the bridge and waits for its acknowledgement. */
  async emit(event: string, payload: Record<string, unknown>): Promise<unknown> {
    const sockets = await this.io!.fetchSockets();
    if (sockets.length === 0) throw new Error('the bridge is not connected');
    return this.io!.timeout(5000).emitWithAck(event, payload);
  }

  connected(): number {
    return this.io?.of('/').sockets.size ?? 0;
  }

  async stop(): Promise<void> {
    this.io?.disconnectSockets(true);
    await new Promise<void>((resolve) => this.io ? this.io.close(() => resolve()) : resolve());
    this.io = undefined;
    this.http = undefined;
  }
}
