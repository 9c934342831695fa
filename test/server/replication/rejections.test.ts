/**
 * Refused writes are kept, not lost; finalized reports turn a crew's change into a draft
 * addendum; the reason reaches the device; RxDB clients stay healthy (no conflict loop); pull
 * scoping keeps RxDB's "fewer than limit means caught up"; a technician's tickets arrive when a
 * job makes them visible.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { mergedRevision } from '../../../shared/revision.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { LOCKED_AT, login, make, PASSWORD, pullAll, push, rejectionsOf, rev, seed, stored } from '../../helpers/access.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';

const A = 'agency-a';
const crew = (device = 'tab-1') => devToken({ tenantId: A, role: 'crew', deviceId: device, subject: 'M1' });
const crewM2 = devToken({ tenantId: A, role: 'crew', deviceId: 'tab-m2', subject: 'M2' });
const dispatcher = devToken({ tenantId: A, role: 'dispatcher', deviceId: 'console' });
const tech = devToken({ tenantId: A, role: 'technician', deviceId: 'phone-t1', subject: 'T1' });

let server: TestServer;
const devices: TestDevice[] = [];
beforeAll(async () => { server = await startTestServer(); });
/** Waits until the server's workflows ran (the outbox is empty). */
const settledHooks = () => eventually('the hook outbox to drain', async () => (await server.app.store.outboxStats(Date.now())).depth === 0, 30_000);
afterAll(async () => {
  await Promise.all(devices.map((d) => d.close()));
  await server.close();
});

async function lockedReport(extra: Record<string, unknown> = {}) {
  const doc = make.epcrs(A, { unitId: 'M1', status: 'finalized', lockedAt: LOCKED_AT, finalizeErrors: [], ...extra });
  await seed(server.app.store, 'epcrs', [doc]);
  return doc;
}

async function rejections(token: string, since = 0) {
  const r = await fetch(`${server.url}/api/sync/rejections?since=${since}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as { rejections: { id: number; documentId: string; code: string; reason: string; addendumId?: string; rev?: string }[]; since: number };
}

describe('a crew change to a finalized report', () => {
  it('comes back as a conflict with the reason, is quarantined, and is saved as a draft addendum once', async () => {
    const report = await lockedReport();
    const changed = { ...report, rev: '2-tab_1.aaaaaa', narrative: { text: 'forgot: aspirin 324 mg given at 14:20' }, status: 'finalized' };
    const row = { assumedMasterState: report, newDocumentState: changed };
    const r = await push(server, crew(), 'epcrs', [row]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([report]);
    const [notice] = rejectionsOf(r.headers);
    expect(notice).toMatchObject({ id: report.id, code: 'FINALIZED', reason: 'report finalized at 14:02; your change was saved as a draft addendum' });
    expect(await stored(server.app.store, 'epcrs', A, report.id)).toEqual(report);

    const addendum = await stored(server.app.store, 'epcrs', A, notice!.addendumId!);
    expect(addendum).toMatchObject({
      addendumOf: report.id, status: 'draft', unitId: 'M1', incidentId: report.incidentId, tenantId: A,
      narrative: { text: 'forgot: aspirin 324 mg given at 14:20' }, _deleted: false,
    });
    expect(addendum!['addendumReason']).toContain('14:02');
    expect(addendum!['lockedAt']).toBeUndefined();
    expect(addendum!['patient']).toBeUndefined(); // only what the crew changed

    const kept = await server.app.store.findQuarantine({ tenantId: A, collection: 'epcrs', documentIds: [report.id], limit: 10 });
    expect(kept).toHaveLength(1);
    expect(JSON.parse(kept[0]!.json)).toEqual(changed);
    expect(kept[0]!.actor).toMatchObject({ deviceId: 'tab-1', role: 'crew' });

    // The device can read the reason again later.
    const listed = (await rejections(crew())).rejections.find((x) => x.documentId === report.id);
    expect(listed).toMatchObject({ code: 'FINALIZED', reason: notice!.reason, addendumId: notice!.addendumId, rev: changed.rev });
    // Another device of the same unit does not see this device's refusals.
    expect((await rejections(crew('tab-2'))).rejections.some((x) => x.documentId === report.id)).toBe(false);

    // The same push again (its answer was lost): same answer, no second quarantine entry or addendum.
    const again = await push(server, crew(), 'epcrs', [row]);
    expect(again.body).toEqual([report]);
    expect(rejectionsOf(again.headers)[0]).toMatchObject({ code: 'FINALIZED', addendumId: notice!.addendumId });
    expect(await server.app.store.findQuarantine({ tenantId: A, collection: 'epcrs', documentIds: [report.id], limit: 10 })).toHaveLength(1);
    expect((await pullAll(server, crew(), 'epcrs', 1000)).docs.filter((d) => d['addendumOf'] === report.id)).toHaveLength(1);

    // RxDB merges the returned state with its change and pushes again: acknowledged, not looped.
    const merged = { ...changed, rev: mergedRevision(report.rev, changed.rev) };
    const loop = await push(server, crew(), 'epcrs', [{ assumedMasterState: report, newDocumentState: merged }]);
    expect(loop.status).toBe(200);
    expect(loop.body).toEqual([]);
    expect(rejectionsOf(loop.headers)[0]).toMatchObject({ id: report.id, code: 'ALREADY_REFUSED' });
    expect(await stored(server.app.store, 'epcrs', A, report.id)).toEqual(report);
    expect(await server.app.store.findQuarantine({ tenantId: A, collection: 'epcrs', documentIds: [report.id], limit: 10 })).toHaveLength(1);
  });

  it('are the signed-in user\'s: crew of M2 signing in with M1\'s device id sees none of M1\'s refusals (issue 17)', async () => {
    await server.app.auth.createUser(A, { username: 'rej-m1', role: 'crew', unitId: 'M1', password: PASSWORD });
    await server.app.auth.createUser(A, { username: 'rej-m2', role: 'crew', unitId: 'M2', password: PASSWORD });
    const m1 = (await login(server, A, 'rej-m1', PASSWORD, 'tab-shared')).accessToken;
    const report = await lockedReport();
    const changed = { ...report, rev: '2-tab_shared.m1', narrative: { text: 'M1 crew note after lock' } };
    expect((await push(server, m1, 'epcrs', [{ assumedMasterState: report, newDocumentState: changed }])).status).toBe(200);
    expect((await rejections(m1)).rejections.map((x) => x.documentId)).toContain(report.id);

    // The device id is the device's own claim at sign-in: another user naming it gets nothing of M1's.
    const m2 = (await login(server, A, 'rej-m2', PASSWORD, 'tab-shared')).accessToken;
    expect((await rejections(m2)).rejections).toEqual([]);
    // M1 still sees its own, after M2 signed in on that device id.
    expect((await rejections(m1)).rejections.map((x) => x.documentId)).toContain(report.id);
  });

  it('from a real RxDB device: the queue drains, the addendum arrives on the device, the report stays locked', async () => {
    const report = await lockedReport();
    const device = await createDevice({ serverUrl: server.url, token: crew('tab-rx'), collections: ['epcrs'], deviceId: 'tab-rx' });
    devices.push(device);
    await device.sync.awaitInSync();
    await eventually('the locked report on the tablet', async () => (await device.db.collections['epcrs']!.findOne(report.id).exec()) ?? undefined);

    await device.writer.update('epcrs', report.id, (d) => ({ ...d, vitals: [{ id: 'v9', takenAt: '2026-11-22T14:30:00-05:00', heartRate: 88 }] }));
    const addendum = await eventually('the draft addendum on the tablet', async () => {
      const docs = await device.db.collections['epcrs']!.find({ selector: { addendumOf: report.id } }).exec();
      return docs[0]?.toJSON();
    }, 15_000);
    expect(addendum).toMatchObject({ status: 'draft', vitals: [{ id: 'v9', heartRate: 88 }] });
    await device.sync.awaitInSync();
    // No conflict loop: after a while there is still exactly one quarantine entry and one addendum.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await server.app.store.findQuarantine({ tenantId: A, collection: 'epcrs', documentIds: [report.id], limit: 10 })).toHaveLength(1);
    expect((await pullAll(server, crew(), 'epcrs', 1000)).docs.filter((d) => d['addendumOf'] === report.id)).toHaveLength(1);
    expect(await stored(server.app.store, 'epcrs', A, report.id)).toEqual(report);
    expect((await device.sync.pending())['epcrs']).toBe(0);
    const reasons = (await rejections(crew('tab-rx'))).rejections.filter((x) => x.documentId === report.id);
    expect(reasons.map((x) => x.code)).toEqual(['FINALIZED']);
  });

  it('a finalized report cannot be deleted; the deletion is refused and kept, with no addendum', async () => {
    const report = await lockedReport();
    const r = await push(server, crew(), 'epcrs', [{ assumedMasterState: report, newDocumentState: { ...report, rev: rev(2), _deleted: true } }]);
    expect(r.body).toEqual([report]);
    const [notice] = rejectionsOf(r.headers);
    expect(notice).toMatchObject({ code: 'FINALIZED' });
    expect(notice!.addendumId).toBeUndefined();
    expect(notice!.reason).toContain('cannot be changed or deleted');
  });
});

describe('field-level write rules', () => {
  it('a crew cannot move a report to another unit, set server-owned fields, or change its agency', async () => {
    const draft = make.epcrs(A, { unitId: 'M1' });
    await seed(server.app.store, 'epcrs', [draft]);
    for (const [change, code] of [
      [{ unitId: 'M2' }, 'IMMUTABLE_FIELD'],
      [{ lockedAt: LOCKED_AT }, 'SERVER_OWNED_FIELD'],
      [{ finalizeErrors: [] }, 'SERVER_OWNED_FIELD'],
    ] as const) {
      const r = await push(server, crew(), 'epcrs', [{ assumedMasterState: draft, newDocumentState: { ...draft, ...change, rev: rev(2) } }]);
      expect(r.body).toEqual([draft]);
      expect(rejectionsOf(r.headers)[0]!.code).toBe(code);
    }
    const tenant = await push(server, crew(), 'epcrs', [{ assumedMasterState: draft, newDocumentState: { ...draft, tenantId: 'agency-b', rev: rev(2) } }]);
    expect(tenant.status).toBe(403);
    expect(tenant.body.error.code).toBe('TENANT_MISMATCH');
    expect(await stored(server.app.store, 'epcrs', A, draft.id)).toEqual(draft);
    // A new report with server-owned fields is refused outright (no server state to return).
    const forged = make.epcrs(A, { unitId: 'M1', lockedAt: LOCKED_AT });
    expect((await push(server, crew(), 'epcrs', [{ newDocumentState: forged }])).status).toBe(403);
  });

  it('a technician changes a job\'s status, statusAt and notes, but not its assignee or anything else', async () => {
    const job = make.jobs(A, { assigneeId: 'T1', kind: 'installation', orderNumber: 'SO-1' });
    await seed(server.app.store, 'jobs', [job]);
    const ok = { ...job, status: 'on_site', statusAt: '2026-11-22T15:00:00-05:00', notes: 'customer not home', rev: rev(2) };
    expect((await push(server, tech, 'jobs', [{ assumedMasterState: job, newDocumentState: ok }])).body).toEqual([]);
    expect(await stored(server.app.store, 'jobs', A, job.id)).toEqual(ok);
    for (const change of [{ assigneeId: 'T2' }, { orderNumber: 'SO-2' }, { kind: 'repair' }]) {
      const r = await push(server, tech, 'jobs', [{ assumedMasterState: ok, newDocumentState: { ...ok, ...change, rev: rev(3) } }]);
      expect(r.body).toEqual([ok]);
      expect(rejectionsOf(r.headers)[0]).toMatchObject({ code: 'FIELD_NOT_WRITABLE' });
      expect(rejectionsOf(r.headers)[0]!.reason).toContain('status, statusAt, notes');
    }
    expect(await stored(server.app.store, 'jobs', A, job.id)).toEqual(ok);
  });

  it('a crew stamps its own incident but cannot reassign it; a dispatcher can', async () => {
    const incident = make.incidents(A, { assignedUnitId: 'M1' });
    await seed(server.app.store, 'incidents', [incident]);
    const stamped = { ...incident, status: 'active', timeline: { unitOnScene: '2026-11-22T14:11:00-05:00' }, rev: rev(2) };
    expect((await push(server, crew(), 'incidents', [{ assumedMasterState: incident, newDocumentState: stamped }])).body).toEqual([]);
    // The server records the status change in the call's history (incident-history): the next
    // pushes start from the server's version, as a device's would after its pull.
    await settledHooks();
    const master = (await stored(server.app.store, 'incidents', A, incident.id)) as typeof stamped & { history?: { kind: string }[] };
    expect(master.history?.map((e: { kind: string }) => e.kind)).toContain('status');
    const moved = await push(server, crew(), 'incidents', [{ assumedMasterState: master, newDocumentState: { ...master, assignedUnitId: 'M2', rev: rev(3) } }]);
    expect(rejectionsOf(moved.headers)[0]!.code).toBe('FIELD_NOT_WRITABLE');
    const reassigned = { ...master, assignedUnitId: 'M2', rev: rev(3) };
    expect((await push(server, dispatcher, 'incidents', [{ assumedMasterState: master, newDocumentState: reassigned }])).body).toEqual([]);
    // Now it is M2's call: M1 can no longer write it, and cannot learn its new state by trying.
    const late = await push(server, crew(), 'incidents', [{ assumedMasterState: stamped, newDocumentState: { ...stamped, notes: 'late', rev: rev(4) } }]);
    expect(late.status).toBe(403);
    expect(JSON.stringify(late.body)).not.toContain('M2');
    expect((await pullAll(server, crewM2, 'incidents', 100)).docs.map((d) => d['id'])).toContain(incident.id);
  });
});

describe('pull scoping', () => {
  it('skips other units\' documents, pages keep "fewer than limit means caught up", the checkpoint moves past skipped documents', async () => {
    const token = devToken({ tenantId: 'agency-p', role: 'crew', deviceId: 'tab-p', subject: 'M1' });
    const mine = Array.from({ length: 3 }, () => make.epcrs('agency-p', { unitId: 'M1' }));
    await seed(server.app.store, 'epcrs', [mine[0]!]);
    await seed(server.app.store, 'epcrs', Array.from({ length: 50 }, () => make.epcrs('agency-p', { unitId: 'M2' })));
    await seed(server.app.store, 'epcrs', [mine[1]!, mine[2]!]);
    await seed(server.app.store, 'epcrs', Array.from({ length: 20 }, () => make.epcrs('agency-p', { unitId: 'M7' })));
    const page = async (checkpoint?: unknown) => {
      const q = new URLSearchParams({ schemaVersion: String(schemaVersionOf('epcrs')), limit: '2' });
      if (checkpoint) q.set('checkpoint', JSON.stringify(checkpoint));
      return (await (await fetch(`${server.url}/api/sync/epcrs/pull?${q}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { documents: { id: string }[]; checkpoint: { seq: number } };
    };
    const p1 = await page();
    expect(p1.documents.map((d) => d.id)).toEqual([mine[0]!.id, mine[1]!.id]);
    const p2 = await page(p1.checkpoint);
    expect(p2.documents.map((d) => d.id)).toEqual([mine[2]!.id]);
    // Caught up: past the 20 trailing M7 reports too, so the next pull scans nothing old.
    const all = await server.app.store.pull({ collection: 'epcrs', tenantId: 'agency-p', afterSeq: 0, limit: 1000 });
    expect(p2.checkpoint.seq).toBe(all.lastSeq);
    const p3 = await page(p2.checkpoint);
    expect(p3).toEqual({ documents: [], checkpoint: p2.checkpoint });
  });

  it('a technician\'s ticket arrives when a job assigned to them is created after the device pulled past the ticket', async () => {
    const ticket = make.tickets(A, { notes: 'install router' });
    await seed(server.app.store, 'tickets', [ticket]);
    const first = await fetch(`${server.url}/api/sync/tickets/pull?schemaVersion=${schemaVersionOf('tickets')}&limit=100`, { headers: { authorization: `Bearer ${tech}` } });
    const before = (await first.json()) as { documents: { id: string }[]; checkpoint: { seq: number } };
    expect(before.documents.map((d) => d.id)).not.toContain(ticket.id);
    const [ticketStored] = await server.app.store.getDocuments('tickets', A, [ticket.id]);
    expect(before.checkpoint.seq).toBeGreaterThanOrEqual(ticketStored!.seq); // the device is past the ticket

    await seed(server.app.store, 'jobs', [make.jobs(A, { assigneeId: 'T1', ticketId: ticket.id })]);
    const after = await fetch(`${server.url}/api/sync/tickets/pull?schemaVersion=${schemaVersionOf('tickets')}&limit=100&checkpoint=${encodeURIComponent(JSON.stringify(before.checkpoint))}`, { headers: { authorization: `Bearer ${tech}` } });
    const delta = (await after.json()) as { documents: { id: string }[]; checkpoint: { seq: number } };
    expect(delta.documents.map((d) => d.id)).toEqual([ticket.id]);
    expect(delta.checkpoint.seq).toBeGreaterThan(before.checkpoint.seq);
    // A real device replicating live gets it too, and its own job.
    const phone = await createDevice({ serverUrl: server.url, token: tech, collections: ['jobs', 'tickets'], deviceId: 'phone-t1' });
    devices.push(phone);
    await phone.sync.awaitInSync();
    const other = make.tickets(A, { notes: 'repair antenna' });
    await seed(server.app.store, 'tickets', [other]);
    await seed(server.app.store, 'jobs', [make.jobs(A, { assigneeId: 'T1', ticketId: other.id })]);
    await eventually('the newly assigned ticket on the phone (live)', async () => (await phone.db.collections['tickets']!.findOne(other.id).exec()) ?? undefined, 10_000);
    expect(await phone.db.collections['tickets']!.findOne(ticket.id).exec()).not.toBeNull();
  });
});

describe('dispatch replication of projected reports', () => {
  it('a real RxDB dispatcher device replicates ePCR status and times live, without clinical content, with no errors', async () => {
    const console_ = await createDevice({ serverUrl: server.url, token: dispatcher, collections: ['epcrs', 'incidents'], deviceId: 'console-rx' });
    devices.push(console_);
    const errors: unknown[] = [];
    const sub = console_.sync.replications.get('epcrs')!.error$.subscribe((e) => errors.push(e));
    await console_.sync.awaitInSync();
    const mdt = await createDevice({ serverUrl: server.url, token: crew('tab-live'), collections: ['epcrs'], deviceId: 'tab-live' });
    devices.push(mdt);
    const report = newEpcr(A, 'M1', { patient: { firstName: 'Ana', lastName: 'Quinn' }, times: { unitNotified: '2026-11-22T14:02:00-05:00' } });
    await mdt.writer.insert('epcrs', report);
    const seen = await eventually('the report on the console', async () => (await console_.db.collections['epcrs']!.findOne(report.id).exec())?.toJSON());
    expect(seen).toMatchObject({ id: report.id, status: 'draft', unitId: 'M1', times: { unitNotified: '2026-11-22T14:02:00-05:00' } });
    expect(JSON.stringify(seen)).not.toContain('Quinn');
    await mdt.writer.update('epcrs', report.id, (d) => ({ ...d, times: { ...d.times, unitOnScene: '2026-11-22T14:11:00-05:00' }, narrative: { text: 'secret' } }));
    await eventually('the new time on the console', async () => (await console_.db.collections['epcrs']!.findOne(report.id).exec())?.toJSON().times?.unitOnScene === '2026-11-22T14:11:00-05:00');
    expect(JSON.stringify((await console_.db.collections['epcrs']!.findOne(report.id).exec())!.toJSON())).not.toContain('secret');
    expect((await console_.sync.pending())['epcrs']).toBe(0);
    expect(errors).toEqual([]);
    sub.unsubscribe();
  });
});
