import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { devToken } from '../../../server/auth/identity.ts';
import { STREAM_EVENTS, STREAM_NAMESPACE } from '../../../shared/protocol/index.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

/**
 * Slow clients (issue 17, finding 6): five connections sending a byte every 5 s were still open
 * after 95 s. With short limits set here, every kind of slow connection is closed within its limit
 * (plus generous slack for a loaded machine), and `/health` answers all along.
 */
const LIMITS = { requestTimeoutMs: 1500, headersTimeoutMs: 1000, keepAliveTimeoutMs: 1000, connectionIdleTimeoutMs: 3000 };
const SLACK_MS = 8000;
const token = devToken({ tenantId: 'agency-a', role: 'crew', deviceId: 'tablet-slow', subject: 'M1' });

interface Slow { closedAt: Promise<number>; answer: () => string; stop: () => void }

/** A connection that sends `first` at once, then `trickle` one byte every `everyMs`, until the server closes it. */
function slowClient(port: number, first: string, trickle: string, everyMs: number): Slow {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => { received += chunk; });
  socket.on('error', () => {});
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(trickle[i++ % trickle.length]!);
  }, everyMs);
  socket.write(first);
  const closedAt = new Promise<number>((resolve) => socket.on('close', () => {
    clearInterval(timer);
    resolve(Date.now());
  }));
  return { closedAt, answer: () => received, stop: () => { clearInterval(timer); socket.destroy(); } };
}

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ clientDir: false, ...LIMITS }); });
afterAll(async () => { await server.close(); });

describe('slow and idle connections are closed within their limits while /health keeps answering', () => {
  it('trickled bodies, trickled headers, silent and idle keep-alive connections are all closed', async () => {
    const started = Date.now();
    const bodies = Array.from({ length: 5 }, () => slowClient(server.port,
      `POST /api/sync/epcrs/push?schemaVersion=${epcrSchema.version} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[`, '{}', 300));
    const headers = Array.from({ length: 5 }, () => slowClient(server.port, 'GET /health HTTP/1.1\r\n', 'X-Slow: 1\r\n', 150));
    const silent = Array.from({ length: 3 }, () => slowClient(server.port, '', '', 60_000));
    // One whole request, then nothing: closed once the keep-alive time is up.
    const idle = slowClient(server.port, 'GET /health HTTP/1.1\r\nHost: a\r\n\r\n', '', 60_000);
    const all = [...bodies, ...headers, ...silent, idle];

    let healthAnswers = 0;
    let healthFailures = 0;
    let closed = false;
    const probe = (async () => {
      while (!closed) {
        const response = await fetch(`${server.url}/health`).catch(() => undefined);
        if (response?.status === 200) healthAnswers++;
        else healthFailures++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      const deadline = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), LIMITS.connectionIdleTimeoutMs + SLACK_MS));
      const outcome = await Promise.race([Promise.all(all.map((c) => c.closedAt)), deadline]);
      expect(outcome, 'every slow connection was closed by the server').not.toBe('open');
      const times = outcome as number[];
      for (const at of times) expect(at - started).toBeLessThan(LIMITS.connectionIdleTimeoutMs + SLACK_MS);
      // The trickled request was told why, in the protocol's error body.
      expect(bodies[0]!.answer()).toMatch(/^HTTP\/1\.1 408 /);
      expect(bodies[0]!.answer()).toContain('"code":"REQUEST_TIMEOUT"');
      // The idle connection got its answer first.
      expect(idle.answer()).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      closed = true;
      await probe;
      for (const c of all) c.stop();
    }
    expect(healthAnswers).toBeGreaterThan(3);
    expect(healthFailures).toBe(0);
  }, 30_000);
});

describe('live sockets are not slow requests', () => {
  it('a quiet websocket on /sync outlives every one of these limits and is still served', async () => {
    const socket = io(`${server.url}${STREAM_NAMESPACE}`, { transports: ['websocket'], reconnection: false, auth: { token } });
    try {
      await new Promise((resolve, reject) => {
        socket.once('connect', () => resolve(undefined));
        socket.once('connect_error', reject);
      });
      let disconnected = '';
      socket.on('disconnect', (reason) => { disconnected = reason; });
      // Quiet for longer than the idle limit (3 s), with no ping in between (socket.io pings every 25 s).
      await new Promise((resolve) => setTimeout(resolve, LIMITS.connectionIdleTimeoutMs + 1500));
      expect(disconnected).toBe('');
      const ack = await socket.timeout(10_000).emitWithAck(STREAM_EVENTS.subscribe, { collections: { epcrs: epcrSchema.version } }) as { ok: boolean };
      expect(ack.ok).toBe(true);
    } finally {
      socket.close();
    }
  });
});

describe('the connection cap', () => {
  it('connections beyond MAX_CONNECTIONS are dropped on arrival; once some close, requests are served again', async () => {
    const capped = await startTestServer({ clientDir: false, maxConnections: 4 });
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const socket = net.connect(capped.port, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        open.push(socket);
      }
      // Node counts a connection once it has accepted it: give it a moment to see all four.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await fetch(`${capped.url}/health`).then((r) => r.status, () => 'dropped');
      expect(refused).toBe('dropped');
      for (const socket of open.splice(0)) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await fetch(`${capped.url}/health`)).status).toBe(200);
    } finally {
      for (const socket of open) socket.destroy();
      await capped.close();
    }
  });
});
