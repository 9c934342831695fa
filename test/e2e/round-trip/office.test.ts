/**
 * Round trip of every input of the field-service office (Chromium): the new-order form, found by
 * its declarations, each input given a value derived from its declaration and read back from the
 * server with an admin pull; the order list's "Complete order" button; for every typed input, a
 * value it must refuse: a message at the field, no order created, nothing sent.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithToken, watchConsole } from '../support/browser.ts';
import { e2ePort, TENANT } from '../support/server.ts';
import {
  adminPull, census, enter, findInputs, messageAt, mismatches, refusedValue, report, settle, undeclared, validValue, valueAt, type Planned,
  type RoundTripServer,
} from './support.ts';
import { closeRoundTrip, openRoundTrip, withSignedInPage } from './rig.ts';

const PORT = e2ePort(2520);

describe('round trip: field-service office (browser)', () => {
  let server: RoundTripServer;
  let browser: Browser;
  let ctx: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    ({ server, browser, ctx } = await openRoundTrip(PORT));
  }, 180_000);

  afterAll(() => closeRoundTrip({ server, browser, ctx }, errors));

  const orders = () => adminPull(server.url, 'orders');

  async function openNewOrder(page: Page) {
    await page.getByTestId('new-order').click();
    const form = page.getByTestId('new-order-form');
    await form.waitFor();
    return form;
  }

  it('every input of the new-order form and the complete button reach the server; refused values are shown and never sent', async () => {
    const page = await ctx.newPage();
    watchConsole(page, 'office', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:office:office-rt`, '/office/');
    await page.getByTestId('order-table').waitFor();
    const main = page.locator('main');

    let form = await openNewOrder(page);
    const found = (await findInputs(main)).filter((i) => !i.excluded);
    const plans: Planned[] = found.filter((i) => i.path).map((input, n) => validValue(input, n, new Date()));
    for (const plan of plans) await enter(page, plan);
    const numberPlan = plans.find((p) => p.input.path === 'orderNumber');
    expect(numberPlan, 'the form has an order number').toBeDefined();
    await form.getByRole('button', { name: 'Create order' }).click();
    await page.getByTestId('order-table').waitFor();
    const created = async () => (await orders()).find((d) => d['orderNumber'] === numberPlan!.expected);
    const formProblems = await settle('office: new order values the server does not hold', async () => mismatches(await created(), plans));
    expect.soft(formProblems, 'every value of the new-order form on the server').toEqual([]);
    expect(await created()).toMatchObject({ status: 'open', source: 'office' });
    const orderId = String((await created())?.['id']);

    // The list: the order's "Complete order" button.
    const row = page.locator(`[data-testid="order-row"][data-id="${orderId}"]`);
    await row.waitFor();
    const actions = (await findInputs(row)).filter((i) => !i.excluded && i.kind === 'action');
    expect(actions.map((a) => a.value)).toEqual(['completed']);
    for (const action of actions) await page.locator(action.selector).first().click();
    const pressProblems = await settle('office: complete order', async () => {
      const status = valueAt(await created(), 'status');
      return status === 'completed' ? [] : [`status is ${JSON.stringify(status)}, expected "completed"`];
    });
    expect.soft(pressProblems, '"Complete order" on the server').toEqual([]);

    expect.soft(undeclared(found).map((i) => `${i.tag} "${i.label}"`), 'inputs without a record declaration (client/ui/record-field.ts)').toEqual([]);
    report('office', found.length + actions.length, plans.length + actions.length);
    expect.soft(plans.length, 'covered = found').toBe(found.length);

    // Refused values: one per typed input of the form.
    const problems: string[] = [];
    let k = 0;
    for (const target of plans.filter((p) => ['text', 'number'].includes(p.kind))) {
      const refusal = refusedValue(target.input, k++);
      if (!refusal) continue;
      form = await openNewOrder(page);
      const stamp = `RTX${k}`;
      for (const plan of plans) await enter(page, { ...plan, typed: plan.input.path === 'orderNumber' ? stamp : plan.typed });
      await enter(page, { input: refusal.input, typed: refusal.typed, kind: 'text' });
      await form.getByRole('button', { name: 'Create order' }).click();
      let outcome: 'refused' | 'created' | undefined;
      await expect.poll(async () => {
        if (await page.getByTestId('order-table').isVisible()) outcome = 'created';
        else if ((await messageAt(page, refusal.input)) !== '') outcome = 'refused';
        return outcome;
      }, { timeout: 15_000 }).toBeDefined();
      if (outcome === 'created') {
        problems.push(`${target.input.path} ("${target.input.label}"): ${refusal.why}: the order was created anyway`);
        continue;
      }
      await page.getByRole('button', { name: 'Cancel' }).click();
    }
    const leaked = server.deviceWrites.filter((w) => w.collection === 'orders' && String(w.doc['orderNumber'] ?? '').startsWith('RTX'));
    expect.soft(leaked.map((w) => String(w.doc['orderNumber'])), 'no order with a refused value reached the server').toEqual([]);
    expect.soft(problems, 'a refused value is shown at its field and never reaches the server').toEqual([]);
  }, 240_000);

  it('every screen of the office, for each role that uses it, declares what each of its inputs edits', async () => {
    for (const role of ['office', 'admin']) {
      await withSignedInPage({ browser, server }, { token: `dev:${TENANT}:${role}:census-office-${role}`, app: '/office/', label: role }, errors, async (page) => {
        const found = await census(page);
        console.log(`round-trip: office (${role}): screens ${found.screens.join(', ')}; ${found.undeclared.length} inputs without a declaration`);
        expect(found.screens.length).toBe(2);
        expect.soft(found.undeclared, `${role}: inputs that declare neither a record field nor notARecordField`).toEqual([]);
      });
    }
  }, 180_000);
});
