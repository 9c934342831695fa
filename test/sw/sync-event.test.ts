/**
 * The service worker's `sync` event (issue #14, defect 12): a failed delivery must not reject the
 * event while anything else can keep a wake-up, because Chromium answers a rejection by retrying
 * only five minutes later. Driven here on a stand-in for the worker's global scope (the browser
 * tests in test/e2e/outbox-delivery.test.ts run the real one).
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { devToken } from '../../server/auth/identity.ts';
import { nextRevision } from '../../shared/revision.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { enqueueRows, openOutboxDb, setSession, summarizeQueue, SYNC_TAG, type OutboxDb } from '../../client/queue/index.ts';
import { installOutboundQueue, type OutboundQueue } from '../../sw/queue/index.ts';
import { newEpcr } from '../helpers/factories.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-se', subject: 'M1' });

/** What the tests control of the worker's world: the network state and whether the browser takes a registration. */
const net = { onLine: true };
Object.defineProperty(globalThis, 'navigator', { value: { get onLine() { return net.onLine; } }, configurable: true });

/** A stand-in for ServiceWorkerGlobalScope: events, and a registration whose `sync.register` the test answers. */
function fakeScope(acceptRegistration: () => boolean) {
  const target = new EventTarget();
  const registered: number[] = [];
  const scope = Object.assign(target, {
    registration: {
      waiting: null,
      sync: {
        register: async () => {
          if (!acceptRegistration()) throw new DOMException('Attempted to register a sync event without a window', 'InvalidAccessError');
          registered.push(Date.now());
        },
      },
    },
  });
  /** Dispatches `sync` and returns how its waitUntil promise settled. */
  const sync = async (): Promise<'resolved' | 'rejected'> => {
    let extended: Promise<unknown> = Promise.resolve();
    const event = Object.assign(new Event('sync'), { tag: SYNC_TAG, waitUntil: (p: Promise<unknown>) => { extended = p; } });
    target.dispatchEvent(event);
    return extended.then(() => 'resolved' as const, () => 'rejected' as const);
  };
  return { scope: scope as unknown as ServiceWorkerGlobalScope, registered, sync };
}

describe('the sync event of the outbound queue', () => {
  let server: TestServer;
  let downUrl: string;
  let n = 0;
  beforeAll(async () => {
    server = await startTestServer();
    downUrl = `http://127.0.0.1:${await freePort()}`;
  });
  afterAll(async () => { await server.close(); });
  beforeEach(() => { net.onLine = true; });

  async function queueWithReport(serverUrl: string): Promise<{ db: OutboxDb; id: string }> {
    const db = await openOutboxDb(`outbox-sync-event-${++n}`);
    await setSession(db, { serverUrl, token });
    const report = { ...newEpcr(TENANT, 'M1'), narrative: { text: `sync event ${n}` }, rev: nextRevision(undefined, `tab.se${n}`) } as Epcr;
    await enqueueRows(db, 'epcrs', 0, [{ newDocumentState: { ...report, _deleted: false } }]);
    return { db, id: report.id };
  }
  const stopped = (queue: OutboundQueue) => queue.stop();

  it('offline: hands over to a fresh registration and resolves, never rejects', async () => {
    const { db } = await queueWithReport(downUrl);
    const { scope, registered, sync } = fakeScope(() => true);
    const queue = installOutboundQueue(scope, { db });
    try {
      const settled = sync();
      await new Promise((r) => setTimeout(r, 300));
      net.onLine = false; // the browser notices the link is down while the event tries
      expect(await settled).toBe('resolved');
      expect(registered.length).toBeGreaterThanOrEqual(1);
      expect((await summarizeQueue(db)).total).toBe(1);
    } finally {
      stopped(queue);
    }
  });

  it('with no window to register from, holds on while offline and delivers the moment the network returns', async () => {
    const { db, id } = await queueWithReport(downUrl);
    const { scope, registered, sync } = fakeScope(() => false);
    const queue = installOutboundQueue(scope, { db, syncEventBudgetMs: 30_000 });
    try {
      net.onLine = false;
      const settled = sync();
      await new Promise((r) => setTimeout(r, 2500));
      // Coverage returns (the server is reachable now).
      await setSession(db, { serverUrl: server.url, token });
      const back = Date.now();
      net.onLine = true;
      expect(await settled).toBe('resolved');
      console.log(`[sync event] no window, offline then online: delivered ${Date.now() - back} ms after the network returned`);
      expect(registered).toHaveLength(0);
      expect((await summarizeQueue(db)).total).toBe(0);
      expect(await server.app.store.getDocuments('epcrs', TENANT, [id])).toHaveLength(1);
    } finally {
      stopped(queue);
    }
  });

  it('with no window and no network for the whole budget, rejects, so the browser keeps the registration for its retry', async () => {
    const { db } = await queueWithReport(downUrl);
    const { scope, sync } = fakeScope(() => false);
    const queue = installOutboundQueue(scope, { db, syncEventBudgetMs: 2000 });
    try {
      expect(await sync()).toBe('rejected');
      expect((await summarizeQueue(db)).total).toBe(1);
    } finally {
      stopped(queue);
    }
  });
});
