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
import { OutboundQueue } from '../../sw/queue/index.ts';
import { eventually } from '../helpers/device.ts';
import { newEpcr } from '../helpers/factories.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-cov', subject: 'M1' });

/**
 * A link to `target` that can be cut: while `down`, every connection is reset as it opens; `up`
 * forwards; `weak` carries a HEAD but resets a request with a body (a POST), as a weak signal or
 * a captive portal does.
 */
async function cuttableLink(target: number) {
  let state: 'down' | 'up' | 'weak' = 'down';
  /** Push requests seen (forwarded or cut). */
  let posts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    if (state === 'down') {
      socket.resetAndDestroy();
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      if (!chunk.toString('latin1').startsWith('POST ')) return;
      posts++;
      if (state === 'weak') socket.resetAndDestroy();
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
    set(value: 'down' | 'up' | 'weak') { state = value; },
    get posts() { return posts; },
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

  // The backoff here never runs out within a test: a delivery can only come from the probe.
  const NEVER = () => 3_600_000;

  it('the queue notices the server answering again and delivers the waiting report without waiting out its backoff', async () => {
    const link = await cuttableLink(Number(new URL(server.url).port));
    const db = await openOutboxDb('outbox-coverage-return');
    await setSession(db, { serverUrl: link.url, token });
    const report = { ...newEpcr(TENANT, 'M1'), status: 'finalized', narrative: { text: 'finalized in the dead zone' }, rev: nextRevision(undefined, 'tab.cov1') } as Epcr;
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    await updateStatus(db, { failures: 12 });
    const queue = new OutboundQueue({ db, backoff: NEVER });
    try {
      const offline = await queue.deliver();
      expect(offline.stoppedBy).toBe('network');
      expect(await queue.retryDelay()).toBe(NEVER());

      link.set('up');
      const stored = await eventually('the report on the server', async () => {
        const [row] = await server.app.store.getDocuments('epcrs', TENANT, [report.id]);
        return row ? JSON.parse(row.json) as Epcr : undefined;
      });
      expect(stored.narrative?.text).toBe('finalized in the dead zone');
      await queue.settled();
      expect((await summarizeQueue(db)).total).toBe(0);
    } finally {
      queue.stop();
      link.close();
    }
  });

  it('on a link that answers the probe but cuts every batch, the probe starts one run, then leaves the pace to the backoff', async () => {
    const link = await cuttableLink(Number(new URL(server.url).port));
    const db = await openOutboxDb('outbox-coverage-weak');
    await setSession(db, { serverUrl: link.url, token });
    const report = { ...newEpcr(TENANT, 'M1'), status: 'finalized', rev: nextRevision(undefined, 'tab.cov2') } as Epcr;
    await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: { ...report, _deleted: false } }]);
    const queue = new OutboundQueue({ db, backoff: NEVER, probeEveryMs: 20 });
    try {
      expect((await queue.deliver()).stoppedBy).toBe('network');
      link.set('weak');
      // The probe's run reaches the link and is cut ...
      await eventually('the probe-started push', () => (link.posts >= 1 ? true : undefined));
      await eventually('the probe-started run to end', async () => (!queue.busy && (await queue.settled())?.stoppedBy === 'network' ? true : undefined));
      // ... and no other run follows while the backoff has not run out (before: one every probe, 50 a second here).
      const seen = link.posts;
      await new Promise((r) => setTimeout(r, 1000));
      expect(link.posts).toBe(seen);
      expect((await summarizeQueue(db)).total).toBe(1);
    } finally {
      queue.stop();
      link.close();
    }
  });
});
