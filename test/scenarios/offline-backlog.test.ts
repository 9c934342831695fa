import { afterAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { createDevice, eventually } from '../helpers/device.ts';
import { newEpcr, newGpsPoint, offsetTime } from '../helpers/factories.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
let server: TestServer | undefined;
afterAll(async () => { await server?.close(); });

describe('a shift written while the server is down', () => {
  it('500 ePCR edits and 2,000 GPS points all arrive exactly once when the server starts; nothing stays pending', async () => {
    const port = await freePort();
    const device = await createDevice({
      serverUrl: `http://127.0.0.1:${port}`,
      token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m1', subject: 'M1' }),
      collections: ['epcrs', 'gps_points'],
      retryTimeMs: 300,
    });

    // 25 reports, 20 edits each: vitals added one at a time and the narrative growing.
    const reports = Array.from({ length: 25 }, () => newEpcr(TENANT, 'M1'));
    await device.writer.bulkInsert('epcrs', reports);
    let edits = 0;
    for (let round = 0; round < 20; round++) {
      for (const report of reports) {
        await device.writer.update('epcrs', report.id, (d) => ({
          ...d,
          vitals: [...(d.vitals ?? []), { id: `v${round}`, takenAt: offsetTime(), heartRate: 60 + round }],
          narrative: { text: `${d.narrative?.text ?? ''} step ${round}.` },
        }));
        edits++;
      }
    }
    for (let i = 0; i < 2000; i += 100) {
      await device.writer.bulkInsert('gps_points', Array.from({ length: 100 }, (_, j) => newGpsPoint(TENANT, 'M1', i + j)));
    }
    expect(edits).toBe(500);
    await eventually('the device noticing the server is unreachable', () => device.sync.status$.value.lastError);
    expect(await device.sync.pending()).toEqual({ epcrs: 25, gps_points: 2000 });

    server = await startTestServer({ port });
    await eventually('the backlog to drain', async () => {
      const pending = await device.sync.pending();
      return pending['epcrs'] === 0 && pending['gps_points'] === 0;
    }, 60_000);
    await device.sync.awaitInSync();

    expect(await server.app.store.countDocuments('gps_points', TENANT)).toBe(2000);
    expect(await server.app.store.countDocuments('epcrs', TENANT)).toBe(25);
    const stored = await server.app.store.getDocuments('epcrs', TENANT, reports.map((r) => r.id));
    for (const row of stored) {
      const onServer = JSON.parse(row.json) as Epcr;
      const local = (await device.db.collections['epcrs']!.findOne(row.id).exec())!.toJSON() as Epcr;
      expect(onServer.rev).toBe(local.rev);
      expect(onServer.vitals).toHaveLength(20);
      expect(onServer.narrative?.text).toContain('step 19.');
    }
    expect(device.sync.status$.value.lastError).toBeUndefined();
    await device.close();
  });
});
