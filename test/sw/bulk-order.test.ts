import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, setSession, summarizeQueue, type OutboxDb } from '../../client/queue/index.ts';
import { deliverOutbox } from '../../sw/queue/index.ts';
import { newGpsPoint } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * The server and dispatch take the last GPS point received as a unit's position: a backlog must
 * reach the server in the order it was recorded, even when a batch of it is refused on the way.
 */
const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-order', subject: 'M1' });
let server: TestServer;
let dbCount = 0;

// A server (or the proxy in front of it) that takes bodies of at most 256 KB: a 2,000-point
// batch (about 430 KB once unzipped) is too large, 1,000 points fit.
beforeAll(async () => { server = await startTestServer({ bodyLimitBytes: 256 * 1024 }); });
afterAll(async () => { await server.close(); });

async function queue(): Promise<OutboxDb> {
  const db = await openOutboxDb(`bulk-order-${++dbCount}`);
  await setSession(db, { serverUrl: server.url, token });
  return db;
}

/** Of these points, those the server holds, in the order it committed them. */
async function serverOrder(queued: string[]): Promise<string[]> {
  const ids = new Set(queued);
  const page = await server.app.store.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq: 0, limit: 20_000 });
  return page.documents
    .filter((d) => ids.has(d.id))
    .sort((a, b) => a.seq - b.seq)
    .map((d) => d.id);
}

async function backlog(db: OutboxDb, unit: string, points: number, garbled?: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < points; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, points - i) }, (_, j) => ({
      ...newGpsPoint(TENANT, unit, i + j), ...(i + j === garbled ? { lat: 'north' } : {}), rev: '1-tab.order', _deleted: false,
    }));
    ids.push(...batch.map((p) => p.id));
    await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), batch.map((p) => ({ newDocumentState: p })));
  }
  return ids;
}

describe('a GPS backlog with a batch the server refuses', () => {
  it('a batch too large is split and the points still reach the server in the order they were recorded', async () => {
    const db = await queue();
    const queued = await backlog(db, 'M1', 5000);

    const result = await deliverOutbox({ db });
    expect(result.stoppedBy).toBeUndefined();
    expect(result.delivered).toBe(5000);
    expect((await summarizeQueue(db)).total).toBe(0);
    expect(await serverOrder(queued)).toEqual(queued);
  });

  it('a batch refused for one bad point: the point is set aside and the others still reach the server in the order they were recorded', async () => {
    const db = await queue();
    const queued = await backlog(db, 'M1', 2600, 300);

    const result = await deliverOutbox({ db });
    expect(result).toMatchObject({ delivered: 2599, rejected: 1 });
    expect(result.stoppedBy).toBeUndefined();
    const left = await summarizeQueue(db);
    expect(left.total).toBe(0);
    expect(await serverOrder(queued)).toEqual(queued.filter((_, i) => i !== 300));
  });
});
