/**
 * The queue in a dead zone (issue #14, defect 12): the device says "online", a connection opens,
 * and no answer ever comes. A push must give up by itself and be retried soon, or the queue
 * waits for an answer that never comes.
 */
import 'fake-indexeddb/auto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, setSession, summarizeQueue } from '../../client/queue/index.ts';
import { deliverOutbox, retryDelayMs } from '../../sw/queue/index.ts';
import { newEpcr } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-dz', subject: 'M1' });

describe('the outbound queue in a dead zone', () => {
  let server: TestServer;
  /** Accepts connections and never answers: the edge of coverage. */
  let silent: net.Server;
  const held = new Set<net.Socket>();
  beforeAll(async () => {
    server = await startTestServer();
    silent = net.createServer((socket) => {
      held.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    held.forEach((s) => s.destroy());
    silent.close();
    await server.close();
  });

  it('gives up on a push that is never answered, keeps it, and delivers it once data flows again', async () => {
    const db = await openOutboxDb('outbox-dead-zone');
    const silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    await setSession(db, { serverUrl: silentUrl, token });
    const report = { ...newEpcr(TENANT, 'M1'), narrative: { text: 'finalized at the edge of coverage' }, rev: nextRevision(undefined, 'tab.dz1') } as Epcr;
    await enqueueRows(db, 'epcrs', 0, [{ newDocumentState: { ...report, _deleted: false } }]);

    const stalled = await deliverOutbox({ db, requestTimeoutMs: () => 300 });
    expect(stalled.stoppedBy).toBe('network');
    expect(stalled.error).toBe('server unreachable (no answer within 0.3 s)');
    expect((await summarizeQueue(db)).total).toBe(1);
    expect(held.size).toBeGreaterThan(0);

    // Data flows again (the same server, reachable now), with the product's own request time
    // limit: 0.3 s is for the silent server above; a real server on a loaded machine may take
    // longer than that to answer, which is no dead zone.
    await setSession(db, { serverUrl: server.url, token });
    const back = await deliverOutbox({ db });
    expect(back).toMatchObject({ delivered: 1 });
    expect(back.stoppedBy).toBeUndefined();
    const [row] = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
    expect((JSON.parse(row!.json) as Epcr).narrative?.text).toBe('finalized at the edge of coverage');
  });

  it('retries an unreachable server within 5 s however long it has failed (a busy server: 30 s)', () => {
    const slowest = () => 1;
    expect([1, 2, 3, 4, 10, 1000].map((n) => retryDelayMs(n, 'network', slowest))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    expect(retryDelayMs(1000, 'server', slowest)).toBe(30_000);
    expect(retryDelayMs(1000, 'network', () => 0)).toBe(2500);
  });
});
