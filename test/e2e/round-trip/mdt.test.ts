/**
 * Round trip of every input of the MDT (Chromium). The MDT writes through buttons (unit status,
 * acknowledge): each declares the record field it writes (client/ui/record-field.ts), and each
 * press must reach the server, read back with an admin pull. Any input, select or textarea on the
 * screen must declare its field as well, and is walked like a form field.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithToken, watchConsole } from '../support/browser.ts';
import { e2ePort, offsetNow, TENANT } from '../support/server.ts';
import {
  adminDoc, enter, findInputs, messageAt, mismatches, refusedValue, report, seed, settle, undeclared, validValue, valueAt, type FoundInput,
  type Planned, type Refusal, type RoundTripServer,
} from './support.ts';
import { closeRoundTrip, openRoundTrip } from './rig.ts';

const PORT = e2ePort(63);
const UNIT_ID = '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c91';
const INCIDENT_ID = '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c92';
const OFFSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

describe('round trip: MDT (browser)', () => {
  let server: RoundTripServer;
  let browser: Browser;
  let ctx: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    ({ server, browser, ctx } = await openRoundTrip(PORT, {
      seed: async (rt) => {
        await seed(rt, 'units', [{ id: UNIT_ID, callSign: 'RT7', status: 'available', statusAt: offsetNow(), currentIncidentId: INCIDENT_ID }]);
        await seed(rt, 'incidents', [{
          id: INCIDENT_ID, incidentNumber: 'RT-MDT-1', status: 'dispatched', complaint: 'fall', priority: 'P2', assignedUnitId: 'RT7',
          address: { street: '1 Test Way', city: 'Springfield' }, timeline: { psapCall: offsetNow(), unitNotified: offsetNow() },
          // A note from dispatch, so the MDT's "Mark notes read" is walked too.
          dispatchNotes: [{ id: 'rt-note-1', text: 'Round trip note', by: 'dispatch' }],
        }]);
      },
      context: { viewport: { width: 1280, height: 800 } },
    }));
  }, 180_000);

  afterAll(() => closeRoundTrip({ server, browser, ctx }, errors));

  it('every status button and the acknowledgement reach the server', async () => {
    const page = await ctx.newPage();
    watchConsole(page, 'mdt', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:mdt-rt:RT7`, '/mdt/');
    await page.locator('[data-testid="unit-status"][data-status="available"]').waitFor({ timeout: 20_000 });
    await page.getByTestId('assignment').getByText('RT-MDT-1').waitFor();
    const main = page.locator('main');
    const found = (await findInputs(main)).filter((i) => !i.excluded);

    // Form fields first (typed or picked, then one pull), then the buttons one press at a time:
    // each press overwrites the field the previous one wrote, so each is read back before the next.
    const fields = found.filter((i) => i.path && i.kind !== 'action');
    const fieldPlans: Planned[] = fields.map((input, n) => validValue(input, n, new Date()));
    for (const plan of fieldPlans) await enter(page, plan);
    const problems: string[] = [];
    for (const plan of fieldPlans) {
      problems.push(...await settle(`mdt: ${plan.input.path}`, async () => mismatches(await adminDoc(server.url, plan.input.collection!, plan.input.doc!), [plan]), 15_000));
    }
    // A typed field (none today) must refuse one value: a message at the field, never sent.
    const refusals = fieldPlans.map((p, k) => refusedValue(p.input, k)).filter((r): r is Refusal => r !== undefined);
    const writesBefore = server.deviceWrites.length;
    for (const refusal of refusals) {
      await enter(page, { input: refusal.input, typed: refusal.typed, kind: 'text' });
      const shown = await expect.poll(() => messageAt(page, refusal.input), { timeout: 5_000 }).not.toBe('').then(() => true, () => false);
      if (!shown) problems.push(`${refusal.input.path} ("${refusal.input.label}"): ${refusal.why}: no message at the field`);
    }
    for (const refusal of refusals) {
      if (server.deviceWrites.slice(writesBefore).some((w) => valueAt(w.doc, refusal.input.path!) === refusal.typed)) problems.push(`${refusal.input.path}: the refused value reached the server`);
      await enter(page, fieldPlans.find((p) => p.input === refusal.input)!);
    }
    const actions = found.filter((i) => i.path && i.kind === 'action');
    // In the call's own order: the acknowledgement first, the unit's statuses up to the one that
    // ends its part in the call ("available"), the call's own buttons (transport completed), and
    // "available" last, since the assignment and its buttons leave the screen with it.
    const rank = (a: FoundInput) => (a.path === 'assignmentAcknowledgedAt' ? 0 : a.collection === 'units' && a.value === 'available' ? 3 : a.collection === 'units' ? 1 : 2);
    actions.sort((a, b) => rank(a) - rank(b));
    let covered = fieldPlans.length;
    for (const action of actions) {
      expect(action.doc, `${action.label}: the button names the document it writes`).toBeTruthy();
      // A press that writes what the server already holds would prove nothing.
      const before = valueAt(await adminDoc(server.url, action.collection!, action.doc!), action.path!);
      // data-value is the attribute's text: a boolean field holds true for "true".
      const holds = (value: unknown) => value === action.value || (typeof value !== 'string' && JSON.stringify(value) === action.value);
      if (action.value !== undefined ? holds(before) : before !== undefined) problems.push(`"${action.label}": the server already held ${JSON.stringify(before)} before the press; reorder the walk`);
      await page.locator(action.selector).first().click();
      const check = async (): Promise<string[]> => {
        const value = valueAt(await adminDoc(server.url, action.collection!, action.doc!), action.path!);
        if (action.value !== undefined) return holds(value) ? [] : [`"${action.label}": ${action.path} is ${JSON.stringify(value)}, expected ${JSON.stringify(action.value)}`];
        return typeof value === 'string' && OFFSET_TIME.test(value) ? [] : [`"${action.label}": ${action.path} is ${JSON.stringify(value)}, expected the time of the press`];
      };
      const left = await settle(`mdt: ${action.label}`, check, 15_000);
      problems.push(...left);
      covered++;
    }
    const all: FoundInput[] = found;
    expect.soft(undeclared(all).map((i) => `${i.tag} "${i.label}"`), 'inputs without a record declaration (client/ui/record-field.ts)').toEqual([]);
    report('mdt', all.length, covered, `${actions.length} buttons, ${fieldPlans.length} fields, ${refusals.length} refused values`);
    expect(all.length).toBeGreaterThan(0);
    expect.soft(covered, 'covered = found').toBe(all.length);
    expect.soft(problems, 'every press on the server').toEqual([]);
  }, 180_000);
});
