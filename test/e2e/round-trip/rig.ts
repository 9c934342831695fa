/**
 * What every round-trip file runs its walks in: the apps built, a round-trip server, one browser
 * and a context in the round trip's time zone (desktop size unless the app is used on a phone).
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { closeDevice, launchBrowser, signInWithToken, watchConsole } from '../support/browser.ts';
import { ensureApps } from '../support/server.ts';
import { ROUND_TRIP_ZONE, startRoundTripServer, type RoundTripServer } from './support.ts';

export interface RoundTripRig {
  server: RoundTripServer;
  browser: Browser;
  ctx: BrowserContext;
}

const DESKTOP: BrowserContextOptions = { timezoneId: ROUND_TRIP_ZONE, viewport: { width: 1280, height: 900 } };

/**
 * Starts the rig on `port`: `seed` writes what the walk starts from before any page opens;
 * `context` changes the context's options (a phone's size). What started is closed again when a
 * later step fails.
 */
export async function openRoundTrip(port: number, options: { seed?: (server: RoundTripServer) => Promise<void>; context?: BrowserContextOptions } = {}): Promise<RoundTripRig> {
  await ensureApps();
  const server = await startRoundTripServer(port);
  let browser: Browser | undefined;
  try {
    await options.seed?.(server);
    browser = await launchBrowser();
    const ctx = await browser.newContext({ ...DESKTOP, ...options.context });
    return { server, browser, ctx };
  } catch (error) {
    await closeRoundTrip({ server, browser }, []);
    throw error;
  }
}

/** Closes what a rig started (the pages first, then the context, the browser, the server) and prints what the pages logged as errors. */
export async function closeRoundTrip(rig: Partial<RoundTripRig>, errors: string[]): Promise<void> {
  if (rig.ctx) {
    await closeDevice(rig.ctx).catch(() => {});
    await rig.ctx.close().catch(() => {});
  }
  await rig.browser?.close();
  await rig.server?.dispose();
  if (errors.length) console.log(errors.slice(0, 30).join('\n'));
}

/**
 * Runs `use` on a page of a fresh desktop context signed in with `token` to `app` (a role's own
 * sign-in, beside the rig's context), what it logs as errors going to `errors` under `label`;
 * the context is closed after, whatever `use` did.
 */
export async function withSignedInPage<T>(
  rig: Pick<RoundTripRig, 'browser' | 'server'>, sign: { token: string; app: string; label: string }, errors: string[], use: (page: Page) => Promise<T>,
): Promise<T> {
  const context = await rig.browser.newContext(DESKTOP);
  try {
    const page = await context.newPage();
    watchConsole(page, sign.label, errors);
    await signInWithToken(page, rig.server.url, sign.token, sign.app);
    return await use(page);
  } finally {
    await context.close();
  }
}
