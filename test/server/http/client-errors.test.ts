import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ clientDir: false }); });
afterAll(async () => { await server.close(); });

/** Sends raw bytes (not always valid HTTP) and reads the answer until the server closes the connection or one answer is complete. */
function raw(request: string): Promise<{ status: number; body: { error: { code: string; message: string }; requestId: string } }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      try {
        resolve({ status, body: JSON.parse(body) as never });
      } catch {
        reject(new Error(`not a JSON answer: ${JSON.stringify(text.slice(0, 300))}`));
      }
    });
    socket.end(request);
  });
}

describe('answers the framework and Node give before any route runs carry the documented error body', () => {
  const expectDocumented = (answer: Awaited<ReturnType<typeof raw>>, status: number, code: string) => {
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(isErrorCode(answer.body.error.code)).toBe(true);
    expect(answer.body.error.message.length).toBeGreaterThan(20);
    expect(typeof answer.body.requestId).toBe('string');
  };

  it('headers larger than the server accepts: 431 HEADERS_TOO_LARGE', async () => {
    expectDocumented(await raw(`GET /health?pad=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`), 431, 'HEADERS_TOO_LARGE');
  });

  it('a path part longer than the router allows: 414 URL_TOO_LONG', async () => {
    expectDocumented(await raw(`GET /api/sync/${'a'.repeat(300)}/pull HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`), 414, 'URL_TOO_LONG');
  });

  it('a path that is not valid percent-encoding: 400 BAD_URL', async () => {
    expectDocumented(await raw('GET /api/sync/%zz/pull HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), 400, 'BAD_URL');
  });

  it('a Content-Length that is not a number, or sent beside Transfer-Encoding: 400 BAD_CONTENT_LENGTH', async () => {
    expectDocumented(await raw('POST /api/sync/epcrs/push HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\n[]'), 400, 'BAD_CONTENT_LENGTH');
    expectDocumented(await raw('POST /api/sync/epcrs/push HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]'), 400, 'BAD_CONTENT_LENGTH');
    expectDocumented(await raw('POST /api/sync/epcrs/push HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n'), 400, 'BAD_CONTENT_LENGTH');
  });

  it('bytes that are not HTTP: 400 BAD_REQUEST', async () => {
    expectDocumented(await raw('HELLO THERE\r\n\r\n'), 400, 'BAD_REQUEST');
  });
});
