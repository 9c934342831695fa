import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { Workflow } from '../../../server/hooks/types.ts';
import { buildIntegrations, IntegrationCallError, integrationsConfigFrom, type BuiltIntegrations, type IntegrationsConfig } from '../../../server/integrations/index.ts';
import type { CadGateway, HospitalNotice } from '../../../server/integrations/types.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { OPS_HEADERS, startTestServer, type TestServer } from '../../helpers/server.ts';
import { startHospital, type HospitalServer } from './hospital-server.ts';

/** CAD is not exercised here; a call to it would be a bug in the test. */
const noCad: CadGateway = {
  async send() {
    throw new Error('CAD is not part of these tests');
  },
};

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function hospital(...args: Parameters<typeof startHospital>): Promise<HospitalServer> {
  const h = await startHospital(...args);
  started.push(h);
  return h;
}

function integrations(config: Partial<IntegrationsConfig>): BuiltIntegrations {
  return buildIntegrations(integrationsConfigFrom({ integrationBackoffMs: 5, integrationBackoffMaxMs: 20, ...config }), noCad);
}

function notice(destinationCode: string, extra: Partial<HospitalNotice> = {}): HospitalNotice {
  return {
    idempotencyKey: `hospital-notice:agency-a:epcr:${randomUUID()}`,
    tenantId: 'agency-a',
    epcrId: randomUUID(),
    destinationCode,
    body: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Encounter', status: 'in-progress' } }] },
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<IntegrationCallError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(IntegrationCallError);
    return error as IntegrationCallError;
  }
  throw new Error('expected the call to fail');
}

describe('HttpHospitalGateway', () => {
  it('a hospital failing 3 times with 500 then recovering gets the notice once, with the same Idempotency-Key on every attempt', async () => {
    const h = await hospital((n) => (n <= 3 ? 500 : 200));
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 3, breakerThreshold: 10 });
    const n = notice('STMARY');

    await gw.hospital.notify(n);

    expect(h.requests.map((r) => r.answer)).toEqual([500, 500, 500, 200]);
    expect(h.accepted()).toHaveLength(1);
    for (const r of h.requests) {
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/fhir/notices');
      expect(r.headers['idempotency-key']).toBe(n.idempotencyKey);
      expect(r.headers['content-type']).toBe('application/fhir+json');
      expect(JSON.parse(r.body)).toEqual(n.body);
    }
    expect(gw.breakerStates()).toEqual({ 'hospital:STMARY': 'closed' });
  });

  it('a 4xx other than 408/429 is a permanent refusal: sent once, not retried, and the error says so', async () => {
    const h = await hospital(() => ({ status: 422, body: '{"issue":"Encounter.status is required"}' }));
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 3 });

    const error = await rejection(gw.hospital.notify(notice('STMARY')));

    expect(h.requests).toHaveLength(1);
    expect(error.reason).toBe('permanent');
    expect(error.message).toContain('answered 422');
    expect(error.message).toContain('Encounter.status is required');
    expect(error.message).toContain('permanent refusal');
    // The hospital answered: its breaker has no reason to open.
    expect(gw.breakerStates()['hospital:STMARY']).toBe('closed');
  });

  it('408 and 429 are retried like a 5xx', async () => {
    const h = await hospital((n) => (n === 1 ? 429 : n === 2 ? 408 : 201));
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 2 });
    await gw.hospital.notify(notice('STMARY'));
    expect(h.requests.map((r) => r.answer)).toEqual([429, 408, 201]);
  });

  it('a redirect is not followed (the POST would become a GET) and is reported as a configuration problem', async () => {
    const h = await hospital(() => ({ status: 301, body: '', headers: { location: 'https://elsewhere.example/notices' } }));
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 2 });
    const error = await rejection(gw.hospital.notify(notice('STMARY')));
    expect(h.requests).toHaveLength(1);
    expect(error.message).toContain('https://elsewhere.example/notices');
    expect(error.message).toContain('Configure the final URL');
  });

  it('a destination without an endpoint: hasEndpoint says so, and notify fails without sending anything', async () => {
    const h = await hospital();
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url } });
    expect(gw.hospital.hasEndpoint('STMARY')).toBe(true);
    expect(gw.hospital.hasEndpoint('NOWHERE')).toBe(false);
    const error = await rejection(gw.hospital.notify(notice('NOWHERE')));
    expect(error.message).toContain('No endpoint is configured for hospital destination "NOWHERE"');
    expect(error.message).toContain('HOSPITAL_ENDPOINTS');
    expect(h.requests).toHaveLength(0);
  });

  it('a hospital nobody listens on fails with the network cause after the retries', async () => {
    const h = await hospital();
    const url = h.url;
    await h.close();
    const gw = integrations({ hospitalEndpoints: { STMARY: url }, integrationRetries: 1 });
    const error = await rejection(gw.hospital.notify(notice('STMARY')));
    expect(error.reason).toBe('failed');
    expect(error.message).toContain('2 attempts');
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('circuit breaker (real time, short timeouts)', () => {
  it('opens after the threshold, then refuses calls without reaching the hospital; half-opens after its timeout; a good trial closes it', async () => {
    const h = await hospital(() => 503);
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 0, breakerThreshold: 3, breakerHalfOpenAfterMs: 150 });

    for (let i = 0; i < 3; i++) expect((await rejection(gw.hospital.notify(notice('STMARY')))).reason).toBe('failed');
    expect(h.requests).toHaveLength(3);
    expect(gw.breakerStates()['hospital:STMARY']).toBe('open');

    const started = Date.now();
    const refused = await rejection(gw.hospital.notify(notice('STMARY')));
    expect(Date.now() - started).toBeLessThan(50);
    expect(refused.reason).toBe('breaker-open');
    expect(refused.message).toContain('circuit breaker is open after 3 consecutive failures');
    expect(refused.message).toContain('answered 503');
    expect(h.requests).toHaveLength(3);

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gw.breakerStates()['hospital:STMARY']).toBe('half-open');

    h.behave(() => 200);
    await gw.hospital.notify(notice('STMARY'));
    expect(h.requests).toHaveLength(4);
    expect(gw.breakerStates()['hospital:STMARY']).toBe('closed');
  });

  it('a failed trial call opens it again at once', async () => {
    const h = await hospital(() => 500);
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 0, breakerThreshold: 2, breakerHalfOpenAfterMs: 100 });
    await rejection(gw.hospital.notify(notice('STMARY')));
    await rejection(gw.hospital.notify(notice('STMARY')));
    expect(gw.breakerStates()['hospital:STMARY']).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(gw.breakerStates()['hospital:STMARY']).toBe('half-open');

    await rejection(gw.hospital.notify(notice('STMARY')));
    expect(h.requests).toHaveLength(3);
    expect(gw.breakerStates()['hospital:STMARY']).toBe('open');
    expect((await rejection(gw.hospital.notify(notice('STMARY')))).reason).toBe('breaker-open');
    expect(h.requests).toHaveLength(3);
  });

  it('one hospital\'s open breaker does not refuse calls to another', async () => {
    const down = await hospital(() => 500);
    const up = await hospital(() => 200);
    const gw = integrations({ hospitalEndpoints: { DOWN: down.url, UP: up.url }, integrationRetries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000 });
    await rejection(gw.hospital.notify(notice('DOWN')));
    expect(gw.breakerStates()).toEqual({ 'hospital:DOWN': 'open', 'hospital:UP': 'closed' });
    await gw.hospital.notify(notice('UP'));
    expect(up.accepted()).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('a hanging hospital times out per attempt and does not hold up a call to another hospital', async () => {
    const slow = await hospital(() => 'hang');
    const fast = await hospital(() => 200);
    const gw = integrations({ hospitalEndpoints: { SLOW: slow.url, FAST: fast.url }, integrationTimeoutMs: 300, integrationRetries: 1, breakerThreshold: 10 });

    const t0 = Date.now();
    const slowCall = rejection(gw.hospital.notify(notice('SLOW')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await gw.hospital.notify(notice('FAST'));
    const fastDone = Date.now() - t0;
    expect(fastDone).toBeLessThan(250);
    expect(fast.accepted()).toHaveLength(1);

    const error = await slowCall;
    const slowDone = Date.now() - t0;
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('did not answer within 300 ms (2 attempts)');
    expect(slowDone).toBeGreaterThanOrEqual(600);
    expect(slowDone).toBeLessThan(2000);
    expect(slow.requests).toHaveLength(2);
  });
});

describe('HttpClaimsGateway', () => {
  it('without CLAIMS_ENDPOINT a submission fails saying claims submission is not configured (it is never reported accepted)', async () => {
    const gw = integrations({});
    const submit = gw.claims.submit({ idempotencyKey: 'claim:agency-a:1', tenantId: 'agency-a', claimId: 'c-1', body: {} });
    const error = await rejection(submit);
    expect(error.message).toContain('claims submission is not configured');
    expect(error.message).toContain('CLAIMS_ENDPOINT');
  });

  it('posts the claim with its Idempotency-Key and returns the clearinghouse reference', async () => {
    const ch = await hospital(() => ({ status: 201, body: '{"reference":"CH-000123"}' }));
    const gw = integrations({ claimsEndpoint: ch.url });
    const result = await gw.claims.submit({ idempotencyKey: 'claim:agency-a:2', tenantId: 'agency-a', claimId: 'c-2', body: { amount: 1250 } });
    expect(result).toEqual({ accepted: true, reference: 'CH-000123' });
    expect(ch.requests[0]?.headers['idempotency-key']).toBe('claim:agency-a:2');
    expect(ch.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ch.requests[0]!.body)).toEqual({ amount: 1250 });
    expect(gw.breakerStates()).toEqual({ claims: 'closed' });
  });

  it('a 2xx answer saying accepted: false is passed on as not accepted', async () => {
    const ch = await hospital(() => ({ status: 200, body: '{"accepted":false,"id":"CH-9"}' }));
    const gw = integrations({ claimsEndpoint: ch.url });
    expect(await gw.claims.submit({ idempotencyKey: 'claim:agency-a:3', tenantId: 'agency-a', claimId: 'c-3', body: {} })).toEqual({ accepted: false, reference: 'CH-9' });
  });
});

describe('through the hook runner', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a finalized report reaches a hospital that fails 3 times exactly once; runner retries reuse the outbox key as Idempotency-Key', async () => {
    const h = await hospital((n) => (n <= 3 ? 500 : 200));
    // One retry inside the call, so the runner's own retry is needed too.
    const gw = integrations({ hospitalEndpoints: { STMARY: h.url }, integrationRetries: 1, breakerThreshold: 10 });
    const notifyHospital: Workflow = {
      name: 'test-hospital-notice',
      description: 'sends a pre-arrival notice when a report is finalized',
      trigger: { collection: 'epcrs', when: (c) => c.after['status'] === 'finalized', key: (c) => `epcr:${c.id}` },
      async run(context, payload) {
        await gw.hospital.notify({
          idempotencyKey: context.entry.key, tenantId: context.tenantId, epcrId: payload.id, destinationCode: 'STMARY',
          body: { resourceType: 'Bundle', type: 'collection', entry: [] },
        });
      },
    };
    server = await startTestServer({ workflows: [notifyHospital], integrations: gw, hookRunner: { maxAttempts: 5, baseDelayMs: 10, pollMs: 20 } });
    const doc = { ...newEpcr('agency-a', 'M1', { status: 'finalized' }), rev: '1-a', _deleted: false };
    const pushed = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${epcrSchema.version}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devToken({ tenantId: 'agency-a', role: 'crew', deviceId: 'tab-1', subject: 'M1' })}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ newDocumentState: doc }]),
    });
    expect(pushed.status).toBe(200);

    const deadline = Date.now() + 10_000;
    while (h.accepted().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(h.accepted()).toHaveLength(1);
    expect(h.requests.map((r) => r.answer)).toEqual([500, 500, 500, 200]);
    expect(new Set(h.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`test-hospital-notice:agency-a:epcr:${doc.id}`]));
    const ready = (await (await fetch(`${server.url}/ready`, { headers: OPS_HEADERS })).json()) as { outbox: { depth: number }; deadLetters: number };
    expect(ready.outbox.depth).toBe(0);
    expect(ready.deadLetters).toBe(0);
  });
});
