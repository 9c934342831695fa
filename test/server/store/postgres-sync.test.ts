import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { Epcr, GpsPoint } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import { newEpcr, newGpsPoint, offsetTime } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from './fixtures.ts';

const TENANT = 'agency-a';
const schemas = new PgSchemas();
let server: TestServer;

describe.skipIf(SKIP_POSTGRES)('replication on PostgresStore', () => {
  beforeAll(async () => {
    const { store } = await schemas.openStore({ max: 8 });
    server = await startTestServer({ store });
  });
  afterAll(async () => {
    await server?.close(); // closes the store
    await schemas.dropAll();
  });

  async function count(device: TestDevice, collection: 'epcrs' | 'gps_points'): Promise<number> {
    return device.db.collections[collection]!.count().exec();
  }

  async function local(device: TestDevice, id: string): Promise<Epcr> {
    return (await device.db.collections['epcrs']!.findOne(id).exec())!.toMutableJSON() as Epcr;
  }

  it('two tablets sync ePCRs and GPS points both ways through the server', async () => {
    expect(server.app.store.kind).toBe('postgres');
    const make = (id: string) => createDevice({
      serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: id, subject: 'M1' }), collections: ['epcrs', 'gps_points'],
    });
    const [medic, emt] = await Promise.all([make('pg-medic'), make('pg-emt')]);
    await Promise.all([medic.sync.awaitInSync(), emt.sync.awaitInSync()]);

    // Medic → EMT: a report and a stretch of positions.
    const report = newEpcr(TENANT, 'M1', { patient: { firstName: 'Ana' } });
    await medic.writer.insert('epcrs', report);
    const medicPoints: Omit<GpsPoint, 'rev'>[] = Array.from({ length: 60 }, (_, i) => newGpsPoint(TENANT, 'M1', i));
    await medic.writer.bulkInsert('gps_points', medicPoints);
    await medic.sync.awaitInSync();
    await eventually('the report and points on the EMT tablet', async () => (await count(emt, 'epcrs')) === 1 && (await count(emt, 'gps_points')) === 60);

    // EMT → medic: an edit of the same report and more positions.
    await emt.writer.update('epcrs', report.id, (d) => ({
      ...d,
      narrative: { text: 'Found patient seated, alert, complaining of chest pain.' },
      vitals: [{ id: 'v1', takenAt: offsetTime(), heartRate: 104, spo2: 95 }],
    }));
    await emt.writer.bulkInsert('gps_points', Array.from({ length: 40 }, (_, i) => newGpsPoint(TENANT, 'M1', 100 + i)));
    await emt.sync.awaitInSync();
    await eventually('the edit and points on the medic tablet', async () => {
      const onMedic = await local(medic, report.id);
      return onMedic.narrative?.text?.includes('chest pain') && (await count(medic, 'gps_points')) === 100;
    });

    // Both tablets and the server hold the same report, at the same revision.
    const [row] = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
    const onServer = JSON.parse(row!.json) as Epcr;
    const [a, b] = [await local(medic, report.id), await local(emt, report.id)];
    expect(a.rev).toBe(onServer.rev);
    expect(b.rev).toBe(onServer.rev);
    expect(onServer.patient?.firstName).toBe('Ana');
    expect(onServer.vitals?.[0]?.heartRate).toBe(104);
    expect(await server.app.store.countDocuments('gps_points', TENANT)).toBe(100);
    const medicIds = new Set((await medic.db.collections['gps_points']!.find().exec()).map((d) => d.primary));
    const emtIds = new Set((await emt.db.collections['gps_points']!.find().exec()).map((d) => d.primary));
    expect(medicIds).toEqual(emtIds);
    expect(await server.app.store.verifyAudit()).toMatchObject({ ok: true });
    await Promise.all([medic.close(), emt.close()]);
  });
});
