/**
 * Issue 14, defect 6: when the server stops accepting a device's sign-in (its refresh token ran
 * out or was ended), the app says so — not "Server unreachable" — and signing in again happens in
 * the open app: the work typed meanwhile is sent, the live stream comes back, nobody is signed out.
 * (Before: the banner's "Sign in" opened the login page, which said "Signed in" because the session
 * was still on the device, and the app went on saying "Server unreachable".)
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/schemas/index.ts';
import { closeDevice, launchDevice, signInWithPassword, newProfileDir, removeProfileDir, screenshot, textOf, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(461);
const USERNAME = 'dispatcher-seven';
const PASSWORD = 'Staple-Lantern-Orbit-7';

describe('signing in again after the session ended (browser)', () => {
  const server = new E2eServer(SERVER_PORT);
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    profile = await newProfileDir();
    await server.server!.app.auth.createUser(TENANT, { username: USERNAME, password: PASSWORD, role: 'dispatcher', displayName: 'Dana Dispatch' });
  });

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const pill = (page: Page) => page.locator('[data-testid="connectivity"]');

  async function createIncident(page: Page, incidentNumber: string): Promise<void> {
    await page.locator('[data-testid="new-incident"]').click();
    const form = page.locator('[data-testid="new-incident-form"]');
    await form.getByLabel('Incident number').fill(incidentNumber);
    await form.getByLabel('Complaint').fill('fall, hip pain');
    await form.getByRole('button', { name: 'Create incident' }).click();
    await page.locator(`[data-testid="incident-row"][data-incident="${incidentNumber}"]`).waitFor();
  }

  it('names the expired sign-in, signs in again in place, and sends what waited', async () => {
    ctx = await launchDevice(profile);
    const page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'dispatch', errors);
    await signInWithPassword(page, server.url, '/dispatch/', { tenant: TENANT, username: USERNAME, password: PASSWORD, device: 'console-7' });
    await waitForServiceWorker(page);
    await expect.poll(() => textOf(pill(page)), { timeout: 20_000 }).toBe('Online');
    await createIncident(page, 'R-0001');
    await expect.poll(async () => (await server.docs<Incident>('incidents')).map((i) => i.incidentNumber), { timeout: 20_000 }).toContain('R-0001');

    // A second tab of the console (the first one syncs for both).
    const other = await ctx.newPage();
    watchConsole(other, 'dispatch-tab-2', errors);
    await other.goto(`${server.url}/dispatch/`);
    await other.locator('[data-testid="status-bar"]').waitFor({ timeout: 20_000 });
    await other.locator('[data-testid="incident-row"][data-incident="R-0001"]').waitFor({ timeout: 20_000 });

    // The server ends the session (as when its refresh token ran out or was revoked): every token of it is refused.
    // (The device keeps its tokens sealed, issue 17: the session is found by its sign-in in the audit log.)
    const signIn = (await server.server!.app.store.queryAudit({ tenantId: TENANT, limit: 100 }))
      .find((entry) => entry.action === 'login' && entry.actor.kind === 'device' && entry.actor.deviceId === 'console-7');
    const sessionId = String(signIn?.details?.['sessionId'] ?? '');
    expect(await server.server!.app.auth.logout(sessionId, { tenantId: TENANT, role: 'dispatcher', deviceId: 'console-7', userId: signIn!.actor.userId! })).toBe(true);
    // The server closes the session's live stream: the console says why at once, before anything fails to send.
    await expect.poll(() => pill(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('signed-out');

    // Work goes on; the new incident cannot be sent.
    await createIncident(page, 'R-0002');
    // The server answered (it refused the sign-in): the status says so, not "unreachable".
    await expect.poll(() => pill(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('signed-out');
    const banner = page.getByRole('alert').filter({ hasText: 'Sign in again to keep syncing' });
    await banner.waitFor({ timeout: 5000 });
    expect(await textOf(pill(page))).toBe('Sign-in expired');
    expect(await textOf(page.locator('[data-testid="status-bar"]'))).not.toMatch(/unreachable|Cannot reach/i);
    await screenshot(page, 'session-reauth-expired');

    // The sign-in page does not claim "Signed in" with a session the server no longer takes.
    const login = await ctx.newPage();
    await login.goto(`${server.url}/?next=${encodeURIComponent('/dispatch/')}`);
    await login.locator('[data-testid="signed-in-expired"]').waitFor({ timeout: 10_000 });
    expect(await textOf(login.locator('[data-testid="signed-in-expired"]'))).toContain('Your sign-in has expired');
    expect(await login.locator('[data-testid="signed-in"]').count()).toBe(0);
    await login.close();

    // "Sign in" asks for the password right here, in either tab (here the one that does not sync); the app stays open.
    await expect.poll(() => pill(other).getAttribute('data-state'), { timeout: 20_000 }).toBe('signed-out');
    const otherBanner = other.getByRole('alert').filter({ hasText: 'Sign in again to keep syncing' });
    await otherBanner.getByRole('button', { name: 'Sign in' }).click();
    const reauth = other.locator('[data-testid="reauth"]');
    await reauth.waitFor({ timeout: 5000 });
    await reauth.getByLabel('Password').fill('not-the-password-1');
    await reauth.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => textOf(other.locator('[data-testid="reauth-error"]'))).toContain('password is wrong');
    await reauth.getByLabel('Password').fill(PASSWORD);
    await reauth.getByRole('button', { name: 'Sign in' }).click();

    // Syncing resumes in both tabs with no sign-out: the waiting incident reaches the server, the live stream is back.
    await otherBanner.waitFor({ state: 'detached', timeout: 15_000 });
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(async () => (await server.docs<Incident>('incidents')).map((i) => i.incidentNumber), { timeout: 30_000 }).toContain('R-0002');
    await expect.poll(() => textOf(pill(page)), { timeout: 20_000 }).toBe('Online');
    await expect.poll(() => page.locator('[data-testid="pending-count"]').getAttribute('data-count'), { timeout: 20_000 }).toBe('0');
    expect(new URL(page.url()).pathname).toBe('/dispatch/');
    // Live: a change another device makes appears without reload.
    await server.seed('incidents', [{ id: randomUUID(), incidentNumber: 'R-0003', status: 'new', timeline: {} }]);
    await page.locator('[data-testid="incident-row"][data-incident="R-0003"]').waitFor({ timeout: 15_000 });
    await other.locator('[data-testid="incident-row"][data-incident="R-0003"]').waitFor({ timeout: 15_000 });
    expect(await textOf(pill(other))).toBe('Online');
    await screenshot(page, 'session-reauth-resumed');
    await other.close();
  }, 180_000);

  it('a sign-in that ran out: "Sign-in expired", signing in again in place, the waiting change is sent', async () => {
    // Access tokens for 3 s, refresh tokens for 6 s: a device left alone for longer must sign in again.
    const short = new E2eServer(e2ePort(462), { auth: { accessTokenTtlSeconds: 3, refreshTokenTtlSeconds: 6 } });
    const dir = await newProfileDir();
    await short.start();
    const device = await launchDevice(dir);
    try {
      await short.server!.app.auth.createUser(TENANT, { username: USERNAME, password: PASSWORD, role: 'dispatcher', displayName: 'Dana Dispatch' });
      const page = device.pages()[0] ?? await device.newPage();
      watchConsole(page, 'dispatch-expiry', errors);
      await signInWithPassword(page, short.url, '/dispatch/', { tenant: TENANT, username: USERNAME, password: PASSWORD, device: 'console-8' });
      await waitForServiceWorker(page);
      await expect.poll(() => textOf(pill(page)), { timeout: 20_000 }).toBe('Online');

      // Nobody touches the console until both tokens have run out (setup, not a measurement).
      await page.waitForTimeout(8000);
      await createIncident(page, 'X-0001');
      await expect.poll(() => pill(page).getAttribute('data-state'), { timeout: 20_000 }).toBe('signed-out');
      expect(await textOf(pill(page))).toBe('Sign-in expired');
      const banner = page.getByRole('alert').filter({ hasText: 'Sign in again to keep syncing' });
      await screenshot(page, 'session-reauth-ran-out');
      await banner.getByRole('button', { name: 'Sign in' }).click();
      const reauth = page.locator('[data-testid="reauth"]');
      await reauth.getByLabel('Password').fill(PASSWORD);
      await reauth.getByRole('button', { name: 'Sign in' }).click();
      await banner.waitFor({ state: 'detached', timeout: 15_000 });
      await expect.poll(async () => (await short.docs<Incident>('incidents')).map((i) => i.incidentNumber), { timeout: 30_000 }).toContain('X-0001');
      await expect.poll(() => textOf(pill(page)), { timeout: 20_000 }).toBe('Online');
      expect(new URL(page.url()).pathname).toBe('/dispatch/');
    } finally {
      await closeDevice(device).catch(() => {});
      await short.dispose();
      await removeProfileDir(dir);
    }
  }, 180_000);
});
