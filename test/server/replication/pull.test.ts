import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { createDevice, eventually } from '../../helpers/device.ts';
import { newEpcr, newGpsPoint } from '../../helpers/factories.ts';
import { make, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';

const TENANT = 'agency-a';
const crewToken = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tab', subject: 'M1' });

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

async function rawPull(collection: string, checkpoint?: unknown, limit = 1000, token = crewToken) {
  const q = new URLSearchParams({ schemaVersion: String(schemaVersionOf(collection)), limit: String(limit) });
  if (checkpoint !== undefined) q.set('checkpoint', JSON.stringify(checkpoint));
  const r = await fetch(`${server.url}/api/sync/${collection}/pull?${q}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as { documents: { id: string; rev: string }[]; checkpoint: { seq: number } };
}

describe('pull', () => {
  it('a fresh device pulls everything; a device with a checkpoint gets only what changed since', async () => {
    const writer = await createDevice({ serverUrl: server.url, token: crewToken, collections: ['epcrs', 'gps_points'] });
    const epcrs = Array.from({ length: 120 }, () => newEpcr(TENANT, 'M1'));
    await writer.writer.bulkInsert('epcrs', epcrs);
    await writer.writer.bulkInsert('gps_points', Array.from({ length: 300 }, (_, i) => newGpsPoint(TENANT, 'M1', i)));
    await writer.sync.awaitInSync();

    const fresh = await createDevice({ serverUrl: server.url, token: crewToken, collections: ['epcrs', 'gps_points'], live: false });
    await fresh.sync.awaitInSync();
    expect(await fresh.db.collections['epcrs']!.count().exec()).toBe(120);
    expect(await fresh.db.collections['gps_points']!.count().exec()).toBe(300);

    const before = await rawPull('epcrs');
    expect(before.documents).toHaveLength(120);
    const cp = before.checkpoint;

    const changedIds = epcrs.slice(0, 3).map((e) => e.id);
    for (const id of changedIds) await writer.writer.update('epcrs', id, (d) => ({ ...d, narrative: { text: 'updated' } }));
    await writer.sync.awaitInSync();

    const delta = await rawPull('epcrs', cp);
    expect(delta.documents.map((d) => d.id).sort()).toEqual([...changedIds].sort());
    expect(delta.checkpoint.seq).toBeGreaterThan(cp.seq);
    // Nothing after the newest checkpoint, and the checkpoint stays put.
    const none = await rawPull('epcrs', delta.checkpoint);
    expect(none.documents).toHaveLength(0);
    expect(none.checkpoint).toEqual(delta.checkpoint);

    await writer.close();
    await fresh.close();
  });

  it('pages in commit order with a limit, with no document missed or repeated', async () => {
    const seen: string[] = [];
    let checkpoint: { seq: number } | undefined;
    for (;;) {
      const page = await rawPull('gps_points', checkpoint, 7);
      seen.push(...page.documents.map((d) => d.id));
      checkpoint = page.checkpoint;
      if (page.documents.length < 7) break;
    }
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
  });

  it('a page is the stored documents byte for byte, in UTF-8, with its length, and its PHI read audited', async () => {
    // Its own agency: nothing the other tests wrote. Patient data in several scripts and an emoji
    // (four UTF-8 bytes, two UTF-16 units): the answer is encoded once, as bytes (issue 21).
    const tenantId = 'agency-bytes';
    const mine = [
      make.epcrs(tenantId, { unitId: 'M1', patient: { firstName: 'Ñandú', lastName: 'Żółć', age: 40 }, narrative: { text: 'Schmerz ≥ 7/10 😷, "quoted"\\ \u2028' } }),
      make.epcrs(tenantId, { unitId: 'M1', narrative: { text: '患者は胸痛を訴えた' } }),
    ];
    const other = make.epcrs(tenantId, { unitId: 'M2', narrative: { text: 'not for M1 — ü' } });
    await seed(server.app.store, 'epcrs', [mine[0]!, other, mine[1]!]);
    const stored = new Map((await server.app.store.getDocuments('epcrs', tenantId, [mine[0]!.id, mine[1]!.id, other.id])).map((d) => [d.id, d]));
    const answer = async (token: string) => {
      const r = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}&limit=5000`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(Number(r.headers.get('content-length'))).toBe(bytes.length);
      return bytes;
    };
    const expected = (ids: string[], seq: number) => Buffer.from(`{"documents":[${ids.map((id) => stored.get(id)!.json).join(',')}],"checkpoint":{"seq":${seq}}}`, 'utf8');
    const lastSeq = Math.max(...[...stored.values()].map((d) => d.seq));

    // A crew of M1: the scoped pull, filtered in SQL, sent as stored.
    const crew = devToken({ tenantId, role: 'crew', deviceId: 'tab-bytes', subject: 'M1' });
    expect((await answer(crew)).equals(expected([mine[0]!.id, mine[1]!.id], lastSeq))).toBe(true);
    // An admin: the whole agency's plain pull.
    const admin = devToken({ tenantId, role: 'admin', deviceId: 'pc-bytes', subject: 'boss' });
    expect((await answer(admin)).equals(expected([mine[0]!.id, other.id, mine[1]!.id], lastSeq))).toBe(true);

    const reads = (await server.app.store.queryAudit({ tenantId, limit: 10 })).filter((e) => e.action === 'read').sort((a, b) => a.id - b.id);
    expect(reads.map((e) => ({ role: e.actor.role, ids: e.documents?.map((d) => d.id), via: e.details?.['via'] }))).toEqual([
      { role: 'crew', ids: [mine[0]!.id, mine[1]!.id], via: 'pull' },
      { role: 'admin', ids: [mine[0]!.id, other.id, mine[1]!.id], via: 'pull' },
    ]);
  });

  it('another agency sees none of it', async () => {
    const other = devToken({ tenantId: 'agency-b', role: 'crew', deviceId: 'tab-b', subject: 'M1' });
    expect((await rawPull('epcrs', undefined, 1000, other)).documents).toHaveLength(0);
  });

  it('a live device receives a change through the stream without polling', async () => {
    const watcher = await createDevice({ serverUrl: server.url, token: crewToken, collections: ['epcrs'] });
    await watcher.sync.awaitInSync();
    await eventually('stream connected', () => watcher.sync.status$.value.connected);
    const writer = await createDevice({ serverUrl: server.url, token: crewToken, collections: ['epcrs'] });
    const doc = newEpcr(TENANT, 'M1', { narrative: { text: 'live' } });
    await writer.writer.insert('epcrs', doc);
    await eventually('the new report on the watching device', async () => (await watcher.db.collections['epcrs']!.findOne(doc.id).exec()) ?? undefined, 10_000);
    await writer.close();
    await watcher.close();
  });
});
