/**
 * The end of an offline shift (issue #21, item 2): when coverage returns, the service worker's
 * queue must start at once, not when its backoff (up to 5 s after hours of failures) runs out:
 * a finalized report is sent as soon as the network carries data again.
 * The link here is a TCP hop in front of a real server that resets every connection while
 * "out of coverage" (what a tablet's socket sees with its radio down) and forwards once it is back.
 */
import 'fake-indexeddb/auto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { nextRevision } from '../../shared/revision.ts';
import { schemaVersionOf, type Epcr } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, setSession, summarizeQueue, updateStatus } from '../../client/queue/index.ts';
import { NETWORK_RETRY_CAP_MS, OutboundQueue } from '../../sw/queue/index.ts';
import { newEpcr } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-cov', subject: 'M1' });

/** A link to `target` that can be cut: while down, every connection is reset as it opens. */
async function cuttableLink(target: number) {
  let up = false;
  /** When the first push request came through (ms since the epoch). */
  let firstPushAt: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    if (!up) {
      socket.resetAndDestroy();
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      if (firstPushAt === undefined && chunk.toString('latin1').startsWith('POST ')) firstPushAt = Date.now();
    });
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { socket.destroy(); upstream.destroy(); });
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    setUp(value: boolean) { up = value; },
    get firstPushAt() { return firstPushAt; },
    close() {
      sockets.forEach((s) => s.destroy());
      server.close();
    },
  };
}

describe('coverage returns at the end of an offline shift', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(); });
  afterAll(async () => { await server.close(); });

  it('the queue notices the server answering again and delivers the waiting report without waiting out its backoff', async () => {
    const link = await cuttableLink(Number(new URL(server.url).port));
    const db = await openOutboxDb('outbox-coverage-return');
    await setSession(db, { serverUrl: link.url, token });
    const report = { ...newEpcr(TENANT, 'M1'), status: 'finalized', narrative: { text: 'finalized in the dead zone' }, rev: nextRevision(undefined, 'tab.cov1') } as Epcr;
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    // Hours without coverage: the backoff is at its cap (half of it at least, with jitter).
    await updateStatus(db, { failures: 12 });
    const queue = new OutboundQueue({ db });
    try {
      const offline = await queue.deliver();
      expect(offline.stoppedBy).toBe('network');
      const failedAt = Date.now();
      // The retry the backoff plans comes 2.5-5 s after this failure (capped, jittered in the upper half).
      expect(await queue.retryDelay()).toBeGreaterThanOrEqual(NETWORK_RETRY_CAP_MS / 2);

      link.setUp(true);
      let stored: Epcr | undefined;
      while (!stored && Date.now() - failedAt < 15_000) {
        const [row] = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
        stored = row ? JSON.parse(row.json) as Epcr : undefined;
        if (!stored) await new Promise((r) => setTimeout(r, 20));
      }
      expect(stored?.narrative?.text).toBe('finalized in the dead zone');
      // Sent on noticing the link, before the earliest retry the backoff could have planned.
      expect(link.firstPushAt! - failedAt).toBeLessThan(NETWORK_RETRY_CAP_MS / 2);
      await queue.settled();
      expect((await summarizeQueue(db)).total).toBe(0);
    } finally {
      queue.stop();
      link.close();
    }
  });
});
