/**
 * The built apps as Fastify serves them (no browser): pages, service worker and asset headers,
 * and the API's own 404 left untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOps } from '../../client/worker/ops.ts';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_DIST, DB_WORKER_CSP } from '../../server/apps/static.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureApps } from './support/server.ts';

describe('serving the built apps', () => {
  let server: TestServer;
  beforeAll(async () => {
    await ensureApps();
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('serves sign-in at / and each app at its path, revalidating pages and the service worker', async () => {
    const root = await fetch(`${server.url}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('/manifest.webmanifest');
    for (const app of ['crew', 'mdt', 'tech', 'dispatch', 'office']) {
      const page = await fetch(`${server.url}/${app}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toContain(`/${app}/manifest.webmanifest`);
      const manifest = await fetch(`${server.url}/${app}/manifest.webmanifest`);
      expect(manifest.headers.get('content-type')).toContain('application/manifest+json');
      expect(await manifest.json()).toMatchObject({ display: 'standalone', start_url: `/${app}/`, scope: `/${app}/` });
    }
    const redirect = await fetch(`${server.url}/crew`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    const sw = await fetch(`${server.url}/service-worker.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
  });

  it('caches hashed assets for good and lets only the database worker evaluate code', async () => {
    const html = await (await fetch(`${server.url}/crew/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-security-policy')).not.toContain('unsafe-eval');
    const worker = readdirSync(path.join(CLIENT_DIST, 'assets')).find((f) => /^db\.worker-.*\.js$/.test(f));
    expect(worker).toBeDefined();
    const workerResponse = await fetch(`${server.url}/assets/${worker}`);
    expect(workerResponse.status).toBe(200);
    expect(workerResponse.headers.get('content-security-policy')).toBe(DB_WORKER_CSP);
  });

  it('leaves unknown paths and the API to the server\'s own 404', async () => {
    const response = await fetch(`${server.url}/api/sync/epcrs`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await fetch(`${server.url}/crew/nothing-here.js`)).status).toBe(404);
  });
});

describe('field-level document changes (client/worker/ops.ts)', () => {
  const doc = { id: 'a', vitals: [{ id: 'v1', takenAt: 't', systolic: 120 }, { id: 'v2', takenAt: 't' }], patient: { lastName: 'X' } };

  it('sets, clears and edits list items by id without touching the input', () => {
    const next = applyOps(doc, [
      { op: 'set', path: ['vitals', { id: 'v2' }, 'heartRate'], value: 88 },
      { op: 'set', path: ['patient', 'lastName'], value: '' },
      { op: 'set', path: ['narrative', 'text'], value: 'hello' },
      { op: 'append', path: ['medications'], value: { id: 'm1', givenAt: 't', medication: 'aspirin' } },
      { op: 'removeItem', path: ['vitals'], itemId: 'v1' },
    ]);
    expect(next).toEqual({ id: 'a', vitals: [{ id: 'v2', takenAt: 't', heartRate: 88 }], narrative: { text: 'hello' }, medications: [{ id: 'm1', givenAt: 't', medication: 'aspirin' }] });
    expect(doc.vitals).toHaveLength(2);
    expect(doc.patient.lastName).toBe('X');
  });

  it('drops a list that becomes empty and never writes into a missing list item', () => {
    expect(applyOps({ id: 'a', vitals: [{ id: 'v1' }] }, [{ op: 'removeItem', path: ['vitals'], itemId: 'v1' }])).toEqual({ id: 'a' });
    expect(() => applyOps({ id: 'a', vitals: [] }, [{ op: 'set', path: ['vitals', { id: 'nope' }, 'x'], value: 1 }])).toThrow();
  });
});
