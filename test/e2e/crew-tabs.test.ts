/**
 * Two tabs of the crew app share one database: both show the same data as it is typed, only
 * the elected tab replicates (RxDB leader election inside the dedicated workers), nothing is
 * pushed twice, and when the syncing tab closes the other one takes over.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(31);
const CABLE_PORT = e2ePort(32);

describe('crew app in two tabs (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let browser: Browser;
  let ctx: BrowserContext;
  const errors: string[] = [];
  const incidentId = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    await server.seedAssignedCall({
      incidentId, callSign: 'M3', incidentNumber: '2026-000303', complaint: 'fall', priority: 'P3',
      address: { street: '3 Elm Ct', city: 'Media' }, timeline: { unitNotified: offsetNow(new Date(Date.now() - 900_000)) }, unitStatus: 'on_scene', incidentStatus: 'active',
    });
    await waitFor(async () => (await server.docs<Epcr>('epcrs')).length === 1, 'the ePCR stub');
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  });

  afterAll(async () => {
    await browser?.close();
    await cable?.close();
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  const roleOf = (page: Page) => page.getByTestId('status-bar').getAttribute('data-role');
  const syncSockets = () => server.server!.app.io.of('/sync').sockets.size;

  it('shows the same data in both tabs, replicates from one, and pushes each change once', async () => {
    const loginPage = await ctx.newPage();
    watchConsole(loginPage, 'login', errors);
    await loginPage.goto(`${cable.origin}/`);
    await loginPage.locator('[data-testid="dev-token"]').waitFor();
    await screenshot(loginPage, 'login');
    await signInWithToken(loginPage, cable.origin, `dev:${TENANT}:crew:tablet-3:M3`, '/crew/');
    await waitForServiceWorker(loginPage);
    const tabA = loginPage;
    const tabB = await ctx.newPage();
    watchConsole(tabB, 'tabB', errors);
    await tabB.goto(`${cable.origin}/crew/`);
    for (const tab of [tabA, tabB]) await tab.locator('[data-testid="epcr-link"]').first().waitFor({ timeout: 20_000 });

    // One leader, one follower; only the leader holds a change stream.
    await waitFor(async () => [await roleOf(tabA), await roleOf(tabB)].sort().join() === 'follower,leader', 'one syncing tab and one following');
    const leader = (await roleOf(tabA)) === 'leader' ? tabA : tabB;
    const follower = leader === tabA ? tabB : tabA;
    await waitFor(() => syncSockets() === 1, 'a single /sync socket');
    expect(await textOf(follower.getByTestId('status-bar'))).toContain('synced by another open tab');

    // Edits in either tab show in the other as they are typed.
    const epcrId = (await tabA.locator('[data-testid="epcr-link"]').first().getAttribute('data-id'))!;
    for (const tab of [tabA, tabB]) await tab.goto(`${cable.origin}/crew/#/epcr/${epcrId}`);
    await tabA.getByTestId('epcr-form').waitFor();
    await tabB.getByTestId('epcr-form').waitFor();
    await tabA.getByTestId('section-narrative').click();
    await tabA.getByLabel('Narrative').fill('Found on the kitchen floor, alert.');
    await expect.poll(() => tabB.getByLabel('Narrative').inputValue(), { timeout: 10_000 }).toBe('Found on the kitchen floor, alert.');
    await tabB.getByTestId('section-situation').click();
    await tabB.getByLabel('Chief complaint').fill('hip pain after fall');
    await expect.poll(() => tabA.getByLabel('Chief complaint').inputValue(), { timeout: 10_000 }).toBe('hip pain after fall');
    await tabB.getByTestId('section-vitals').click();
    await tabB.getByTestId('add-vitals').click();
    await expect.poll(() => tabA.locator('[data-testid="vital-set"]').count(), { timeout: 10_000 }).toBe(1);

    // Both reach the server once: every pushed revision arrives exactly once.
    for (const tab of [tabA, tabB]) {
      await expect.poll(() => tab.locator('[data-testid="epcr-form"] [data-testid="badge"]').first().getAttribute('data-state'), { timeout: 20_000 }).toBe('synced');
    }
    const [stored] = await server.docs<Epcr>('epcrs', [epcrId]);
    expect(stored?.narrative?.text).toBe('Found on the kitchen floor, alert.');
    expect(stored?.situation?.chiefComplaint).toBe('hip pain after fall');
    expect(stored?.vitals).toHaveLength(1);
    // (The push route also offers a companion addendum row per ePCR row; only the report's own rows count.)
    const revs = server.writes.filter((w) => w.collection === 'epcrs' && w.id === epcrId).map((w) => w.rev);
    expect(revs.length).toBeGreaterThan(0);
    expect(new Set(revs).size).toBe(revs.length);
    expect(server.pushRequests.get('epcrs')).toBe(revs.length);
    await screenshot(follower, 'crew-two-tabs-follower');

    // The syncing tab closes: the other takes over replication and its edits still reach the server.
    await leader.close();
    await expect.poll(() => roleOf(follower), { timeout: 20_000 }).toBe('leader');
    await follower.getByTestId('section-patient').click();
    await follower.getByLabel('Last name').fill('Moreau');
    await waitFor(async () => (await server.docs<Epcr>('epcrs', [epcrId]))[0]?.patient?.lastName === 'Moreau', 'the new leader\'s push', 20_000);
    const after = server.writes.filter((w) => w.collection === 'epcrs' && w.id === epcrId).map((w) => w.rev);
    expect(new Set(after).size).toBe(after.length);
    expect(syncSockets()).toBe(1);

    // Settings: storage use and quota are shown; night mode applies at once.
    await follower.goto(`${cable.origin}/crew/#/settings`);
    await expect.poll(() => textOf(follower.getByTestId('storage-usage')), { timeout: 10_000 }).toMatch(/used of .* available to this app/);
    await follower.getByRole('button', { name: 'Night mode' }).click();
    expect(await follower.evaluate(() => document.documentElement.dataset['theme'])).toBe('night');
    await screenshot(follower, 'crew-settings-night');
    await follower.goto(`${cable.origin}/crew/#/epcr/${epcrId}`);
    await follower.getByTestId('epcr-form').waitFor();
    await screenshot(follower, 'crew-epcr-night');
  });
});
