/**
 * `/metrics` and `/ready`'s details are for monitoring's token (issue 17, finding 8): before, both
 * answered anyone (every agency's traffic by collection, hospital codes, outbox lag, the store's
 * own error text).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPS_HEADERS, startTestServer, type TestServer } from '../../helpers/server.ts';

describe('with METRICS_TOKEN set', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(); });
  afterAll(async () => { await server.close(); });

  it('/metrics answers the token only', async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    expect(anonymous.status).toBe(401);
    const body = (await anonymous.json()) as { error: { code: string; message: string } };
    expect(body.error).toEqual({ code: 'UNAUTHENTICATED', message: 'Send Authorization: Bearer <METRICS_TOKEN> to read the metrics.' });
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer test-metrics-token-0123456789abcdeX' } })).status).toBe(401);
    const scraped = await fetch(`${server.url}/metrics`, { headers: OPS_HEADERS });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('fieldsync_store_up 1');
  });

  it('/ready tells anyone only whether the server is ready; the token also gets the details', async () => {
    const anonymous = await fetch(`${server.url}/ready`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ status: 'ready', database: 'reachable' });
    expect(await (await fetch(`${server.url}/ready`, { headers: OPS_HEADERS })).json()).toMatchObject({ status: 'ready', store: 'sqlite', outbox: expect.any(Object), breakers: expect.any(Object) });
  });

  it('/ready of a server whose store is down says so, but not the store\'s error, to anyone', async () => {
    const s = await startTestServer();
    try {
      await s.app.hookRunner.stop();
      await s.app.store.close();
      const anonymous = await fetch(`${s.url}/ready`);
      expect(anonymous.status).toBe(503);
      expect(await anonymous.json()).toEqual({ status: 'unavailable', database: 'unreachable' });
      expect(await (await fetch(`${s.url}/ready`, { headers: OPS_HEADERS })).json()).toMatchObject({ reason: expect.any(String) });
    } finally {
      await s.close();
    }
  });
});

describe('without METRICS_TOKEN (the default)', () => {
  it('/metrics is off, and says how to turn it on', async () => {
    const server = await startTestServer({ metricsToken: undefined });
    try {
      // startTestServer's own token is replaced by "not given": the server's default applies.
      expect(server.app.config.metricsToken).toBeUndefined();
      const r = await fetch(`${server.url}/metrics`, { headers: OPS_HEADERS });
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain('set METRICS_TOKEN');
      expect(await (await fetch(`${server.url}/ready`, { headers: OPS_HEADERS })).json()).toEqual({ status: 'ready', database: 'reachable' });
    } finally {
      await server.close();
    }
  });
});
