/**
 * An expired token never blocks work on the device: writes queue locally (RxDB keeps retrying),
 * and after signing in again the queue drains with nothing lost. A change the writer is no
 * longer allowed to make (the report was finalized meanwhile) is kept: quarantined, and saved as
 * a draft addendum.
 */
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFieldsyncDatabase } from '../../../client/sync/database.ts';
import { startSync } from '../../../client/sync/sync-engine.ts';
import { DocumentWriter } from '../../../client/sync/writes.ts';
import { eventually } from '../../helpers/device.ts';
import { newEpcr, newGpsPoint } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { LOCKED_AT, login, PASSWORD, stored } from '../../helpers/access.ts';

const A = 'agency-a';
const DEVICE = 'tab-offline';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ accessTokenTtlSeconds: 5 });
  await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
}, 30_000);
afterAll(async () => { await server.close(); });

describe('an expired token, offline work, and signing in again', () => {
  it('queues every write while the token is expired and drains the queue after re-login, nothing lost', async () => {
    // The app's token source: whatever the last sign-in gave.
    let current = (await login(server, A, 'medic', PASSWORD, DEVICE)).accessToken;
    const db = await createFieldsyncDatabase({
      name: `offline-${Date.now()}`, collections: ['epcrs', 'gps_points'],
      storage: getRxStorageDexie({ indexedDB, IDBKeyRange }) as never, multiInstance: false,
    });
    const sync = startSync(db, { serverUrl: server.url, getToken: () => current, collections: ['epcrs', 'gps_points'], replicationId: DEVICE, retryTimeMs: 200 });
    const writer = new DocumentWriter(db, DEVICE);
    try {
      const report = newEpcr(A, 'M1', { narrative: { text: 'initial' } });
      const toBeLocked = newEpcr(A, 'M1', { narrative: { text: 'will be finalized' }, status: 'finalized', times: { unitNotified: '2026-11-22T13:50:00-05:00' } });
      await writer.insert('epcrs', report);
      await writer.insert('epcrs', toBeLocked);
      // Signed in again just before the first sync needs it: on a loaded machine, opening the
      // database can outlast a short token, and this phase is about a token that still works.
      current = (await login(server, A, 'medic', PASSWORD, DEVICE)).accessToken;
      await sync.awaitInSync();
      expect(await stored(server.app.store, 'epcrs', A, report.id)).toBeDefined();

      // The token expires (TTL 5 s) while the crew keeps documenting: wait until its `exp` has
      // passed (whole seconds), however long the first sync took.
      const expiresAtMs = (JSON.parse(Buffer.from(current.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAtMs - Date.now()) + 1100));
      const fresh = Array.from({ length: 5 }, (_, i) => newEpcr(A, 'M1', { narrative: { text: `offline report ${i}` } }));
      await writer.bulkInsert('epcrs', fresh);
      await writer.bulkInsert('gps_points', Array.from({ length: 20 }, (_, i) => newGpsPoint(A, 'M1', i)));
      await writer.update('epcrs', report.id, (d) => ({ ...d, narrative: { text: 'updated while the token was expired' } }));
      await writer.update('epcrs', toBeLocked.id, (d) => ({ ...d, vitals: [{ id: 'late', takenAt: '2026-11-22T14:40:00-05:00', heartRate: 90 }] }));

      await eventually('the push refused for the expired token', () => /expired/i.test(sync.status$.value.lastError ?? ''), 10_000);
      const pending = await sync.pending();
      expect(pending['epcrs']).toBeGreaterThanOrEqual(7);
      expect(pending['gps_points']).toBe(20);
      expect(await server.app.store.countDocuments('epcrs', A)).toBe(2);
      // Local work was never blocked.
      expect(await db.collections['epcrs']!.count().exec()).toBe(7);

      // Meanwhile the server finalizes one report (the finalize hook's write). It stands in for the
      // hook's last step, so it plans nothing: the report must stay exactly this state.
      const lockedState = { ...(await stored(server.app.store, 'epcrs', A, toBeLocked.id))!, lockedAt: LOCKED_AT, finalizeErrors: [], rev: '3-srv.lock' };
      await server.app.store.writeBatch({
        collection: 'epcrs', tenantId: A, actor: { kind: 'hook', tenantId: A }, planOutbox: false,
        requests: [{ id: toBeLocked.id, incoming: lockedState, decide: () => ({ action: 'write', doc: lockedState }) }],
      });

      // Sign in again; RxDB's next retry uses the new token.
      current = (await login(server, A, 'medic', PASSWORD, DEVICE)).accessToken;
      await eventually('the queue drained', async () => {
        const now = await sync.pending();
        return now['epcrs'] === 0 && now['gps_points'] === 0;
      }, 20_000);
      await sync.awaitInSync();

      expect(await server.app.store.countDocuments('gps_points', A)).toBe(20);
      for (const doc of fresh) expect(await stored(server.app.store, 'epcrs', A, doc.id)).toMatchObject({ narrative: doc.narrative });
      expect(await stored(server.app.store, 'epcrs', A, report.id)).toMatchObject({ narrative: { text: 'updated while the token was expired' } });
      // The finalized report did not change; the crew's late vitals are kept twice over.
      expect(await stored(server.app.store, 'epcrs', A, toBeLocked.id)).toEqual(lockedState);
      const kept = await server.app.store.findQuarantine({ tenantId: A, collection: 'epcrs', documentIds: [toBeLocked.id], limit: 10 });
      expect(kept).toHaveLength(1);
      expect(kept[0]!.reason).toContain('finalized at 14:02');
      const addenda = (await server.app.store.pull({ collection: 'epcrs', tenantId: A, afterSeq: 0, limit: 1000 })).documents
        .map((d) => JSON.parse(d.json) as Record<string, unknown>).filter((d) => d['addendumOf'] === toBeLocked.id);
      expect(addenda).toHaveLength(1);
      expect(addenda[0]).toMatchObject({ status: 'draft', vitals: [{ id: 'late', heartRate: 90 }] });
      await eventually('the addendum on the tablet', async () => (await db.collections['epcrs']!.findOne(String(addenda[0]!['id'])).exec()) ?? undefined);
    } finally {
      await sync.stop();
      await db.close();
    }
  });
});
