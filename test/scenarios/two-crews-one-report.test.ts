import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../helpers/device.ts';
import { newEpcr, offsetTime } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

async function crewPair(): Promise<[TestDevice, TestDevice]> {
  const make = (id: string) => createDevice({
    serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: id, subject: 'M1' }), collections: ['epcrs'],
  });
  return Promise.all([make(`medic-${Math.random().toString(36).slice(2, 6)}`), make(`emt-${Math.random().toString(36).slice(2, 6)}`)]);
}

async function local(device: TestDevice, id: string): Promise<Epcr> {
  return (await device.db.collections['epcrs']!.findOne(id).exec())!.toMutableJSON() as Epcr;
}

async function serverCopy(id: string): Promise<Epcr> {
  const [row] = await server.app.store.getDocuments('epcrs', TENANT, [id]);
  return JSON.parse(row!.json) as Epcr;
}

async function shareReport(a: TestDevice, b: TestDevice, report: Omit<Epcr, 'rev'>): Promise<void> {
  await a.writer.insert('epcrs', report);
  await a.sync.awaitInSync();
  await eventually('the report on the second tablet', async () => (await b.db.collections['epcrs']!.findOne(report.id).exec()) ?? undefined);
}

async function converged(a: TestDevice, b: TestDevice, id: string): Promise<Epcr> {
  return eventually('both tablets and the server to agree', async () => {
    await a.sync.awaitInSync();
    await b.sync.awaitInSync();
    const [x, y, s] = [await local(a, id), await local(b, id), await serverCopy(id)];
    return x.rev === y.rev && y.rev === s.rev ? s : undefined;
  });
}

describe('two crew members edit one report offline', () => {
  it('different sections: both edits survive on both tablets and the server', async () => {
    const [medic, emt] = await crewPair();
    const report = newEpcr(TENANT, 'M1', { patient: { firstName: 'Ana' } });
    await shareReport(medic, emt, report);
    await medic.goOffline();
    await emt.goOffline();

    await medic.writer.update('epcrs', report.id, (d) => ({
      ...d,
      patient: { ...d.patient, lastName: 'Reyes', age: 54 },
      vitals: [{ id: 'v-medic', takenAt: offsetTime(), heartRate: 110, systolic: 90 }],
    }));
    await emt.writer.update('epcrs', report.id, (d) => ({
      ...d,
      narrative: { text: 'Found patient seated, alert, complaining of chest pain.' },
      vitals: [{ id: 'v-emt', takenAt: offsetTime(), heartRate: 104, spo2: 95 }],
      medications: [{ id: 'm1', givenAt: offsetTime(), medication: 'Aspirin 324 mg' }],
    }));

    medic.goOnline();
    await medic.sync.awaitInSync();
    emt.goOnline();
    const final = await converged(medic, emt, report.id);

    expect(final.patient).toMatchObject({ firstName: 'Ana', lastName: 'Reyes', age: 54 });
    expect(final.narrative?.text).toContain('chest pain');
    expect(final.vitals?.map((v) => v.id).sort()).toEqual(['v-emt', 'v-medic']);
    expect(final.medications?.[0]?.medication).toBe('Aspirin 324 mg');
    expect(final.conflicts ?? []).toHaveLength(0);
    expect(await local(medic, report.id)).toEqual(await local(emt, report.id));
    await Promise.all([medic.close(), emt.close()]);
  });

  it('the same field: both converge to one winner and the other value is kept in the conflict history', async () => {
    const [medic, emt] = await crewPair();
    const report = newEpcr(TENANT, 'M1');
    await shareReport(medic, emt, report);
    await medic.goOffline();
    await emt.goOffline();

    await medic.writer.update('epcrs', report.id, (d) => ({ ...d, patient: { ...d.patient, lastName: 'Smith' } }));
    await emt.writer.update('epcrs', report.id, (d) => ({ ...d, patient: { ...d.patient, lastName: 'Smyth' } }));

    medic.goOnline();
    await medic.sync.awaitInSync();
    emt.goOnline();
    const final = await converged(medic, emt, report.id);

    // The server's commit order decides: the value that reached it first stays.
    expect(final.patient?.lastName).toBe('Smith');
    const lost = final.conflicts?.find((c) => c.path === 'patient.lastName');
    expect(lost).toBeDefined();
    expect(JSON.parse(lost!.lostValueJson!)).toBe('Smyth');
    expect(await local(medic, report.id)).toEqual(await local(emt, report.id));
    await Promise.all([medic.close(), emt.close()]);
  });
});
