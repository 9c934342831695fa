import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The response header naming the backend (its index) that answered a request through the proxy. */
export const PROXIED_TO_HEADER = 'x-proxied-to';

/**
 * A load balancer as small as it gets, for the scale-out tests: every HTTP request and every
 * WebSocket upgrade goes to the next backend in turn (round robin, no stickiness at all), over real
 * sockets. Requests are buffered, so a request refused at connect (a backend that is down) goes to
 * the next backend, as a real balancer's health-checked pool does; one cut off after it reached a
 * backend is answered 502, as a real balancer answers it. Each answer names its backend in
 * `x-proxied-to`, so a test can see that consecutive requests landed on different processes.
 */
export class RoundRobinProxy {
  private server: Server | undefined;
  private next = 0;
  private readonly down = new Set<number>();
  private readonly sockets = new Set<Duplex>();
  /** Requests and upgrades each backend was given. */
  readonly served: number[];
  url = '';

  constructor(private readonly backends: readonly string[]) {
    this.served = backends.map(() => 0);
  }

  async start(port = 0): Promise<string> {
    const server = createServer((request, response) => { void this.forward(request, response); });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head, 0));
    server.on('connection', (socket) => this.track(socket));
    // As a real balancer: idle client connections are kept long. With Node's 5 s default, a loaded
    // test process reused a connection the proxy was closing and its request died with ECONNRESET.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Takes a backend out of the rotation (what a balancer's failed health check does). */
  markDown(index: number): void {
    this.down.add(index);
  }

  /** The next backend in turn, skipping those marked down. */
  private pick(): number {
    for (let tries = 0; tries < this.backends.length; tries++) {
      const index = this.next;
      this.next = (this.next + 1) % this.backends.length;
      if (!this.down.has(index)) return index;
    }
    throw new Error('every backend is marked down');
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private async forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (let attempt = 0; attempt < this.backends.length; attempt++) {
      const index = this.pick();
      const outcome = await this.send(index, request, body, response);
      if (outcome !== 'refused') return;
    }
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end('no backend accepted the connection');
  }

  /** One attempt on one backend: 'refused' when it could not be reached at all (the request never left). */
  private send(index: number, request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<'done' | 'refused'> {
    return new Promise((resolve) => {
      const target = new URL(this.backends[index]!);
      const headers = { ...request.headers, host: target.host, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers, agent: false }, (answer) => {
        this.served[index]!++;
        response.writeHead(answer.statusCode ?? 502, { ...answer.headers, [PROXIED_TO_HEADER]: String(index) });
        answer.pipe(response);
        answer.once('end', () => resolve('done'));
        answer.once('error', () => { response.destroy(); resolve('done'); });
      });
      upstream.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') return resolve('refused');
        // It reached the backend and was cut off (a killed process): the client learns it failed.
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain', [PROXIED_TO_HEADER]: String(index) }).end(`backend ${index} failed: ${error.message}`);
        else response.destroy();
        resolve('done');
      });
      upstream.end(body);
    });
  }

  /** A WebSocket upgrade: the raw request goes to the next backend, then bytes flow both ways untouched. */
  private upgrade(request: IncomingMessage, client: Duplex, head: Buffer, attempt: number): void {
    this.track(client);
    const index = this.pick();
    const target = new URL(this.backends[index]!);
    const upstream: Socket = connect(Number(target.port), target.hostname);
    this.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.served[index]!++;
      const lines = [`${request.method} ${request.url} HTTP/${request.httpVersion}`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && error.code === 'ECONNREFUSED' && attempt + 1 < this.backends.length) return this.upgrade(request, client, head, attempt + 1);
      client.destroy();
    });
    upstream.once('close', () => client.destroy());
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
