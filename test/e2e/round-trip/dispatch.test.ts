/**
 * Round trip of every input of the dispatch console (Chromium): the new-incident form and the
 * board's assign-unit select, found by their declarations. Each gets a value derived from its
 * declaration; the admin pull must hold it at its path. For every typed input of the form, a
 * value it must refuse: a message at the field, no incident created, nothing sent.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithToken, watchConsole } from '../support/browser.ts';
import { e2ePort, offsetNow, TENANT } from '../support/server.ts';
import {
  adminDoc, adminPull, census, enter, findInputs, messageAt, mismatches, refusedValue, report, seed, settle, undeclared, validValue, valueAt,
  type FoundInput, type Planned, type RoundTripServer,
} from './support.ts';
import { closeRoundTrip, openRoundTrip, withSignedInPage } from './rig.ts';

const PORT = e2ePort(62);

describe('round trip: dispatch console (browser)', () => {
  let server: RoundTripServer;
  let browser: Browser;
  let ctx: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    ({ server, browser, ctx } = await openRoundTrip(PORT, {
      seed: (rt) => seed(rt, 'units', [
        { id: '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a51', callSign: 'RT1', status: 'available', statusAt: offsetNow() },
        { id: '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a52', callSign: 'RT2', status: 'available', statusAt: offsetNow() },
      ]),
    }));
  }, 180_000);

  afterAll(() => closeRoundTrip({ server, browser, ctx }, errors));

  const incidents = () => adminPull(server.url, 'incidents');

  async function openNewIncident(page: Page) {
    await page.getByTestId('new-incident').click();
    const form = page.getByTestId('new-incident-form');
    await form.waitFor();
    // The unit choices come from the units this console holds.
    await expect.poll(() => form.locator('select[data-path="assignedUnitId"] option').count()).toBeGreaterThan(2);
    return form;
  }

  it('every input of the new-incident form and the board reaches the server; refused values are shown and never sent', async () => {
    const page = await ctx.newPage();
    watchConsole(page, 'dispatch', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:dispatcher:console-rt`, '/dispatch/');
    await page.getByTestId('unit-table').waitFor();
    const main = page.locator('main');

    // ---- the new-incident form ------------------------------------------------------------------
    let form = await openNewIncident(page);
    const formInputs = (await findInputs(main)).filter((i) => !i.excluded);
    const plans: Planned[] = [];
    let n = 0;
    for (const input of formInputs) {
      if (!input.path) continue;
      const plan = validValue(input, n++, new Date());
      await enter(page, plan);
      plans.push(plan);
    }
    const numberPlan = plans.find((p) => p.input.path === 'incidentNumber');
    expect(numberPlan, 'the form has an incident number').toBeDefined();
    await form.getByRole('button', { name: 'Create incident' }).click();
    await page.getByTestId('incident-table').waitFor();
    const created = async () => (await incidents()).find((d) => d['incidentNumber'] === numberPlan!.expected);
    const formProblems = await settle('dispatch: new incident values the server does not hold', async () => mismatches(await created(), plans));
    expect.soft(formProblems, 'every value of the new-incident form on the server').toEqual([]);
    const incidentId = String((await created())?.['id']);

    // ---- the board: every input of the incident's row -------------------------------------------------
    const row = page.locator('[data-testid="incident-row"]', { hasText: String(numberPlan!.expected) });
    await row.waitFor();
    const boardInputs = (await findInputs(main)).filter((i) => !i.excluded);
    const boardPlans: Planned[] = [];
    for (const input of boardInputs) {
      if (!input.path || input.doc !== incidentId) continue;
      const plan = validValue(input, n++, new Date());
      await enter(page, plan);
      boardPlans.push(plan);
    }
    const boardProblems = await settle('dispatch: board values the server does not hold', async () => mismatches(await created(), boardPlans));
    expect.soft(boardProblems, 'every value picked on the board on the server').toEqual([]);
    // Rows of other incidents would be the same inputs again; only this incident's are walked.
    const ownBoardInputs = boardInputs.filter((i) => !i.path || i.doc === incidentId);

    const found: FoundInput[] = [...formInputs, ...ownBoardInputs];
    const missingDeclaration = undeclared(found);
    expect.soft(missingDeclaration.map((i) => `${i.tag} "${i.label}"`), 'inputs without a record declaration (client/ui/record-field.ts)').toEqual([]);
    report('dispatch', found.length, plans.length + boardPlans.length);
    expect(found.length).toBeGreaterThan(0);
    expect.soft(plans.length + boardPlans.length, 'covered = found').toBe(found.length);

    // ---- refused values: one per typed input of the form ---------------------------------------------
    const problems: string[] = [];
    const notes: string[] = [];
    let k = 0;
    for (const target of plans.filter((p) => ['text', 'number'].includes(p.kind))) {
      const refusal = refusedValue(target.input, k++);
      if (!refusal) {
        notes.push(`${target.input.path}: no refused value derivable`);
        continue;
      }
      form = await openNewIncident(page);
      // Everything else valid (a fresh incident number), this one field refused.
      const stamp = `RTX${k}`;
      for (const plan of plans) {
        const typed = plan.input.path === 'incidentNumber' ? stamp : plan.typed;
        await enter(page, { ...plan, typed });
      }
      await enter(page, { input: refusal.input, typed: refusal.typed, kind: 'text' });
      const held = await page.locator(refusal.input.selector).inputValue();
      if (refusal.input.nativeMaxLength !== undefined && refusal.typed.length > refusal.input.nativeMaxLength && held.length <= refusal.input.nativeMaxLength) {
        // A silent cut is a value lost without a word: what is created must be what was typed.
        problems.push(`${target.input.path} ("${target.input.label}"): ${refusal.why}: the browser stops typing at ${refusal.input.nativeMaxLength} characters (maxlength), silently cut, no message`);
        await page.getByRole('button', { name: 'Cancel' }).click();
        continue;
      }
      await form.getByRole('button', { name: 'Create incident' }).click();
      // Either the form stays with a problem shown, or the incident was created.
      let outcome: 'refused' | 'created' | undefined;
      await expect.poll(async () => {
        if (await page.getByTestId('incident-table').isVisible()) outcome = 'created';
        else if (await form.locator('[role="alert"], .hint.bad').count() > 0 || (await messageAt(page, refusal.input)) !== '') outcome = 'refused';
        return outcome;
      }, { timeout: 15_000 }).toBeDefined();
      const createdAnyway = (await incidents()).find((d) => d['incidentNumber'] === (refusal.input.path === 'incidentNumber' ? refusal.typed.trim() : stamp));
      if (outcome === 'created' || createdAnyway) {
        problems.push(`${target.input.path} ("${target.input.label}"): ${refusal.why}: the incident was created anyway with ${JSON.stringify(valueAt(createdAnyway, target.input.path!))}`);
        if (outcome === 'created') continue;
      }
      const message = await messageAt(page, refusal.input);
      if (message === '') {
        const elsewhere = (await form.locator('[role="alert"], .hint.bad').allTextContents()).join(' ').trim();
        problems.push(`${target.input.path} ("${target.input.label}"): ${refusal.why}: no message at the field${elsewhere ? ` (the form says "${elsewhere}" below the form)` : ''}`);
      }
      await page.getByRole('button', { name: 'Cancel' }).click();
    }
    const leaked = server.deviceWrites.filter((w) => w.collection === 'incidents' && String(w.doc['incidentNumber'] ?? '').startsWith('RTX'));
    for (const w of leaked) {
      const kept = plans.find((p) => p.kind !== 'select' && p.input.path !== 'incidentNumber' && JSON.stringify(valueAt(w.doc, p.input.path!)) !== JSON.stringify(p.expected));
      if (kept) problems.push(`incident ${String(w.doc['incidentNumber'])} reached the server holding ${kept.input.path} = ${JSON.stringify(valueAt(w.doc, kept.input.path!))}`);
    }
    console.log(`round-trip: dispatch: refused values${notes.length ? `; notes:\n  ${notes.join('\n  ')}` : ''}`);
    if (problems.length) console.log(`round-trip: dispatch: refused-value problems:\n  ${problems.join('\n  ')}`);
    expect.soft(problems, 'a refused value is shown at its field and never reaches the server').toEqual([]);
  }, 240_000);

  it('the selected call\'s edit form and the note to the crew reach the server; refused values are shown and never sent', async () => {
    const id = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a60';
    await seed(server, 'incidents', [{ id, incidentNumber: 'RT-EDIT-1', status: 'new', complaint: 'fall', timeline: { psapCall: offsetNow() } }]);
    const page = await ctx.newPage();
    watchConsole(page, 'dispatch-edit', errors);
    // The context is signed in as the dispatcher already (the first walk).
    await page.goto(`${server.url}/dispatch/`);
    await page.getByTestId('unit-table').waitFor({ timeout: 30_000 });
    const row = page.locator('[data-testid="incident-row"][data-incident="RT-EDIT-1"]');
    await row.getByTestId('select-incident').click();
    const panel = page.getByTestId('call-panel');
    await panel.getByTestId('edit-call').locator('summary').click();
    const form = panel.getByTestId('edit-call-form');
    const inputs = (await findInputs(form)).filter((i) => !i.excluded);
    expect(inputs.map((i) => i.path).sort()).toEqual(['address.city', 'address.street', 'address.zip', 'complaint', 'location.lat', 'location.lng', 'priority', 'requiredCapability']);
    expect(inputs.every((i) => i.doc === id)).toBe(true);
    const plans = inputs.map((input, n) => validValue(input, 100 + n, new Date()));
    for (const plan of plans) await enter(page, plan);
    await form.getByTestId('save-call').click();
    const doc = () => adminDoc(server.url, 'incidents', id);
    expect.soft(await settle('dispatch: edited call values the server does not hold', async () => mismatches(await doc(), plans)), 'every edited value on the server').toEqual([]);

    // One refused value per typed field: shown at the field, nothing sent.
    const problems: string[] = [];
    const writesBefore = server.deviceWrites.length;
    let k = 0;
    for (const plan of plans.filter((p) => ['text', 'number'].includes(p.kind))) {
      const refusal = refusedValue(plan.input, k++);
      if (!refusal) continue;
      await enter(page, { input: refusal.input, typed: refusal.typed, kind: 'text' });
      await form.getByTestId('save-call').click();
      const shown = await expect.poll(() => messageAt(page, refusal.input), { timeout: 5_000 }).not.toBe('').then(() => true, () => false);
      if (!shown) problems.push(`${plan.input.path}: ${refusal.why}: no message at the field`);
      await enter(page, plan);
    }
    for (const w of server.deviceWrites.slice(writesBefore)) if (w.id === id) problems.push(`a refused edit reached the server: ${JSON.stringify(w.doc).slice(0, 200)}`);
    expect.soft(problems, 'a refused value is shown at its field and never reaches the server').toEqual([]);

    // The note to the crew: typed, sent, read back as one item of dispatchNotes.
    const note = panel.getByTestId('note-form').locator('textarea');
    const [noteInput] = await findInputs(panel.getByTestId('note-form'));
    expect(noteInput).toMatchObject({ collection: 'incidents', doc: id, path: 'dispatchNotes', maxLength: 1000 });
    const text = 'RT note: use the side door, patient upstairs.';
    await note.fill(text);
    await panel.getByTestId('send-note').click();
    await expect.poll(async () => ((await doc())?.['dispatchNotes'] as { text: string }[] | undefined)?.map((n) => n.text), { timeout: 20_000 }).toEqual([text]);
    // Too long: refused at the field, not sent.
    await note.fill('n'.repeat(1001));
    await panel.getByTestId('send-note').click();
    await expect.poll(() => messageAt(page, noteInput!), { timeout: 5_000 }).toContain('At most 1000 characters');
    expect(((await doc())?.['dispatchNotes'] as unknown[]).length).toBe(1);
    report('dispatch (call panel)', inputs.length + 1, plans.length + 1);
    await page.close();
  }, 240_000);

  it('every screen of the console, for each role that uses it, declares what each of its inputs edits', async () => {
    for (const role of ['dispatcher', 'biller', 'admin']) {
      await withSignedInPage({ browser, server }, { token: `dev:${TENANT}:${role}:census-${role}`, app: '/dispatch/', label: role }, errors, async (page) => {
        const found = await census(page).catch((error: unknown) => ({ screens: [], undeclared: [`the screens did not open: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`], excluded: [] }));
        console.log(`round-trip: dispatch (${role}): screens ${found.screens.join(', ') || 'none'}; ${found.undeclared.length} inputs without a declaration${found.excluded.length ? `; not record fields: ${found.excluded.join('; ')}` : ''}`);
        expect.soft(found.undeclared, `${role}: inputs that declare neither a record field nor notARecordField`).toEqual([]);
      });
    }
  }, 180_000);
});
