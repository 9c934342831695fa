import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { SqliteStore } from '../../server/store/sqlite.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { createDevice, eventually } from '../helpers/device.ts';
import { newEpcr, newGpsPoint } from '../helpers/factories.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { freePort, makeDataDir } from '../helpers/server.ts';

const TENANT = 'agency-a';
const dataDir = makeDataDir('crash');
let proc: ServerProcess | undefined;
afterAll(async () => {
  await proc?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the server process is killed with SIGKILL in the middle of a stream of pushes', () => {
  it('loses no acknowledged write; the device re-sends the rest and ends equal to the server', async () => {
    const port = await freePort();
    proc = await startServerProcess({ port, dataDir });

    // Record what the server acknowledged: every row of a push answered 200 and not returned as a conflict.
    const acknowledged = new Map<string, string>();
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === 'POST' && response.ok) {
        const conflicts = (await response.clone().json()) as { id: string }[];
        const conflicted = new Set(conflicts.map((c) => c.id));
        for (const row of JSON.parse(String(init.body)) as { newDocumentState: { id: string; rev: string } }[]) {
          if (!conflicted.has(row.newDocumentState.id)) acknowledged.set(row.newDocumentState.id, row.newDocumentState.rev);
        }
      }
      return response;
    };
    const device = await createDevice({
      serverUrl: proc.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-crash', subject: 'M1' }),
      collections: ['gps_points', 'epcrs'], pushBatchSize: 50, retryTimeMs: 200, fetch: recordingFetch,
    });
    const report = newEpcr(TENANT, 'M1');
    await device.writer.insert('epcrs', report);

    const TOTAL = 3000;
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < TOTAL; i += 30) {
        await device.writer.bulkInsert('gps_points', Array.from({ length: 30 }, (_, j) => newGpsPoint(TENANT, 'M1', i + j)));
        await device.writer.update('epcrs', report.id, (d) => ({ ...d, narrative: { text: `position ${i}` } }));
        written += 30;
        await new Promise((r) => setTimeout(r, 15));
      }
    })();

    await eventually('some pushes acknowledged', () => acknowledged.size >= 600);
    await proc.kill();
    const acknowledgedAtCrash = new Map(acknowledged);
    expect(written).toBeLessThan(TOTAL); // the crash really happened mid-stream

    // The data on disk after the crash: every acknowledged write is there.
    const afterCrash = new SqliteStore({ dataDir });
    const found = await afterCrash.getDocuments('gps_points', TENANT, [...acknowledgedAtCrash.keys()]);
    const gpsAcked = [...acknowledgedAtCrash.keys()].filter((id) => id !== report.id);
    expect(found.length).toBe(gpsAcked.length);
    await afterCrash.close();

    await new Promise((r) => setTimeout(r, 500)); // the device keeps writing into the outage
    proc = await startServerProcess({ port, dataDir });
    await writing;
    await eventually('the device to drain', async () => {
      const pending = await device.sync.pending();
      return pending['gps_points'] === 0 && pending['epcrs'] === 0;
    }, 60_000);

    const check = new SqliteStore({ dataDir });
    try {
      expect(await check.countDocuments('gps_points', TENANT)).toBe(TOTAL);
      const localIds = (await device.db.collections['gps_points']!.find().exec()).map((d) => d.primary);
      expect((await check.getDocuments('gps_points', TENANT, localIds)).length).toBe(TOTAL);
      const [serverReport] = await check.getDocuments('epcrs', TENANT, [report.id]);
      const localReport = (await device.db.collections['epcrs']!.findOne(report.id).exec())!.toJSON() as Epcr;
      expect((JSON.parse(serverReport!.json) as Epcr).rev).toBe(localReport.rev);
      expect(localReport.narrative?.text).toBe(`position ${TOTAL - 30}`);
    } finally {
      await check.close();
    }
    await device.close();
  }, 180_000);
});
