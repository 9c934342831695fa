import http from 'node:http';
import net from 'node:net';
import type { Cable } from './cable.ts';

/**
 * A "network cable" that understands HTTP: like cable.ts (cut refuses new connections and
 * destroys open ones; restore listens again on the same port, so the browser's origin, service
 * worker and IndexedDB stay the same), plus faults a plain TCP proxy cannot make on purpose:
 *
 * - `loseResponses(pattern, n)`: the next `n` matching requests reach the server and are answered
 *   there, but the answer never reaches the browser (the connection is cut after the server
 *   finished): a replay whose first answer was lost;
 * - `block(pattern)`: matching requests are answered 503 by the cable and never reach the server
 *   (an overloaded gateway), while everything else (pages, the service worker script) goes through.
 * - `holdAnswers(pattern, n)`: the next `n` matching requests reach the server and are answered
 *   there, but the answer is held by the cable and never sent, the connection left open: a link
 *   that died after the request got through (TCP retransmits, no reset), so the browser waits;
 * - `stall(true)`: a dead zone. Connections still open (the browser keeps saying "online"), but no
 *   data flows: requests are swallowed and never answered, open WebSockets go silent. `stall(false)`
 *   lets new connections through again; what was swallowed stays unanswered, as a request lost
 *   at the edge of coverage does (the browser must give up on it by itself).
 *
 * Every response says `connection: close`, so the browser never reuses a connection: Chromium
 * silently re-sends a request whose reused connection died, which would hide a lost answer.
 * WebSocket upgrades (socket.io) are piped through untouched.
 */
export interface HttpCable extends Cable {
  /** Requests that went through, in order (method and path). */
  readonly log: { method: string; path: string; outcome: 'answered' | 'lost' | 'held' | 'blocked' | 'stalled'; encoding?: string; bytes: number }[];
  /**
   * Every request as it arrives, its body bytes counted as they pass (a request cut off midway
   * counts what went through before the cut), with the headers the browser sent.
   */
  readonly seen: { method: string; path: string; bytes: number; headers: http.IncomingHttpHeaders }[];
  /** Cuts the cable (as `cut()`) once the bodies of requests matching `pattern` reach `bytes` in all (counted from now). */
  cutAfter(pattern: RegExp, bytes: number): Promise<void>;
  loseResponses(pattern: RegExp, count?: number): void;
  holdAnswers(pattern: RegExp, count?: number): void;
  block(pattern: RegExp | undefined): void;
  stall(on: boolean): void;
  /**
   * Answers GET `path` itself with `file` (undefined: passes it on again): a script or page the
   * app does not have, e.g. a benchmark's own service worker on the device's origin.
   */
  serve(path: string, file: { contentType: string; body: string } | undefined): void;
}

/** `host`: where it listens (a browser behind a real link reaches it on the link's host address). */
export async function createHttpCable(port: number, upstreamPort: number, host = '127.0.0.1'): Promise<HttpCable> {
  let listener: http.Server | null = null;
  const open = new Set<net.Socket>();
  const log: HttpCable['log'] = [];
  let lose: { pattern: RegExp; left: number } | undefined;
  let hold: { pattern: RegExp; left: number } | undefined;
  let blocked: RegExp | undefined;
  let stalled = false;
  const seen: HttpCable['seen'] = [];
  const served = new Map<string, { contentType: string; body: string }>();
  let cutting: { pattern: RegExp; left: number; done: () => void } | undefined;
  /** WebSocket pipes, so a stall can silence them. */
  const tunnels = new Set<{ silence(): void }>();
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const encoding = req.headers['content-encoding'];
    let bytes = 0;
    const seenEntry = { method, path, bytes: 0, headers: req.headers };
    seen.push(seenEntry);
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      seenEntry.bytes += chunk.length;
      if (cutting && cutting.pattern.test(path)) {
        cutting.left -= chunk.length;
        if (cutting.left <= 0) {
          const { done } = cutting;
          cutting = undefined;
          void cut().then(done);
        }
      }
    });
    const entry = (outcome: HttpCable['log'][number]['outcome']) => ({ method, path, outcome, bytes, ...(encoding ? { encoding } : {}) });
    if (stalled) {
      // Read and forget: the browser sent it, nothing comes back, ever.
      req.resume();
      req.on('end', () => log.push(entry('stalled')));
      return;
    }
    if (blocked?.test(path)) {
      req.resume();
      req.on('end', () => {
        log.push(entry('blocked'));
        res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the gateway is overloaded; try again later' } }));
      });
      return;
    }
    const file = method === 'GET' ? served.get(path) : undefined;
    if (file) {
      req.resume();
      req.on('end', () => {
        log.push(entry('answered'));
        res.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store', connection: 'close' });
        res.end(file.body);
      });
      return;
    }
    const losing = lose && lose.left > 0 && lose.pattern.test(path);
    if (losing) lose!.left--;
    const holding = !losing && hold && hold.left > 0 && hold.pattern.test(path);
    if (holding) hold!.left--;
    const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method, path, headers: req.headers, agent: false }, (answer) => {
      if (losing) {
        // The server answered in full (so it committed); the browser never hears of it.
        answer.resume();
        answer.on('end', () => {
          log.push(entry('lost'));
          req.socket.destroy();
        });
        return;
      }
      if (holding) {
        // The server answered in full (so it committed); the browser waits for it, forever.
        answer.resume();
        answer.on('end', () => log.push(entry('held')));
        return;
      }
      log.push(entry('answered'));
      const headers: http.OutgoingHttpHeaders = { ...answer.headers, connection: 'close' };
      delete headers['keep-alive'];
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    upstream.on('socket', track);
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };

  const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    track(socket);
    if (stalled) {
      socket.resume();
      return;
    }
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    track(upstream);
    const drop = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', drop);
    upstream.on('error', drop);
    socket.on('close', drop);
    upstream.on('close', drop);
    upstream.on('connect', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
      const tunnel = {
        silence() {
          socket.unpipe(upstream);
          upstream.unpipe(socket);
          socket.resume();
          upstream.resume();
        },
      };
      tunnels.add(tunnel);
      upstream.on('close', () => tunnels.delete(tunnel));
      if (stalled) tunnel.silence();
    });
  };

  const listen = () => new Promise<void>((resolve, reject) => {
    const server = http.createServer({ keepAliveTimeout: 0 }, onRequest);
    server.on('connection', track);
    server.on('upgrade', onUpgrade);
    server.once('error', reject);
    server.listen(port, host, () => {
      listener = server;
      resolve();
    });
  });
  await listen();

  const cut = async () => {
    if (!listener) return;
    const closing = listener;
    listener = null;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    open.forEach((s) => s.destroy());
    await closed;
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    log,
    seen,
    cut,
    cutAfter(pattern, bytes) {
      return new Promise<void>((resolve) => {
        cutting = { pattern, left: bytes, done: resolve };
      });
    },
    async restore() {
      if (!listener) await listen();
    },
    close: cut,
    loseResponses(pattern, count = 1) {
      lose = { pattern, left: count };
    },
    holdAnswers(pattern, count = 1) {
      hold = { pattern, left: count };
    },
    block(pattern) {
      blocked = pattern;
    },
    serve(path, file) {
      if (file) served.set(path, file);
      else served.delete(path);
    },
    stall(on) {
      stalled = on;
      if (on) for (const tunnel of tunnels) tunnel.silence();
    },
  };
}
