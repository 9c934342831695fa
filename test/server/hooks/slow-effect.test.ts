/**
 * A slow effect (an outbound call that waits on a slow partner) delays only its own entry: hooks
 * of changes committed while it runs take effect meanwhile. Before, the runner claimed a round of
 * entries and waited for all of them before claiming the next, so one slow geocoder or hospital
 * call held every later finalize check, job placement and ePCR stub for as long as it lasted.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Workflow } from '../../../server/hooks/types.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { systemWrite } from './support.ts';

const TENANT = 'agency-slow-effect';
const servers: TestServer[] = [];
/** Lets a held effect end, so the server can close after a failed test too. */
const releases: (() => void)[] = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const server of servers.splice(0)) await server.close();
});

/** An order numbered `orderNumber`, as the sales system writes it. */
const order = (orderNumber: string) => ({ id: randomUUID(), tenantId: TENANT, orderNumber, customerName: 'Elm Street Dental', status: 'open' as const });

/**
 * A server whose one workflow tells a partner of each order: the order numbered "slow" waits
 * until `release()` (its partner answers); one whose number is in `failOnce` fails its first run.
 */
async function serverWithSlowNotify(runner: { claimLeaseMs?: number } = {}) {
  let release!: () => void;
  const partnerAnswers = new Promise<void>((resolve) => { release = resolve; });
  releases.push(release);
  const started: string[] = [];
  const done: string[] = [];
  const failOnce = new Set<string>();
  const notify: Workflow = {
    name: 'test-notify',
    description: 'test: tells a partner of each order (the slow one waits for its answer)',
    trigger: { collection: 'orders', when: (change) => !change.after._deleted, key: (change) => `notify:${change.id}` },
    async run(ctx, payload) {
      const stored = await ctx.store.getDocuments('orders', ctx.tenantId, [payload.id]);
      const number = String((JSON.parse(stored[0]!.json) as { orderNumber?: string }).orderNumber);
      started.push(number);
      if (failOnce.delete(number)) throw new Error(`the partner refused ${number} once (made by the test)`);
      if (number === 'slow') await partnerAnswers;
      done.push(number);
    },
  };
  const server = await startTestServer({ workflows: [notify], hookRunner: { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50, ...runner } });
  servers.push(server);
  return { server, started, done, release, failOnce };
}

describe('the hook runner', () => {
  it('runs the hooks of later changes while an earlier effect is still waiting on its partner', async () => {
    const { server, started, done, release } = await serverWithSlowNotify();
    await systemWrite(server, 'orders', TENANT, order('slow') as never);
    await eventually('the slow effect started', () => started.includes('slow'));
    for (const n of ['a', 'b', 'c']) await systemWrite(server, 'orders', TENANT, order(n) as never);

    // Each later order's effect is done while the partner of the first has not answered.
    await eventually('the later effects done while the slow one waits', () => ['a', 'b', 'c'].every((n) => done.includes(n)));
    expect(done).not.toContain('slow');

    release();
    await eventually('the slow effect done once its partner answered', () => done.includes('slow'));
    expect(done.filter((n) => n === 'slow')).toHaveLength(1);
  });

  it('a claim the store refuses while an effect runs: that effect goes on and the next change\'s hook still takes effect before it ends', async () => {
    const { server, started, done, release } = await serverWithSlowNotify();
    await systemWrite(server, 'orders', TENANT, order('slow') as never);
    await eventually('the slow effect started', () => started.includes('slow'));
    // The store is away for one claim (a connection reset), as the next change arrives.
    const store = server.app.store;
    const claim = store.claimOutbox.bind(store);
    let refused = 0;
    store.claimOutbox = async (...args) => {
      if (refused++ === 0) throw new Error('connection terminated unexpectedly (made by the test)');
      return claim(...args);
    };
    await systemWrite(server, 'orders', TENANT, order('after-the-blip') as never);
    await eventually('the later effect done while the slow one waits', () => done.includes('after-the-blip'));
    expect(refused).toBeGreaterThan(1);
    expect(done).not.toContain('slow');
    release();
    await eventually('the slow effect done', () => done.includes('slow'));
  });

  it('an outcome the store cannot record (a failed effect\'s retry, the store away) neither stops the server nor loses the effect: it runs again once its claim runs out', async () => {
    const { server, done, failOnce } = await serverWithSlowNotify({ claimLeaseMs: 1_000 });
    failOnce.add('blip');
    const store = server.app.store;
    const retry = store.retryOutboxLater.bind(store);
    let refused = 0;
    store.retryOutboxLater = async (...args) => {
      if (refused++ === 0) throw new Error('connection terminated unexpectedly (made by the test)');
      return retry(...args);
    };
    await systemWrite(server, 'orders', TENANT, order('blip') as never);
    await eventually('the effect done on its next run', () => done.includes('blip'));
    expect(refused).toBe(1);
    expect(done.filter((n) => n === 'blip')).toHaveLength(1);
  });

  it('an effect that outlived its claim and was claimed again by this process is completed, not run a second time, whichever ends first', async () => {
    const { server, started, done, release } = await serverWithSlowNotify({ claimLeaseMs: 300 });
    const store = server.app.store;
    const claim = store.claimOutbox.bind(store);
    // The claim that takes the slow entry again (its lease ran out) answers only once its first
    // run has ended: the run's completion is refused (the claim is no longer its), and the runner
    // then holds the entry under a claim of its own whose effect it already did.
    let reclaimed = false;
    let slowEntry: number | undefined;
    store.claimOutbox = async (...args) => {
      const entries = await claim(...args);
      const slow = entries.find((e) => e.id === slowEntry);
      if (slowEntry === undefined) slowEntry = entries.find((e) => e.kind === 'test-notify')?.id;
      else if (slow) {
        reclaimed = true;
        release();
        await eventually('the first run ended', () => done.includes('slow'));
      }
      return entries;
    };
    await systemWrite(server, 'orders', TENANT, order('slow') as never);
    await eventually('the slow effect started', () => started.includes('slow'));
    // Changes arrive until a claim takes the slow entry again (after its 300 ms lease).
    for (let i = 0; !reclaimed; i++) {
      await systemWrite(server, 'orders', TENANT, order(`later-${i}`) as never);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await eventually('the outbox settled', async () => (await store.outboxStats(Date.now())).depth === 0);
    expect(started.filter((n) => n === 'slow')).toHaveLength(1);
    expect(done.filter((n) => n === 'slow')).toHaveLength(1);
  });
});
