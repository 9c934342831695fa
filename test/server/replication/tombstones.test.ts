import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { createDevice, eventually } from '../../helpers/device.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';

const TENANT = 'agency-a';
const token = (device: string) => devToken({ tenantId: TENANT, role: 'crew', deviceId: device, subject: 'M1' });

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

describe('deletes', () => {
  it('propagate as tombstones to a third device, and the server keeps the tombstone', async () => {
    const a = await createDevice({ serverUrl: server.url, token: token('a'), collections: ['epcrs'] });
    const b = await createDevice({ serverUrl: server.url, token: token('b'), collections: ['epcrs'] });
    const c = await createDevice({ serverUrl: server.url, token: token('c'), collections: ['epcrs'] });
    const doc = newEpcr(TENANT, 'M1', { narrative: { text: 'wrong call, created by mistake' } });
    const keep = newEpcr(TENANT, 'M1');
    await a.writer.insert('epcrs', doc);
    await a.writer.insert('epcrs', keep);
    await a.sync.awaitInSync();
    await eventually('c has both reports', async () => (await c.db.collections['epcrs']!.count().exec()) === 2);

    await b.sync.awaitInSync();
    await eventually('b has the report', async () => (await b.db.collections['epcrs']!.findOne(doc.id).exec()) ?? undefined);
    await b.writer.remove('epcrs', doc.id);
    await b.sync.awaitInSync();

    await eventually('c sees the delete', async () => (await c.db.collections['epcrs']!.findOne(doc.id).exec()) === null);
    expect(await c.db.collections['epcrs']!.count().exec()).toBe(1);

    // The server never hard-deletes: a fresh device gets the tombstone from a pull.
    const r = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`, { headers: { authorization: `Bearer ${token('x')}` } });
    const body = (await r.json()) as { documents: { id: string; _deleted: boolean }[] };
    expect(body.documents.find((d) => d.id === doc.id)?._deleted).toBe(true);
    expect(body.documents.find((d) => d.id === keep.id)?._deleted).toBe(false);

    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
