import { describeOnFailure } from '../../helpers/diagnostics.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { Cable } from './cable.ts';
import { waitBudgetMs } from '../../helpers/wait-budget.ts';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`The browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium).`);
}

export const newProfileDir = () => mkdtemp(path.join(os.tmpdir(), 'fieldsync-e2e-'));
export const removeProfileDir = (dir: string) => rm(dir, { recursive: true, force: true });

export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A device with a profile directory: relaunching the same directory is a browser restart. */
/** `executablePath`: another way to start Chromium (e.g. inside a network namespace, support/link.ts). */
export async function launchDevice(profileDir: string, options: BrowserContextOptions & { executablePath?: string } = {}): Promise<BrowserContext> {
  requireChromium();
  return chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 }, ...options });
}

/** Pages first: a bare context close lifts the offline emulation while pages still run. */
export async function closeDevice(ctx: BrowserContext): Promise<void> {
  for (const page of ctx.pages()) await page.close({ runBeforeUnload: false }).catch(() => {});
  await ctx.close();
}

export async function goOffline(ctx: BrowserContext, cable: Cable): Promise<void> {
  await cable.cut();
  await ctx.setOffline(true);
}

export async function goOnline(ctx: BrowserContext, cable: Cable): Promise<void> {
  await cable.restore();
  await ctx.setOffline(false);
}

/** After a relaunch, re-toggle so the emulation reaches the new service worker too (only while the cable is cut). */
export async function reapplyOffline(ctx: BrowserContext): Promise<void> {
  await ctx.setOffline(false);
  await ctx.setOffline(true);
}

/** Polls until `check` holds; without a timeout, until shortly before the test's own limit (test/helpers/wait-budget.ts). */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = waitBudgetMs(15_000), everyMs = 100): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Signs in through the login page's developer-token field and waits for the app to open. */
export async function signInWithToken(page: Page, origin: string, token: string, app: string): Promise<void> {
  await page.goto(`${origin}/?next=${encodeURIComponent(app)}`);
  await page.locator('[data-testid="dev-token"] summary').click();
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.waitForURL(`${origin}${app}**`);
  await page.locator('[data-testid="status-bar"]').waitFor();
}

/** Signs in with a password on the app's own sign-in form (`origin + app`) and waits for the app to open. */
export async function signInWithPassword(page: Page, origin: string, app: string, who: { tenant: string; username: string; password: string; device: string }): Promise<void> {
  await page.goto(`${origin}${app}`);
  const signIn = page.locator('[data-testid="sign-in"]');
  await signIn.waitFor();
  await signIn.getByLabel('Agency').fill(who.tenant);
  await signIn.getByLabel('User name').fill(who.username);
  await signIn.getByLabel('Password').fill(who.password);
  await signIn.getByLabel('Device name').fill(who.device);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid="status-bar"]').waitFor({ timeout: 20_000 });
}

/**
 * Until the service worker controls the page. Its install fetches every app file first: on a
 * loaded machine that took longer than the 15 s this wait once had (crew-conflicts failed here).
 * In a set-up (no test running) 45 s, inside the set-up's own limit.
 */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: waitBudgetMs(45_000) });
}

/** Saves the visible screen (scrolled to the top, as a person opening it sees it) in test-artifacts/. */
export async function screenshot(page: Page, name: string, options: { keepScroll?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (!options.keepScroll) await page.evaluate(() => window.scrollTo(0, 0));
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Collects page errors so a test can show them when it fails. */
export function watchConsole(page: Page, label: string, sink: string[]): void {
  // The page's last messages of every kind, for a failed test's report (test/helpers/diagnostics.ts).
  const recent: string[] = [];
  const startedAt = Date.now();
  const keep = (line: string) => {
    recent.push(`+${((Date.now() - startedAt) / 1000).toFixed(1)} s ${line.slice(0, 400)}`);
    if (recent.length > 40) recent.shift();
  };
  page.on('pageerror', (error) => {
    sink.push(`[${label}] pageerror: ${error.message}`);
    keep(`pageerror: ${error.message}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') sink.push(`[${label}] console.error: ${message.text()}`);
    if (!message.text().includes('RxDB Open Core')) keep(`console.${message.type()}: ${message.text()}`);
  });
  const undescribe = describeOnFailure(`page ${label}`, async () => {
    const text = await page.locator('body').innerText({ timeout: 3000 }).catch((error: unknown) => `(no text: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
    // The status bar's state (data-queue, data-queued, ...): how the page sends and what waits.
    const bar = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="status-bar"]');
      return el ? [...el.attributes].filter((a) => a.name.startsWith('data-')).map((a) => `${a.name}=${a.value}`).join(' ') : 'none';
    }).catch(() => '?');
    return [`url ${page.url()}`, `status bar: ${bar}`, `text: ${text.replace(/\s+/g, ' ').slice(0, 1500)}`, 'console:', ...recent.map((line) => `  ${line}`)].join('\n');
  });
  page.on('close', undescribe);
}

/** Text of an element as a person reads it (trimmed). */
export const textOf = async (locator: import('playwright-core').Locator) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

/**
 * Opens a section of the ePCR form by its tab, as the crew does, and waits until it is the one
 * shown. The tabs can move under the pointer as it clicks (a refused value adds "1 not saved" to
 * another tab's badge just then): a click that landed beside the tab is made again, twice at most.
 */
export async function openSection(page: Page, anchor: string): Promise<void> {
  const tab = page.getByTestId(`section-${anchor}`);
  const shown = page.locator(`[data-testid="section-${anchor}"][aria-current="step"]`);
  for (let attempt = 1; ; attempt++) {
    await tab.click();
    try {
      await shown.waitFor({ timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}
