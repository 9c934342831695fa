import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { createDevice, eventually } from '../../helpers/device.ts';
import { newGpsPoint } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
const PER_DEVICE = 400;

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

describe('concurrent pushes', () => {
  // Six RxDB devices in one process and 2,000 documents pushed and streamed: at load 28 the test ran
  // past vitest's default 60 s for one test, at load 41 it took 178 s; each wait is for arrival,
  // the limit only guards a hang.
  it('five devices push to one collection at once; a sixth pulling live ends with every document, none missed, none duplicated', async () => {
    const watcher = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console' }), collections: ['gps_points'] });
    await watcher.sync.awaitInSync();
    await eventually('watcher stream connected', () => watcher.sync.status$.value.connected);

    // Count every arrival on the watcher, so a duplicate delivery would show up as an extra insert.
    let inserts = 0;
    const sub = watcher.db.collections['gps_points']!.insert$.subscribe(() => { inserts++; });

    const writers = await Promise.all(Array.from({ length: 5 }, (_, i) => createDevice({
      serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt${i}`, subject: `M${i}` }),
      collections: ['gps_points'], pushBatchSize: 50,
    })));
    const expected = new Set<string>();
    // Interleave small writes on all devices so their pushes overlap on the server.
    await Promise.all(writers.map(async (w, i) => {
      for (let batch = 0; batch < PER_DEVICE / 20; batch++) {
        const points = Array.from({ length: 20 }, (_, j) => newGpsPoint(TENANT, `M${i}`, batch * 20 + j));
        for (const p of points) expected.add(p.id);
        await w.writer.bulkInsert('gps_points', points);
        await new Promise((r) => setTimeout(r, 5));
      }
    }));
    await Promise.all(writers.map((w) => w.sync.awaitInSync()));

    const total = 5 * PER_DEVICE;
    await eventually(`watcher has all ${total} points`, async () => (await watcher.db.collections['gps_points']!.count().exec()) === total);
    const ids = (await watcher.db.collections['gps_points']!.find().exec()).map((d) => d.primary);
    expect(new Set(ids)).toEqual(expected);
    expect(inserts).toBe(total);
    expect(await server.app.store.countDocuments('gps_points', TENANT)).toBe(total);

    sub.unsubscribe();
    await Promise.all([...writers.map((w) => w.close()), watcher.close()]);
  }, 300_000);
});
