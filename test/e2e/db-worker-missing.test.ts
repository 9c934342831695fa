/**
 * The database worker's script does not load (the server answers 404: a deployment that lost a
 * file, a proxy in the way): after sign-in the page says the data could not be opened and what to
 * do, instead of showing "Loading…" for ever. The app starts that worker in its first script,
 * before the app itself (client/ui/db-worker.ts), so its failure happens before anyone opens the
 * database: it must still reach the person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDevice, launchDevice, newProfileDir, removeProfileDir, textOf, waitFor, watchConsole } from './support/browser.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(3308);

describe('the database worker does not load (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { workflows: false });
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    await server.start();
  });

  afterAll(async () => {
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('after sign-in the page says the data could not be opened, not "Loading…" for ever', async () => {
    const profile = await newProfileDir();
    // No service worker: its cache would answer the script, and the page's route would not see the request.
    const ctx = await launchDevice(profile, { serviceWorkers: 'block' });
    let workerRequests = 0;
    await ctx.route(/\/assets\/db\.worker-[^/]*\.js$/, async (route) => {
      workerRequests++;
      await route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
    });
    try {
      const page = ctx.pages()[0] ?? await ctx.newPage();
      watchConsole(page, 'crew', errors);
      await page.goto(`${server.url}/?next=${encodeURIComponent('/crew/')}`);
      await page.locator('[data-testid="dev-token"] summary').click();
      await page.getByLabel('Token').fill(`dev:${TENANT}:crew:tablet-noworker:M1`);
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.waitForURL(`${server.url}/crew/**`);
      const app = page.locator('#app');
      const said = await waitFor(async () => {
        const text = await textOf(app);
        return /could not be opened/.test(text) ? text : undefined;
      }, 'the page to say the data could not be opened', 20_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; the page shows: "${await textOf(app)}"`);
      });
      console.log(`[db worker 404] the page says: ${said}`);
      expect(workerRequests).toBeGreaterThan(0);
      // It names what failed and what to do.
      expect(said).toMatch(/database worker/i);
      expect(said).toMatch(/reload|try again/i);
      expect(await page.locator('[data-testid="status-bar"]').count()).toBe(0);
    } finally {
      await closeDevice(ctx);
      await removeProfileDir(profile);
    }
  });
});
