import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { devToken } from '../../../server/auth/identity.ts';
import type { Workflow } from '../../../server/hooks/types.ts';
import { buildIntegrations, integrationsConfigFrom } from '../../../server/integrations/index.ts';
import type { CadGateway } from '../../../server/integrations/types.ts';
import { STREAM_NAMESPACE } from '../../../shared/protocol/index.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { OPS_HEADERS, startTestServer, type TestServer } from '../../helpers/server.ts';
import { startHospital, type HospitalServer } from '../integrations/hospital-server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tab-1', subject: 'M1' });
const noCad: CadGateway = {
  async send() {
    throw new Error('CAD is not part of these tests');
  },
};

const recorded: Workflow = {
  name: 'test-records',
  description: 'succeeds for every report',
  trigger: { collection: 'epcrs', when: () => true, key: (c) => `epcr:${c.id}:${c.seq}` },
  async run() {},
};
const failing: Workflow = {
  name: 'test-fails',
  description: 'fails for every finalized report',
  trigger: { collection: 'epcrs', when: (c) => c.after['status'] === 'finalized', key: (c) => `epcr:${c.id}` },
  async run() {
    throw new Error('target down');
  },
};

let server: TestServer;
let down: HospitalServer;
let socket: Socket | undefined;

beforeAll(async () => {
  down = await startHospital(() => 500);
  const integrations = buildIntegrations(integrationsConfigFrom({
    hospitalEndpoints: { DOWN: down.url, STMARY: 'http://127.0.0.1:9/unused' },
    integrationRetries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000,
  }), noCad);
  await integrations.hospital.notify({ idempotencyKey: 'k-1', tenantId: TENANT, epcrId: 'x', destinationCode: 'DOWN', body: {} }).catch(() => undefined);
  server = await startTestServer({ workflows: [recorded, failing], integrations, hookRunner: { maxAttempts: 2, baseDelayMs: 10, pollMs: 20 } });
});
afterAll(async () => {
  socket?.disconnect();
  await server.close();
  await down.close();
});

async function push(rows: unknown[]) {
  const r = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${epcrSchema.version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(rows),
  });
  return { status: r.status, body: (await r.json()) as unknown[] };
}

async function metrics(): Promise<string> {
  const r = await fetch(`${server.url}/metrics`, { headers: OPS_HEADERS });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toContain('text/plain');
  return r.text();
}

/** The value of one sample line, e.g. `fieldsync_outbox_depth` or `name{label="x"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/ready', () => {
  it('reports the database, outbox lag, dead letters and breaker states to monitoring (METRICS_TOKEN)', async () => {
    const r = await fetch(`${server.url}/ready`, { headers: OPS_HEADERS });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toEqual({
      status: 'ready',
      store: 'sqlite',
      database: 'reachable',
      outbox: { depth: expect.any(Number), oldestAgeMs: expect.any(Number) },
      deadLetters: expect.any(Number),
      breakers: { 'hospital:DOWN': 'open', 'hospital:STMARY': 'closed' },
    });
    expect(body).not.toHaveProperty('cad');
  });
});

describe('/metrics', () => {
  beforeAll(async () => {
    const a = { ...newEpcr(TENANT, 'M1'), rev: '1-a', _deleted: false };
    const b = { ...newEpcr(TENANT, 'M1', { status: 'finalized' }), rev: '1-a', _deleted: false };
    expect((await push([{ newDocumentState: a }, { newDocumentState: b }])).status).toBe(200);
    // A write from a stale state: the server answers with its version, a conflict.
    const conflict = await push([{ assumedMasterState: { ...a, rev: '1-stale' }, newDocumentState: { ...a, rev: '2-b' } }]);
    expect(conflict.body).toHaveLength(1);
    expect((await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${epcrSchema.version}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // Unknown collections must not become label values.
    const unknown = await fetch(`${server.url}/api/sync/not-a-collection/push?schemaVersion=0`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '[]' });
    expect(unknown.status).toBe(404);

    socket = connect(`${server.url}${STREAM_NAMESPACE}`, { auth: { token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });

    // Let the hook runner settle: the failing workflow's entry becomes a dead letter.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const stats = await server.app.store.outboxStats(Date.now());
      if (stats.deadLetters === 1 && stats.depth === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('has push and pull latency histograms per collection', async () => {
    const text = await metrics();
    expect(text).toContain('# TYPE fieldsync_sync_request_duration_seconds histogram');
    expect(sample(text, 'fieldsync_sync_request_duration_seconds_count{operation="push",collection="epcrs",status_class="2xx"}')).toBe(2);
    expect(sample(text, 'fieldsync_sync_request_duration_seconds_count{operation="pull",collection="epcrs",status_class="2xx"}')).toBe(1);
    expect(text).toMatch(/fieldsync_sync_request_duration_seconds_bucket\{le="0\.005",operation="push",collection="epcrs",status_class="2xx"\} \d+/);
    expect(text).not.toContain('not-a-collection');
  });

  it('counts pushed rows, committed documents and conflicts per collection', async () => {
    const text = await metrics();
    expect(sample(text, 'fieldsync_sync_pushed_rows_total{collection="epcrs"}')).toBe(3);
    expect(sample(text, 'fieldsync_documents_committed_total{collection="epcrs"}')).toBe(2);
    expect(sample(text, 'fieldsync_sync_conflicts_total{collection="epcrs"}')).toBe(1);
  });

  it('has outbox gauges, hook runs and failures per workflow, breaker states and live sockets', async () => {
    const text = await metrics();
    expect(sample(text, 'fieldsync_store_up')).toBe(1);
    expect(sample(text, 'fieldsync_outbox_depth')).toBe(0);
    expect(sample(text, 'fieldsync_outbox_oldest_age_seconds')).toBe(0);
    expect(sample(text, 'fieldsync_outbox_dead_letters')).toBe(1);
    expect(sample(text, 'fieldsync_hook_runs_total{workflow="test-records"}')).toBe(2);
    expect(sample(text, 'fieldsync_hook_failures_total{workflow="test-records"}')).toBe(0);
    expect(sample(text, 'fieldsync_hook_runs_total{workflow="test-fails"}')).toBe(0);
    expect(sample(text, 'fieldsync_hook_failures_total{workflow="test-fails"}')).toBe(2);
    expect(sample(text, 'fieldsync_integration_breaker_state{target="hospital:DOWN",state="open"}')).toBe(1);
    expect(sample(text, 'fieldsync_integration_breaker_state{target="hospital:DOWN",state="closed"}')).toBe(0);
    expect(sample(text, 'fieldsync_integration_breaker_state{target="hospital:STMARY",state="closed"}')).toBe(1);
    expect(sample(text, 'fieldsync_live_sockets')).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('every response, /metrics included, carries x-request-id', async () => {
    const r = await fetch(`${server.url}/metrics`, { headers: { ...OPS_HEADERS, 'x-request-id': 'scrape-1' } });
    expect(r.headers.get('x-request-id')).toBe('scrape-1');
  });
});

describe('/ready when the store is unreachable', () => {
  it('answers 503 and says why', async () => {
    const s = await startTestServer();
    try {
      // Stop the runner first: it would otherwise poll a closed store.
      await s.app.hookRunner.stop();
      await s.app.store.close();
      const r = await fetch(`${s.url}/ready`, { headers: OPS_HEADERS });
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ status: 'unavailable', store: 'sqlite', database: 'unreachable', reason: expect.any(String) });
      const m = await fetch(`${s.url}/metrics`, { headers: OPS_HEADERS });
      expect(m.status).toBe(200);
      expect(sample(await m.text(), 'fieldsync_store_up')).toBe(0);
    } finally {
      await s.close();
    }
  });
});
