/**
 * A real RxDB device whose pushes go through the service worker's outbound queue (the browsers'
 * mode), against the real server. Handing a change to the queue makes RxDB assume the server has
 * it; these tests pin down that a server state pulled while the change still waits in the queue
 * never erases what the person typed, on the device or, after delivery, on the server.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';
import { openOutboxDb, setSession, summarizeQueue, type OutboxDb } from '../../client/queue/index.ts';
import { deliverOutbox } from '../../sw/queue/index.ts';
import { createDevice, eventually, type TestDevice } from '../helpers/device.ts';
import { newEpcr } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const crewToken = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-sw', subject: 'M1' });
const otherToken = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-other', subject: 'M1' });
let server: TestServer;
let dbCount = 0;

beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

async function queue(): Promise<OutboxDb> {
  const db = await openOutboxDb(`device-queue-${++dbCount}`);
  await setSession(db, { serverUrl: server.url, token: crewToken });
  return db;
}

async function serverEpcr(id: string): Promise<Epcr | undefined> {
  const [row] = await server.app.store.getDocuments('epcrs', TENANT, [id]);
  return row ? JSON.parse(row.json) as Epcr : undefined;
}

/** Another writer (a second tablet of the crew, or a hook) changes the report on the server. */
async function pushAsOther(assumed: Epcr, next: Epcr): Promise<void> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
    method: 'POST', headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ assumedMasterState: { ...assumed, _deleted: false }, newDocumentState: { ...next, _deleted: false } }]),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual([]);
}

async function local(device: TestDevice, id: string): Promise<Epcr | undefined> {
  return (await device.db.collections['epcrs']!.findOne(id).exec())?.toJSON() as Epcr | undefined;
}

const setField = (device: TestDevice, id: string, change: (doc: Epcr) => void) =>
  device.writer.update('epcrs', id, (doc) => {
    change(doc as Epcr);
    return doc;
  });

describe('a device pushing through the service-worker queue', () => {
  it('a server change pulled while an edit waits in the queue keeps the edit on the device and on the server', async () => {
    const outbox = await queue();
    const stub = { ...newEpcr(TENANT, 'M1'), rev: nextRevision(undefined, 'server.stub') } as Epcr;
    await pushAsOther(stub, stub);
    const device = await createDevice({ serverUrl: server.url, token: crewToken, collections: ['epcrs'], outbox });
    try {
      await eventually('the stub on the device', () => local(device, stub.id));

      // The crew types the last name; it waits in the queue (the service worker has not run).
      await setField(device, stub.id, (d) => { d.patient = { ...d.patient, lastName: 'Quintavalle' }; });
      await eventually('the edit queued', async () => (await summarizeQueue(outbox)).total === 1);

      // Meanwhile the server's report changes (CAD times filled in) and reaches the device.
      const times = { ...stub, times: { unitEnRoute: '2026-11-22T10:01:00-05:00' }, rev: nextRevision(stub.rev, 'server.times') } as Epcr;
      await pushAsOther(stub, times);
      await eventually('the server change on the device', async () => (await local(device, stub.id))?.times?.unitEnRoute);
      expect((await local(device, stub.id))?.patient?.lastName, 'the typed last name, still waiting in the queue').toBe('Quintavalle');

      // More typing, then the queue is delivered.
      await setField(device, stub.id, (d) => { d.patient = { ...d.patient, firstName: 'Philomena' }; });
      await eventually('the second edit queued', async () => (await local(device, stub.id))?.patient?.firstName === 'Philomena'
        && (await summarizeQueue(outbox)).total === 1);
      await eventually('the queue delivered', async () => {
        await deliverOutbox({ db: outbox });
        return (await summarizeQueue(outbox)).total === 0;
      });

      const final = await serverEpcr(stub.id);
      expect([final?.patient?.lastName, final?.patient?.firstName, final?.times?.unitEnRoute]).toEqual(['Quintavalle', 'Philomena', '2026-11-22T10:01:00-05:00']);
      await eventually('the device holding the server state', async () => (await local(device, stub.id))?.rev === final?.rev);
      const mine = await local(device, stub.id);
      expect([mine?.patient?.lastName, mine?.patient?.firstName, mine?.times?.unitEnRoute]).toEqual(['Quintavalle', 'Philomena', '2026-11-22T10:01:00-05:00']);
    } finally {
      await device.close();
      outbox.close();
    }
  });
});
