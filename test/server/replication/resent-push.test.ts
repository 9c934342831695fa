/**
 * A push delivered twice (the service worker aborted it after the server had stored it, then sent
 * it again): the second copy must change nothing — no second merge, no second conflict entry, no
 * second write — whatever its now-stale assumedMasterState says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { WireDocument } from '../../../server/store/types.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';

const TENANT = 'agency-resent';
const tokenA = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-a', subject: 'M1' });
const tokenB = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-b', subject: 'M1' });
const V = epcrSchema.version;

type Doc = WireDocument & { id: string; rev: string; conflicts?: { path: string; resolvedBy?: string; resolvedAt?: string }[]; narrative?: { text?: string } };

async function push(server: TestServer, token: string, rows: { assumedMasterState?: Doc; newDocumentState: Doc }[], merge = false): Promise<Doc[]> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}${merge ? '&conflicts=merge' : ''}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(rows),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Doc[];
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`a push delivered twice is stored once (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    beforeAll(async () => {
      server = storeKind === 'postgres' ? await startTestServer({ store: (await schemas.openStore()).store }) : await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
      await schemas.dropAll();
    });

    const stored = async (id: string) => JSON.parse((await server.app.store.getDocuments('epcrs', TENANT, [id]))[0]!.json) as Doc;
    const writes = async (id: string) => (await server.app.store.queryAudit({ tenantId: TENANT, documentId: id, limit: 1000 }))
      .filter((e) => e.action === 'write' && e.collection === 'epcrs' && e.documents?.some((d) => d.id === id)).length;

    /** Two tablets edit the narrative from the same state; B's edit reaches the server as a queued replay (merged there). */
    async function conflictingNarratives(): Promise<{ base: Doc; fromB: Doc }> {
      const base = { ...newEpcr(TENANT, 'M1'), rev: '1-tablet_a.r0', _deleted: false } as unknown as Doc;
      await push(server, tokenA, [{ newDocumentState: base }]);
      await push(server, tokenA, [{ assumedMasterState: base, newDocumentState: { ...base, narrative: { text: 'Text from A.' }, rev: '2-tablet_a.r1' } }]);
      const fromB = { ...base, narrative: { text: 'Text from B.' }, rev: '2-tablet_b.r1' };
      return { base, fromB };
    }

    it('a queued replay the server merged, sent again with the same assumed master, is not merged a second time', async () => {
      const { base, fromB } = await conflictingNarratives();
      await push(server, tokenB, [{ assumedMasterState: base, newDocumentState: fromB }], true);
      const merged = await stored(base.id);
      expect(merged.conflicts?.filter((c) => c.path === 'narrative.text')).toHaveLength(1);
      const writesBefore = await writes(base.id);

      await push(server, tokenB, [{ assumedMasterState: base, newDocumentState: fromB }], true);
      const after = await stored(base.id);
      expect(after.rev).toBe(merged.rev);
      expect(after.conflicts?.filter((c) => c.path === 'narrative.text')).toHaveLength(1);
      expect(await writes(base.id)).toBe(writesBefore);
    });

    it('a conflict resolution sent twice, the second time after another write and with the now-stale assumed master, is recorded once', async () => {
      const { base, fromB } = await conflictingNarratives();
      await push(server, tokenB, [{ assumedMasterState: base, newDocumentState: fromB }], true);
      const merged = await stored(base.id);
      // Tablet B combines the two texts and marks the conflict resolved.
      const resolution: Doc = {
        ...merged, narrative: { text: 'Combined.' }, rev: `${Number(merged.rev.split('-')[0]) + 1}-tablet_b.r2`,
        conflicts: merged.conflicts!.map((c) => (c.path === 'narrative.text' ? { ...c, resolvedBy: 'crew@tablet-b', resolvedAt: '2026-12-07T10:00:00.000-05:00' } : c)),
      };
      await push(server, tokenB, [{ assumedMasterState: merged, newDocumentState: resolution }], true);
      // Tablet A writes on top of it before the second copy arrives.
      const onA = { ...(await stored(base.id)), patient: { firstName: 'Ana' }, rev: `${Number(resolution.rev.split('-')[0]) + 1}-tablet_a.r3` } as Doc;
      await push(server, tokenA, [{ assumedMasterState: await stored(base.id), newDocumentState: onA }]);
      const writesBefore = await writes(base.id);

      await push(server, tokenB, [{ assumedMasterState: merged, newDocumentState: resolution }], true);
      const after = await stored(base.id);
      expect(after.rev).toBe(onA.rev);
      expect(after.conflicts?.filter((c) => c.path === 'narrative.text')).toHaveLength(1);
      expect(after.conflicts?.filter((c) => c.resolvedBy === 'crew@tablet-b').map((c) => c.path)).toEqual(['narrative.text']);
      expect(await writes(base.id)).toBe(writesBefore);
    });
  });
}
