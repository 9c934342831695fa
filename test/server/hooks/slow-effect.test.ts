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

describe('the hook runner', () => {
  it('runs the hooks of later changes while an earlier effect is still waiting on its partner', async () => {
    let release!: () => void;
    const partnerAnswers = new Promise<void>((resolve) => { release = resolve; });
    releases.push(release);
    const started: string[] = [];
    const done: string[] = [];
    // One effect per order: the one named "slow" waits until its partner answers.
    const notify: Workflow = {
      name: 'test-notify',
      description: 'test: tells a partner of each order (the slow one waits for its answer)',
      trigger: { collection: 'orders', when: (change) => !change.after._deleted, key: (change) => `notify:${change.id}` },
      async run(ctx, payload) {
        const order = await ctx.store.getDocuments('orders', ctx.tenantId, [payload.id]);
        const number = String((JSON.parse(order[0]!.json) as { orderNumber?: string }).orderNumber);
        started.push(number);
        if (number === 'slow') await partnerAnswers;
        done.push(number);
      },
    };
    const server = await startTestServer({ workflows: [notify], hookRunner: { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50 } });
    servers.push(server);
    const order = (orderNumber: string) => ({ id: randomUUID(), tenantId: TENANT, orderNumber, customerName: 'Elm Street Dental', status: 'open' as const });

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
});
