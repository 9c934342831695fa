/**
 * Effects stay exactly-once when the server goes away between the write and the hook, when a
 * gateway fails after the receiver got the request, and across a restart with effects half done;
 * an export NEMSIS rejects is kept as a dead letter naming the element, and only the finalize
 * hook's lock starts the downstream effects.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { billingRecordId, claimId, nemsisArtifactKey, stubEpcrId } from '../../../server/hooks/workflows/index.ts';
import { eventually } from '../../helpers/device.ts';
import { freePort, makeDataDir, type TestServer } from '../../helpers/server.ts';
import { all, completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored, systemWrite } from './support.ts';

// Each test starts one or two servers and finalizes a report through the NEMSIS checks (XSD and
// Schematron): 20-73 s a test at load 35, past the 60 s default. Every wait inside is for an
// outcome (eventually/settled wait as long as the test may); this limit only says "it hangs".
vi.setConfig({ testTimeout: 180_000 });

const TENANT = 'agency-restart';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-r1', subject: 'R1' });
const servers: TestServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startHookServer>[0]): Promise<TestServer> {
  const server = await startHookServer(options);
  servers.push(server);
  return server;
}

async function stop(server: TestServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.close({ keepData: true });
}

describe('exactly once across crashes and failures', () => {
  it('the server closes after the finalize push is committed but before any hook ran: after restart every effect happens once', async () => {
    const dataDir = makeDataDir('hooks-restart');
    dirs.push(dataDir);
    const port = await freePort();
    const first = fakeIntegrations();
    const server1 = await start({ integrations: first, dataDir, port, hookRunner: { pollMs: 3_600_000 } });
    await server1.app.hookRunner.stop(); // the runner never gets to drain

    const report = completeEpcr(TENANT, 'R1');
    const body = pushBody(report);
    await rawPush(server1, token, 'epcrs', body);
    expect((await server1.app.store.outboxStats(Date.now())).depth).toBe(1); // the finalize request, waiting
    expect((await stored(server1, 'epcrs', TENANT, report.id))?.lockedAt).toBeUndefined();
    await stop(server1);

    const second = fakeIntegrations();
    const server2 = await start({ integrations: second, dataDir, port });
    await eventually('the report locked after restart', async () => (await stored(server2, 'epcrs', TENANT, report.id))?.lockedAt);
    await settled(server2);

    expect([first.claimSubmissions.length, first.hospitalNotices.length, first.cadNotices.length]).toEqual([0, 0, 0]);
    expect([second.claimSubmissions.length, second.hospitalNotices.length, second.cadNotices.length]).toEqual([1, 1, 1]);
    const billingId = billingRecordId(TENANT, report.id);
    expect((await all(server2, 'billing_records', TENANT)).map((b) => [b.id, b.status])).toEqual([[billingId, 'claimed']]);
    expect((await all(server2, 'claims', TENANT)).map((c) => [c.id, c.status])).toEqual([[claimId(TENANT, billingId), 'accepted']]);
    expect(await server2.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT)).toBeDefined();

    // A device that never heard the answer pushes the same body again to the restarted server.
    const replay = await rawPush(server2, token, 'epcrs', body);
    expect(replay.conflicts.map((c) => c['lockedAt'] !== undefined)).toEqual([true]);
    await settled(server2);
    expect([second.claimSubmissions.length, second.hospitalNotices.length, second.cadNotices.length]).toEqual([1, 1, 1]);
  });

  it('a restart with some effects done and one still failing repeats only the one that had not happened', async () => {
    const dataDir = makeDataDir('hooks-half');
    dirs.push(dataDir);
    const port = await freePort();
    const first = fakeIntegrations({ failures: { hospital: 1000 } }); // the hospital is down
    const server1 = await start({ integrations: first, dataDir, port, hookRunner: { maxAttempts: 1000 } });

    const report = completeEpcr(TENANT, 'R1');
    await rawPush(server1, token, 'epcrs', pushBody(report));
    await eventually('claim and CAD notice done', () => first.claimSubmissions.length === 1 && first.cadNotices.length === 1);
    await eventually('the hospital notice tried', () => first.hospitalNotices.length >= 1);
    await stop(server1);

    const second = fakeIntegrations(); // the hospital is back
    const server2 = await start({ integrations: second, dataDir, port });
    await eventually('the hospital notice delivered', () => second.hospitalNotices.length === 1);
    await settled(server2);
    expect(second.hospitalNotices[0]!.idempotencyKey).toBe(first.hospitalNotices[0]!.idempotencyKey);
    expect([second.claimSubmissions.length, second.cadNotices.length]).toEqual([0, 0]);
    expect(await all(server2, 'claims', TENANT)).toHaveLength(1);
    expect(await server2.app.store.listDeadLetters(TENANT, 10)).toEqual([]);
  });

  it('the claims gateway fails after the clearinghouse got the claim: the retry re-sends it under the same key, and one claim is recorded', async () => {
    const fake = fakeIntegrations({ failures: { claims: 1 } });
    const server = await start({ integrations: fake });
    const report = completeEpcr(TENANT, 'R1');
    await rawPush(server, token, 'epcrs', pushBody(report));
    const id = claimId(TENANT, billingRecordId(TENANT, report.id));
    await eventually('the claim accepted', async () => (await stored(server, 'claims', TENANT, id))?.status === 'accepted');
    await settled(server);

    expect(fake.claimSubmissions).toHaveLength(2);
    expect(new Set(fake.claimSubmissions.map((s) => s.idempotencyKey))).toEqual(new Set([`claim:${id}`]));
    expect((await all(server, 'claims', TENANT)).map((c) => c.id)).toEqual([id]);
    expect((await stored(server, 'billing_records', TENANT, billingRecordId(TENANT, report.id)))?.status).toBe('claimed');
  });
});

describe('two workflows making the same billing record', () => {
  it('report locked first, transport completed later: still one billing record and one claim', async () => {
    const fake = fakeIntegrations();
    const server = await start({ integrations: fake });
    const incidentId = randomUUID();
    const dispatch = devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'cad' });
    const incident = { id: incidentId, tenantId: TENANT, incidentNumber: '2024-050001', status: 'dispatched', assignedUnitId: 'R1', _deleted: false };
    await rawPush(server, dispatch, 'incidents', pushBody(incident, '1-cad.a'));
    const epcrId = stubEpcrId(TENANT, incidentId, 'R1');
    const stub = await eventually('the stub', () => stored(server, 'epcrs', TENANT, epcrId));

    // The crew completes and finalizes the stub; the claim goes out.
    const report = { ...completeEpcr(TENANT, 'R1'), id: epcrId, incidentId, response: { ...completeEpcr(TENANT, 'R1').response, incidentNumber: '2024-050001' } };
    await rawPush(server, token, 'epcrs', pushBody(report, '99-crew.b', stub));
    const id = claimId(TENANT, billingRecordId(TENANT, epcrId));
    await eventually('the claim', async () => (await stored(server, 'claims', TENANT, id))?.status === 'accepted');
    await settled(server);
    const billedRev = (await stored(server, 'billing_records', TENANT, billingRecordId(TENANT, epcrId)))?.rev;

    // Then dispatch marks the transport completed.
    await rawPush(server, dispatch, 'incidents', pushBody({ ...incident, transportCompleted: true, status: 'closed' }, '2-cad.c', { ...incident, rev: '1-cad.a' }));
    await settled(server);
    expect((await all(server, 'billing_records', TENANT)).map((b) => [b.id, b.status, b.rev])).toEqual([[billingRecordId(TENANT, epcrId), 'claimed', billedRev]]);
    expect(await all(server, 'claims', TENANT)).toHaveLength(1);
    expect(fake.claimSubmissions).toHaveLength(1);
  });
});

describe('failures that must be seen, not hidden', () => {
  it('a report whose export NEMSIS would reject is refused at finalize (not locked and dead-lettered): the field is named, nothing downstream happens', async () => {
    // Until issue 16 such a report locked, and its export failed later as a dead letter only an admin saw.
    const fake = fakeIntegrations();
    const server = await start({ integrations: fake, hookRunner: { maxAttempts: 2 } });
    const report = completeEpcr(TENANT, 'R1');
    report.response = { ...report.response, responseMode: 'LIGHTS' }; // not an eResponse.23 code
    await rawPush(server, token, 'epcrs', pushBody(report));
    await settled(server);

    const refused = await stored(server, 'epcrs', TENANT, report.id);
    expect(refused?.lockedAt).toBeUndefined();
    expect(refused?.status).toBe('draft');
    expect(refused?.finalizeErrors).toEqual([{ path: 'response.responseMode', message: expect.stringMatching(/^Response mode to scene: "LIGHTS" is not a NEMSIS code for this field: choose one from the list \(eResponse\.23\)$/) }]);
    expect(await server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT)).toBeUndefined();
    expect(await server.app.store.listDeadLetters(TENANT, 10)).toEqual([]);
    expect([fake.claimSubmissions.length, fake.hospitalNotices.length, fake.cadNotices.length]).toEqual([0, 0, 0]);
  });

  it('a destination without an endpoint gets no notice; everything else happens', async () => {
    const fake = fakeIntegrations({ hospitalEndpoints: [] });
    const server = await start({ integrations: fake });
    await rawPush(server, token, 'epcrs', pushBody(completeEpcr(TENANT, 'R1')));
    await eventually('claim and CAD notice', () => fake.claimSubmissions.length === 1 && fake.cadNotices.length === 1);
    await settled(server);
    expect(fake.hospitalNotices).toEqual([]);
    expect(await server.app.store.listDeadLetters(TENANT, 10)).toEqual([]);
  });

  it('auto-claim off: the billing record is ready for a biller and no claim is made', async () => {
    const fake = fakeIntegrations();
    const server = await start({ integrations: fake, autoClaimAfterFinalize: false });
    const report = completeEpcr(TENANT, 'R1');
    await rawPush(server, token, 'epcrs', pushBody(report));
    await eventually('the billing record', async () => (await stored(server, 'billing_records', TENANT, billingRecordId(TENANT, report.id)))?.status === 'ready');
    await settled(server);
    expect(await all(server, 'claims', TENANT)).toEqual([]);
    expect(fake.claimSubmissions).toEqual([]);
  });

  it('a lockedAt written by anything but the finalize hook (here a server-side integration) starts nothing downstream', async () => {
    const fake = fakeIntegrations();
    const server = await start({ integrations: fake });
    const forged = completeEpcr(TENANT, 'R1', { lockedAt: '2024-10-07T22:00:00-04:00' });
    delete forged.patient;
    await systemWrite(server, 'epcrs', TENANT, forged);
    await settled(server);
    expect(await all(server, 'billing_records', TENANT)).toEqual([]);
    expect(await server.app.store.getArtifact(nemsisArtifactKey(forged.id), TENANT)).toBeUndefined();
    expect([fake.claimSubmissions.length, fake.hospitalNotices.length, fake.cadNotices.length]).toEqual([0, 0, 0]);
  });
});
