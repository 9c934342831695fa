/**
 * A service worker update that changes the queue's storage layout (version 1: a row per document;
 * version 2: a row per document and writer) takes over a queue that still holds changes: the
 * new code opens the database the old code wrote, and every row, refusal, the session and the
 * enqueue counter are still there and still delivered. fake-indexeddb stands in for the browser.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { nextRevision } from '../../../shared/revision.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { enqueueRows, getSession, openOutboxDb, OUTBOX_DB_VERSION, queuedRows, summarizeQueue, UNKNOWN_WRITER } from '../../../client/queue/index.ts';
import { deliverOutbox } from '../../../sw/queue/index.ts';
import { newEpcr, newGpsPoint } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-mig', subject: 'M1' });
let server: TestServer;
let dbCount = 0;
let writes = 0;

beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

function epcr(extra: Partial<Epcr> = {}, prev?: Epcr): Epcr {
  const base = prev ?? ({ ...newEpcr(TENANT, 'M1'), rev: '' } as Epcr);
  return { ...base, ...extra, _deleted: false, rev: nextRevision(prev?.rev, `tab.mig${++writes}`) } as Epcr;
}

/** The queue exactly as the version 1 code created it (sw/queue/outbox-db.ts before writers were in the key). */
async function openV1(name: string) {
  return openDB(name, 1, {
    upgrade(db) {
      const rows = db.createObjectStore('rows', { keyPath: ['collection', 'id'] });
      rows.createIndex('by-lane', ['lane', 'order']);
      db.createObjectStore('rejected', { keyPath: 'key', autoIncrement: true });
      db.createObjectStore('meta');
    },
  });
}

describe('the queue\'s database, version 1 to 2', () => {
  it('keeps every queued row, refusal, session and counter, and delivers the rows afterwards', async () => {
    const name = `outbox-migration-${++dbCount}`;
    const now = Date.now();
    const original = epcr({ status: 'draft' });
    const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ newDocumentState: original }]),
    });
    expect(response.status).toBe(200);
    const edited = epcr({ narrative: { text: 'written before the update' } }, original);
    const created = epcr({ patient: { lastName: 'Abara' } });
    const gps = Array.from({ length: 3 }, (_, i) => ({ ...newGpsPoint(TENANT, 'M1', i), rev: `1-gps${i}`, _deleted: false }));
    const v1Rows = [
      // A change with its writer recorded, already changed twice while waiting (version 2).
      {
        collection: 'epcrs', id: edited.id, schemaVersion: 0, lane: 0, base: original, state: edited, rev: edited.rev,
        writer: { userId: 'crew@tablet-mig' }, order: 1, version: 2, queuedAt: now - 5000, updatedAt: now - 1000,
      },
      // Rows queued with no writer (a `fieldsync:enqueue` message).
      { collection: 'epcrs', id: created.id, schemaVersion: 0, lane: 0, state: created, order: 2, version: 1, queuedAt: now - 4000, updatedAt: now - 4000 },
      ...gps.map((g, i) => ({
        collection: 'gps_points', id: g.id, schemaVersion: 0, lane: 2, state: g, writer: { userId: 'crew@tablet-mig' },
        order: 3 + i, version: 1, queuedAt: now - 3000, updatedAt: now - 3000,
      })),
    ];
    const refused = { collection: 'epcrs', id: 'refused-1', state: { id: 'refused-1' }, code: 'ACCESS_DENIED', reason: 'kept from before', at: now - 9000 };
    const session = { serverUrl: server.url, token, deviceId: 'tablet-mig' };
    const old = await openV1(name);
    for (const row of v1Rows) await old.put('rows', row);
    await old.add('rejected', refused);
    await old.put('meta', 5, 'order');
    await old.put('meta', session, 'session');
    old.close();

    // The new service worker opens the same database.
    const db = await openOutboxDb(name);
    expect(OUTBOX_DB_VERSION).toBe(3);
    expect(db.version).toBe(3);
    const migrated = await db.getAll('rows');
    expect(migrated).toHaveLength(v1Rows.length);
    for (const row of v1Rows) {
      const writerKey = row.writer?.userId ?? UNKNOWN_WRITER;
      expect(await db.get('rows', [row.collection, row.id, writerKey]), `${row.collection} ${row.id}`).toEqual({ ...row, writerKey });
    }
    expect((await db.getAll('rejected')).map(({ key: _key, ...r }) => r)).toEqual([refused]);
    expect(await getSession(db)).toEqual(session);
    expect(await db.get('meta', 'order')).toBe(5);
    const summary = await summarizeQueue(db);
    expect([summary.total, summary.waiting, summary.oldestQueuedAt]).toEqual([5, { epcrs: 2, gps_points: 3 }, now - 5000]);

    // Coalescing goes on per writer: the recorded writer's next change joins its migrated row
    // (oldest base kept), a change with no writer joins the writerless row.
    const edited2 = epcr({ narrative: { text: 'written after the update' } }, edited);
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: edited, newDocumentState: edited2 }], now, { userId: 'crew@tablet-mig' });
    const created2 = epcr({ patient: { lastName: 'Abara', firstName: 'Ngozi' } }, created);
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ assumedMasterState: created, newDocumentState: created2 }], now);
    const queued = await queuedRows(db, 'epcrs', [edited.id, created.id]);
    expect(queued.get(edited.id)?.map((r) => [r.version, r.order, r.base?.['rev'], r.state['rev']])).toEqual([[3, 1, original.rev, edited2.rev]]);
    expect(queued.get(created.id)?.map((r) => [r.version, r.order, r.writerKey, r.state['rev']])).toEqual([[2, 2, UNKNOWN_WRITER, created2.rev]]);
    expect((await summarizeQueue(db)).total).toBe(5);

    // And it all reaches the server.
    const result = await deliverOutbox({ db });
    expect(result).toMatchObject({ delivered: 5, rejected: 0 });
    const stored = await server.app.store.getDocuments('epcrs', TENANT, [edited.id, created.id]);
    const byId = new Map(stored.map((s) => [s.id, JSON.parse(s.json) as Epcr]));
    expect(byId.get(edited.id)?.narrative?.text).toBe('written after the update');
    expect(byId.get(created.id)?.patient).toEqual({ lastName: 'Abara', firstName: 'Ngozi' });
    expect(await server.app.store.getDocuments('gps_points', TENANT, gps.map((g) => g.id))).toHaveLength(3);
    expect((await summarizeQueue(db)).total).toBe(0);
    db.close();
  });

  it('an empty version 1 queue opens as the current version, and a new device gets it directly', async () => {
    const name = `outbox-migration-${++dbCount}`;
    (await openV1(name)).close();
    const upgraded = await openOutboxDb(name);
    const fresh = await openOutboxDb(`outbox-migration-${++dbCount}`);
    for (const db of [upgraded, fresh]) {
      expect(db.version).toBe(3);
      expect([...db.objectStoreNames].sort()).toEqual(['meta', 'rejected', 'rows', 'uploads']);
      expect([...db.transaction('uploads').store.indexNames]).toEqual(['by-order']);
      expect(db.transaction('rows').store.keyPath).toEqual(['collection', 'id', 'writerKey']);
      expect([...db.transaction('rows').store.indexNames]).toEqual(['by-lane']);
      db.close();
    }
  });

  it('a version 2 queue (before attachments) opens as version 3 with its rows, refusals and counter, and an empty uploads store', async () => {
    const name = `outbox-migration-${++dbCount}`;
    const v2 = await openDB(name, 2, {
      upgrade(db) {
        db.createObjectStore('rows', { keyPath: ['collection', 'id', 'writerKey'] }).createIndex('by-lane', ['lane', 'order']);
        db.createObjectStore('rejected', { keyPath: 'key', autoIncrement: true });
        db.createObjectStore('meta');
      },
    });
    const doc = epcr({ status: 'draft' });
    await v2.put('rows', { collection: 'epcrs', id: doc.id, writerKey: UNKNOWN_WRITER, schemaVersion: 0, lane: 0, state: doc, order: 7, version: 1, queuedAt: 1, updatedAt: 1 });
    await v2.put('rejected', { collection: 'epcrs', id: 'x', state: { id: 'x' }, code: 'NO_CREATE', reason: 'r', at: 1 });
    await v2.put('meta', 7, 'order');
    v2.close();
    const db = await openOutboxDb(name);
    expect(db.version).toBe(3);
    const summary = await summarizeQueue(db);
    expect([summary.total, summary.waiting, summary.rejected.length, summary.attachmentBytes]).toEqual([1, { epcrs: 1 }, 1, 0]);
    expect(await db.get('meta', 'order')).toBe(7);
    expect(await db.count('uploads')).toBe(0);
    db.close();
  });
});
