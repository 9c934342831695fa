/**
 * The socket.io handshake's same-origin rule (issue 17, finding 8): it trusted the Host header,
 * which the client writes, so a page on any site whose request carried a matching Host (DNS
 * rebinding, a proxy that passes Host on) was let in. Now a browser's Origin must be a configured
 * one (CORS_ORIGINS, PUBLIC_ORIGIN) or, without PUBLIC_ORIGIN, the address the connection arrived at.
 * Checked at engine.io's first request, where allowRequest runs, with headers set by hand.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

/** The engine.io polling handshake with the given headers: its status (200 let in, 403 refused). */
function handshake(server: TestServer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/socket.io/?EIO=4&transport=polling', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('without PUBLIC_ORIGIN', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ corsOrigins: ['https://mdt.agency-a.example'] }); });
  afterAll(async () => { await server.close(); });

  it('a page of another site is refused even when the Host header matches its Origin', async () => {
    expect(await handshake(server, { origin: 'http://evil.example', host: 'evil.example' })).toBe(403);
    expect(await handshake(server, { origin: 'http://evil.example:80', host: 'evil.example:80' })).toBe(403);
  });

  it('the server\'s own pages (the address the connection arrived at), configured origins and non-browser clients are let in', async () => {
    expect(await handshake(server, { origin: `http://127.0.0.1:${server.port}` })).toBe(200);
    expect(await handshake(server, { origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` })).toBe(200);
    expect(await handshake(server, { origin: 'https://mdt.agency-a.example' })).toBe(200);
    expect(await handshake(server, {})).toBe(200);
    // Another port of this machine is another origin.
    expect(await handshake(server, { origin: `http://127.0.0.1:${server.port + 1}`, host: `127.0.0.1:${server.port + 1}` })).toBe(403);
  });
});

describe('with PUBLIC_ORIGIN (behind a TLS proxy)', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ publicOrigin: 'https://fieldsync.agency-a.example' }); });
  afterAll(async () => { await server.close(); });

  it('the public origin is the server\'s own; the proxy-side address is not', async () => {
    expect(await handshake(server, { origin: 'https://fieldsync.agency-a.example', host: 'fieldsync.agency-a.example' })).toBe(200);
    expect(await handshake(server, { origin: `http://127.0.0.1:${server.port}` })).toBe(403);
    expect(await handshake(server, { origin: 'https://evil.example', host: 'evil.example' })).toBe(403);
  });
});
