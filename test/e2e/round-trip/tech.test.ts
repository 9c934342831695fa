/**
 * Round trip of every input of the technician app (Chromium): the job's fields and status
 * buttons, found by their declarations, each read back from the server with an admin pull. For
 * every typed field, a value it must refuse: a message at the field, "Complete job" refused while
 * the field holds it, and the value never reaches the server.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithToken, watchConsole } from '../support/browser.ts';
import { e2ePort, TENANT } from '../support/server.ts';
import {
  adminDoc, enter, findInputs, messageAt, mismatches, refusedValue, report, seed, settle, undeclared, validValue, valueAt, type Planned, type Refusal,
  type RoundTripServer,
} from './support.ts';
import { closeRoundTrip, openRoundTrip } from './rig.ts';

const PORT = e2ePort(64);
const JOB_ID = '7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d01';

describe('round trip: technician (browser)', () => {
  let server: RoundTripServer;
  let browser: Browser;
  let ctx: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    ({ server, browser, ctx } = await openRoundTrip(PORT, {
      seed: (rt) => seed(rt, 'jobs', [{
        id: JOB_ID, status: 'assigned', assigneeId: 'tech-rt', kind: 'installation', customer: { name: 'Round Trip Clinic' },
        serviceAddress: { street: '2 Test Way', city: 'Camden', zip: '08101' },
        // The job's checklist (from the agency's data) and a part row, as "Add part" makes it: their inputs are walked too.
        checklist: [{ id: 'c1', label: 'Equipment mounted' }, { id: 'c2', label: 'Service tested' }],
        parts: [{ id: 'p-rt', quantity: 1 }],
      }]),
      context: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
    }));
  }, 180_000);

  afterAll(() => closeRoundTrip({ server, browser, ctx }, errors));

  it('every field and status button of a job reaches the server; a refused value blocks completing the job', async () => {
    const page = await ctx.newPage();
    watchConsole(page, 'tech', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:technician:phone-rt:tech-rt`, '/tech/');
    await page.locator(`[data-testid="job"][data-id="${JOB_ID}"]`).click();
    const detail = page.getByTestId('job-detail');
    await detail.waitFor();
    const job = () => adminDoc(server.url, 'jobs', JOB_ID);
    const found = (await findInputs(detail)).filter((i) => !i.excluded);

    // Fields: typed, then one pull.
    const fieldPlans: Planned[] = found.filter((i) => i.path && i.kind !== 'action').map((input, n) => validValue(input, n, new Date()));
    for (const plan of fieldPlans) await enter(page, plan);
    const fieldProblems = await settle('tech: values the server does not hold', async () => mismatches(await job(), fieldPlans));
    expect.soft(fieldProblems, 'every typed value on the server').toEqual([]);

    // Buttons one press at a time; the one that ends the job ("completed") last, after the refused values.
    const actions = found.filter((i) => i.path && i.kind === 'action');
    const finishing = actions.filter((a) => a.value === 'completed');
    const problems: string[] = [];
    const pressAndCheck = async (action: (typeof actions)[number]) => {
      // A press that writes what the server already holds would prove nothing.
      if (valueAt(await job(), action.path!) === action.value) problems.push(`"${action.label}": the server already held ${JSON.stringify(action.value)} before the press`);
      await page.locator(action.selector).first().click();
      problems.push(...await settle(`tech: ${action.label}`, async () => {
        const value = valueAt(await job(), action.path!);
        return value === action.value ? [] : [`"${action.label}": ${action.path} is ${JSON.stringify(value)}, expected ${JSON.stringify(action.value)}`];
      }, 15_000));
    };
    for (const action of actions.filter((a) => !finishing.includes(a))) await pressAndCheck(action);

    // Refused values: a message at the field; completing the job is refused; never on the server.
    const refusals = fieldPlans.map((p, k) => refusedValue(p.input, k)).filter((r): r is Refusal => r !== undefined);
    const writesBefore = server.deviceWrites.length;
    for (const refusal of refusals) {
      await enter(page, { input: refusal.input, typed: refusal.typed, kind: 'text' });
      const shown = await expect.poll(() => messageAt(page, refusal.input), { timeout: 5_000 }).not.toBe('').then(() => true, () => false);
      expect.soft(shown, `${refusal.input.label}: ${refusal.why}: a message at the field`).toBe(true);
    }
    if (refusals.length && finishing[0]) {
      // A disabled button is a refusal too, when it says why.
      if (await page.locator(finishing[0].selector).first().isEnabled()) await page.locator(finishing[0].selector).first().click();
      let outcome: 'refused' | 'sent' | undefined;
      await expect.poll(async () => {
        if ((await job())?.['status'] === 'completed') outcome = 'sent';
        else if (await detail.evaluate((el) => [...el.querySelectorAll('[role="alert"]')].some((a) => !a.closest('.field')))) outcome = 'refused';
        return outcome;
      }, { timeout: 15_000 }).toBeDefined();
      expect.soft(outcome, '"Complete job" is refused while a field holds a value the form refused').toBe('refused');
      if (outcome === 'sent') console.log('round-trip: tech: the job was completed with a refused value on screen; the server kept the previous text');
    }
    const leaked = refusals.filter((r) => server.deviceWrites.slice(writesBefore).some((w) => w.id === JOB_ID && valueAt(w.doc, r.input.path!) === r.typed));
    expect.soft(leaked.map((r) => `${r.input.path}: ${r.why}`), 'a refused value never reaches the server').toEqual([]);
    expect.soft(mismatches(await job(), fieldPlans), 'the server keeps the previous values').toEqual([]);

    // Put the valid values back and finish the job.
    if ((await job())?.['status'] !== 'completed') {
      for (const plan of fieldPlans) await enter(page, plan);
      for (const action of finishing) await pressAndCheck(action);
    } else {
      for (const action of finishing) problems.push(...(valueAt(await job(), action.path!) === action.value ? [] : [`"${action.label}" not on the server`]));
    }
    expect.soft(mismatches(await job(), fieldPlans), 'the completed job holds what was typed').toEqual([]);

    expect.soft(undeclared(found).map((i) => `${i.tag} "${i.label}"`), 'inputs without a record declaration (client/ui/record-field.ts)').toEqual([]);
    const covered = fieldPlans.length + actions.length;
    report('tech', found.length, covered, `${actions.length} buttons, ${fieldPlans.length} fields, ${refusals.length} refused values`);
    expect(found.length).toBeGreaterThan(0);
    expect.soft(covered, 'covered = found').toBe(found.length);
    expect.soft(problems, 'every press on the server').toEqual([]);
  }, 180_000);
});
