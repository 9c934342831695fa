import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { launchDevice, newProfileDir, signInWithToken, watchConsole } from './browser.ts';
import { type E2eServer, ensureApps, NEMSIS_DIR, TENANT } from './server.ts';
import { tearDownDevice } from './teardown.ts';

/** A crew tablet: its own profile (relaunching it is a browser restart), its context and its crew app page. */
export interface CrewTablet {
  profile: string;
  ctx: BrowserContext;
  page: Page;
}

/**
 * Starts a server that checks each finalize against the NEMSIS XSD and the national Schematron
 * (`new E2eServer(port, { nemsisCheck: true })`), with the apps built. The national rules are
 * compiled first, once per machine (cached by their hash), so no finalize waits for the compile.
 */
export async function startNationalCheckServer(server: E2eServer): Promise<void> {
  await sharedSchematronValidator({ nemsisDir: NEMSIS_DIR }).ready();
  await ensureApps();
  await server.start();
}

/**
 * Opens a crew tablet in the agency's time zone (America/New_York unless `context` says another)
 * and signs `crew` ("<device>:<unit>", e.g. "tablet-n1:M1") in to the crew app; what its page logs
 * as errors goes to `errors`. `prepare` runs on the context before the page opens (to route its
 * requests). A tablet that fails to open is closed and its profile removed before the error is thrown.
 */
export async function openCrewTablet(serverUrl: string, crew: string, errors: string[], options: { context?: BrowserContextOptions; prepare?: (ctx: BrowserContext) => Promise<unknown> } = {}): Promise<CrewTablet> {
  const profile = await newProfileDir();
  let ctx: BrowserContext | undefined;
  try {
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York', ...options.context });
    await options.prepare?.(ctx);
    const page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, serverUrl, `dev:${TENANT}:crew:${crew}`, '/crew/');
    return { profile, ctx, page };
  } catch (error) {
    await tearDownDevice({ ctx, profile });
    throw error;
  }
}
