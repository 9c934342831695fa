import 'fake-indexeddb/auto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, setSession, summarizeQueue, type OutboxDb } from '../../client/queue/index.ts';
import { deliverOutbox, OutboundQueue } from '../../sw/queue/index.ts';
import { newEpcr, newGpsPoint } from '../helpers/factories.ts';
import { freePort, makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-q', subject: 'M1' });
let server: TestServer;
let dbCount = 0;

beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

async function queue(serverUrl = server.url): Promise<OutboxDb> {
  const db = await openOutboxDb(`outbox-test-${++dbCount}`);
  await setSession(db, { serverUrl, token });
  return db;
}

/** The rows of a push body (gzipped above 1 KB). */
async function bodyRows(init: RequestInit | undefined): Promise<unknown[]> {
  const bytes = Buffer.from(await new Response(init!.body!).arrayBuffer());
  return JSON.parse((bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8')) as unknown[];
}

let writes = 0;
/** A device write: every write gets its own revision tag, as DocumentWriter does. */
function epcr(extra: Partial<Epcr> = {}, prev?: Epcr): Epcr {
  const base = prev ?? ({ ...newEpcr(TENANT, 'M1'), rev: '' } as Epcr);
  return { ...base, ...extra, rev: nextRevision(prev?.rev, `tab.q${++writes}`) } as Epcr;
}

async function serverDoc(collection: string, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await server.app.store.getDocuments(collection, TENANT, [id]);
  return row ? JSON.parse(row.json) as Record<string, unknown> : undefined;
}

describe('the outbound queue the service worker owns', () => {
  it('keeps a batch while the server is down and delivers it once when the server returns', async () => {
    const port = await freePort();
    const db = await queue(`http://127.0.0.1:${port}`);
    const report = epcr({ narrative: { text: 'written in a dead zone' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);

    const down = await deliverOutbox({ db });
    expect(down.stoppedBy).toBe('network');
    const waiting = await summarizeQueue(db);
    expect(waiting.total).toBe(1);
    expect(waiting.status.lastError).toMatch(/server unreachable/);
    expect(waiting.status.failures).toBe(1);

    const dataDir = makeDataDir();
    const second = await startTestServer({ port, dataDir });
    try {
      const up = await deliverOutbox({ db });
      expect(up).toMatchObject({ delivered: 1, requests: 1 });
      expect(up.stoppedBy).toBeUndefined();
      const [row] = await second.app.store.getDocuments('epcrs', TENANT, [report.id]);
      expect(JSON.parse(row!.json).narrative.text).toBe('written in a dead zone');
      expect((await summarizeQueue(db)).total).toBe(0);
      // Delivering again sends nothing.
      expect((await deliverOutbox({ db })).requests).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('a replay whose answer was lost writes nothing twice', async () => {
    const db = await queue();
    const report = epcr({ narrative: { text: 'once' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    let cut = true;
    const losingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (cut) {
        cut = false;
        throw new TypeError('connection reset after the request went through');
      }
      return response;
    };
    expect((await deliverOutbox({ db, fetch: losingFetch })).stoppedBy).toBe('network');
    const afterFirst = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
    expect(afterFirst).toHaveLength(1);
    expect((await deliverOutbox({ db, fetch: losingFetch })).delivered).toBe(1);
    const afterReplay = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
    expect(afterReplay[0]!.seq).toBe(afterFirst[0]!.seq); // the replay changed nothing
    const writes = await server.app.store.queryAudit({ tenantId: TENANT, documentId: report.id, limit: 10 });
    expect(writes.filter((w) => w.action === 'write')).toHaveLength(1);
  });

  it('sends a finalized report before a backlog of 3,000 GPS points queued earlier', async () => {
    const db = await queue();
    for (let i = 0; i < 3000; i += 500) {
      await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), Array.from({ length: 500 }, (_, j) => ({
        newDocumentState: { ...newGpsPoint(TENANT, 'M1', i + j), rev: '1-tab.q', _deleted: false },
      })));
    }
    const report = epcr({ status: 'finalized', narrative: { text: 'finalized in the dead zone' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    const summary = await summarizeQueue(db);
    expect(summary).toMatchObject({ total: 3001, urgentWaiting: 1 });

    const result = await deliverOutbox({ db });
    expect(result.delivered).toBe(3001);
    const [reportRow] = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
    const page = await server.app.store.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq: 0, limit: 5000 });
    const firstGpsSeq = Math.min(...page.documents.map((d) => d.seq));
    expect(reportRow!.seq).toBeLessThan(firstGpsSeq);
    expect(result.requests).toBeLessThanOrEqual(3); // the GPS backlog goes in large batches
  });

  it('the end of an offline shift: one wake-up when coverage returns drains it all, the 3 reports first, then 5,760 points in 3 pushes', async () => {
    const db = await queue();
    // 8 hours at a point per 5 s, then three reports finalized at the end of the shift.
    for (let i = 0; i < 5760; i += 720) {
      await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), Array.from({ length: 720 }, (_, j) => ({
        newDocumentState: { ...newGpsPoint(TENANT, 'M1', i + j), rev: '1-tab.shift', _deleted: false },
      })));
    }
    const reports = [1, 2, 3].map((n) => epcr({ status: 'finalized', narrative: { text: `report ${n} of the shift` } }));
    for (const report of reports) await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    let online = false;
    const pushes: { collection: string; rows: number }[] = [];
    const link: typeof fetch = async (input, init) => {
      if (!online) throw new TypeError('Failed to fetch');
      const url = String(input instanceof Request ? input.url : input);
      const rows = await bodyRows(init) as unknown[];
      pushes.push({ collection: /\/api\/sync\/([a-z_]+)\/push/.exec(url)![1]!, rows: rows.length });
      return fetch(input, init);
    };
    // No retry timer: only the wake-ups below run it.
    const outbound = new OutboundQueue({ db, fetch: link, autoRetry: false });
    expect((await outbound.deliver()).stoppedBy).toBe('network');
    expect((await summarizeQueue(db)).total).toBe(5763);

    // Coverage returns: one wake-up (the browser's sync event, a page's kick) drains it all.
    online = true;
    const result = await outbound.deliver();
    expect(result).toMatchObject({ delivered: 5763, requests: 4, rejected: 0 });
    expect(result.stoppedBy).toBeUndefined();
    expect(pushes).toEqual([
      { collection: 'epcrs', rows: 3 },
      { collection: 'gps_points', rows: 2000 }, { collection: 'gps_points', rows: 2000 }, { collection: 'gps_points', rows: 1760 },
    ]);
    expect((await summarizeQueue(db)).total).toBe(0);
    const stored = await server.app.store.getDocuments('epcrs', TENANT, reports.map((r) => r.id));
    const page = await server.app.store.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq: 0, limit: 10_000 });
    const shiftPoints = page.documents.filter((d) => (JSON.parse(d.json) as { rev: string }).rev === '1-tab.shift');
    expect(shiftPoints).toHaveLength(5760);
    expect(Math.max(...stored.map((d) => d.seq))).toBeLessThan(Math.min(...shiftPoints.map((d) => d.seq)));
  });

  it('while a push travels the next batch is read ahead, but another writer\'s later row of a document on the wire waits for its answer', async () => {
    const db = await queue();
    const points = Array.from({ length: 2001 }, (_, i) => ({ ...newGpsPoint(TENANT, 'M1', i), rev: '1-tab.first', _deleted: false }));
    await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), points.slice(0, 2000).map((p) => ({ newDocumentState: p })), Date.now(), { userId: 'medic-a' });
    // A shared tablet: the next user changes a point that is in the first push, then one more new point.
    const changed = { ...points[5]!, lat: 12.5, rev: '2-tab.second' };
    await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), [{ newDocumentState: changed }, { newDocumentState: points[2000]! }], Date.now(), { userId: 'medic-b' });
    const pushes: { ids: string[]; answeredAt?: number; sentAt: number }[] = [];
    let clock = 0;
    const recording: typeof fetch = async (input, init) => {
      const rows = await bodyRows(init) as { newDocumentState: { id: string } }[];
      const push: { ids: string[]; answeredAt?: number; sentAt: number } = { ids: rows.map((r) => r.newDocumentState.id), sentAt: ++clock };
      pushes.push(push);
      const response = await fetch(input, init);
      push.answeredAt = ++clock;
      return response;
    };
    const result = await deliverOutbox({ db, fetch: recording });
    expect(result).toMatchObject({ delivered: 2002, rejected: 0 });
    const first = pushes.findIndex((p) => p.ids.includes(changed.id));
    const second = pushes.findIndex((p, i) => i > first && p.ids.includes(changed.id));
    expect(first).toBe(0);
    expect(second).toBeGreaterThan(first);
    // Queue order per document: the second user's row left only after the first one's was answered.
    expect(pushes[second]!.sentAt).toBeGreaterThan(pushes[first]!.answeredAt!);
    expect(pushes.flatMap((p) => p.ids).filter((id) => id === points[2000]!.id)).toHaveLength(1);
    expect((await summarizeQueue(db)).total).toBe(0);
  });

  it('many edits of one report while it waits travel as one row with the newest state', async () => {
    const db = await queue();
    let doc = epcr({ narrative: { text: 'v0' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...doc, _deleted: false } }]);
    for (let i = 1; i <= 20; i++) {
      const next = epcr({ narrative: { text: `v${i}` } }, doc);
      await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: { ...doc, _deleted: false }, newDocumentState: { ...next, _deleted: false } }]);
      doc = next;
    }
    expect((await summarizeQueue(db)).total).toBe(1);
    const result = await deliverOutbox({ db });
    expect(result.requests).toBe(1);
    expect((await serverDoc('epcrs', doc.id))?.['rev']).toBe(doc.rev);
  });

  it('a replay that conflicts with newer server state is merged with the shared merge function; both edits survive', async () => {
    const db = await queue();
    const original = epcr({ patient: { firstName: 'Ana' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...original, _deleted: false } }]);
    await deliverOutbox({ db });
    // Another crew member's edit reaches the server first.
    const theirs = epcr({ narrative: { text: 'their narrative' } }, original);
    const r = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ assumedMasterState: { ...original, _deleted: false }, newDocumentState: { ...theirs, _deleted: false } }]),
    });
    expect(r.status).toBe(200);
    // This device edited another section offline, based on the original.
    const mine = epcr({ patient: { firstName: 'Ana', lastName: 'Reyes' } }, original);
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: { ...original, _deleted: false }, newDocumentState: { ...mine, _deleted: false } }]);
    await deliverOutbox({ db });
    await deliverOutbox({ db });
    const final = await serverDoc('epcrs', original.id) as Epcr;
    expect(final.narrative?.text).toBe('their narrative');
    expect(final.patient?.lastName).toBe('Reyes');
    expect((await summarizeQueue(db)).total).toBe(0);
  });

  it('with conflicts=merge the server resolves a conflicting replay in one request, with the shared merge function', async () => {
    const original = epcr({ patient: { firstName: 'Ana' } });
    const put = (rows: unknown[], query = '') => fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}${query}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
    });
    expect((await put([{ newDocumentState: { ...original, _deleted: false } }])).status).toBe(200);
    const theirs = epcr({ narrative: { text: 'their narrative' } }, original);
    expect((await put([{ assumedMasterState: { ...original, _deleted: false }, newDocumentState: { ...theirs, _deleted: false } }])).status).toBe(200);
    const mine = epcr({ patient: { firstName: 'Ana', lastName: 'Reyes' } }, original);
    const response = await put([{ assumedMasterState: { ...original, _deleted: false }, newDocumentState: { ...mine, _deleted: false } }], '&conflicts=merge');
    expect(await response.json()).toEqual([]);
    const final = await serverDoc('epcrs', original.id) as Epcr;
    expect(final.narrative?.text).toBe('their narrative');
    expect(final.patient?.lastName).toBe('Reyes');
    expect(final.rev).toMatch(/^3-m/);
  });

  it('a change to a finalized report is refused by rule: set aside with the reason, saved as an addendum, not resent', async () => {
    const db = await queue();
    const report = epcr({ narrative: { text: 'complete' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    await deliverOutbox({ db });
    // The server locks it (as its finalize hook does).
    await server.app.store.writeBatch({
      collection: 'epcrs', tenantId: TENANT, actor: { kind: 'hook', tenantId: TENANT },
      requests: [{ id: report.id, incoming: { _deleted: false }, decide: () => ({ action: 'write', doc: { ...report, status: 'finalized', lockedAt: '2026-11-22T14:02:00-05:00', rev: nextRevision(report.rev, 'srv.lock'), _deleted: false } }) }],
    });
    const late = epcr({ narrative: { text: 'complete, plus a late note' } }, report);
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: { ...report, _deleted: false }, newDocumentState: { ...late, _deleted: false } }]);
    const result = await deliverOutbox({ db });
    expect(result.rejected).toBe(1);
    const summary = await summarizeQueue(db);
    expect(summary.total).toBe(0);
    expect(summary.rejected.at(-1)).toMatchObject({ id: report.id, code: 'FINALIZED' });
    expect(summary.rejected.at(-1)!.reason).toMatch(/addendum/);
    expect(((await serverDoc('epcrs', report.id)) as Epcr).narrative?.text).toBe('complete');
    expect((await server.app.store.listQuarantine(TENANT, 20)).some((q) => q.documentId === report.id)).toBe(true);
  });

  it('a row the server refuses is set aside with the reason and does not block the others', async () => {
    const db = await queue();
    const foreign = { ...epcr(), tenantId: 'agency-b', _deleted: false };
    const good = { ...epcr({ narrative: { text: 'fine' } }), _deleted: false };
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: foreign }]);
    const gps = { ...newGpsPoint(TENANT, 'M1', 1), rev: '1-tab.q', _deleted: false };
    await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), [{ newDocumentState: gps }]);
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: good }]);
    const result = await deliverOutbox({ db });
    expect(result.rejected).toBe(1);
    const summary = await summarizeQueue(db);
    expect(summary.total).toBe(0);
    expect(summary.rejected).toHaveLength(1);
    expect(summary.rejected[0]).toMatchObject({ id: foreign.id, code: 'TENANT_MISMATCH' });
    expect(summary.rejected[0]!.reason).toMatch(/own agency/);
    expect(await serverDoc('epcrs', good.id)).toBeDefined();
    expect(await serverDoc('gps_points', gps.id)).toBeDefined();
  });
});

describe('a replay after the server built on the first delivery', () => {
  it('a finalize whose answer was lost is not resolved again after the hook locked the report', async () => {
    const db = await queue();
    const report = epcr({ status: 'finalized', narrative: { text: 'final' } });
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    let cut = true;
    const losingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (cut) {
        cut = false;
        // Before the device hears back, the server's finalize hook builds on the report.
        await server.app.store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: { kind: 'hook', tenantId: TENANT },
          requests: [{ id: report.id, incoming: { _deleted: false }, decide: () => ({ action: 'write', doc: { ...report, lockedAt: '2026-11-22T14:02:00-05:00', rev: nextRevision(report.rev, 'srv.lock'), _deleted: false } }) }],
        });
        throw new TypeError('connection reset after the request went through');
      }
      return response;
    };
    await deliverOutbox({ db, fetch: losingFetch });
    const replay = await deliverOutbox({ db, fetch: losingFetch });
    expect(replay.rejected).toBe(0);
    const summary = await summarizeQueue(db);
    expect(summary.total).toBe(0);
    expect(summary.rejected).toHaveLength(0);
    expect((await serverDoc('epcrs', report.id))?.['lockedAt']).toBe('2026-11-22T14:02:00-05:00');
    expect((await server.app.store.listQuarantine(TENANT, 50)).some((q) => q.documentId === report.id)).toBe(false);
  });
});
