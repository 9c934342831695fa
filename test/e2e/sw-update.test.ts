/**
 * A new version of the apps: the service worker installs it in the background, the app says
 * "a new version is ready" (and that reloading is safe), and reloading switches to it without
 * losing what was typed.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epcr } from '../../shared/schemas/index.ts';
import { CLIENT_DIST } from '../../server/apps/static.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, waitFor, waitForServiceWorker, watchConsole } from './support/browser.ts';
import { e2ePort, e2eWorkflows, ensureApps, offsetNow, TENANT } from './support/server.ts';

describe('app update (browser)', () => {
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureApps();
    // A private copy of the build, so "deploying" a new version touches no other test.
    clientDir = mkdtempSync(path.join(os.tmpdir(), 'fieldsync-client-'));
    cpSync(CLIENT_DIST, clientDir, { recursive: true });
    server = await startTestServer({ port: e2ePort(41), clientDir, workflows: e2eWorkflows(), hookRunner: { pollMs: 100 } });
    const incidentId = randomUUID();
    const store = server.app.store;
    const actor = { kind: 'system' as const, tenantId: TENANT, userId: 'seed' };
    const incident = { id: incidentId, tenantId: TENANT, rev: '1-seed', incidentNumber: '2026-000404', status: 'dispatched', assignedUnitId: 'M4', complaint: 'syncope', timeline: { unitNotified: offsetNow() }, _deleted: false };
    await store.writeBatch({
      collection: 'incidents', tenantId: TENANT, actor,
      requests: [{ id: incidentId, incoming: incident, decide: () => ({ action: 'write', doc: incident }) }],
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(clientDir, { recursive: true, force: true });
    if (errors.length) console.log(errors.join('\n'));
  });

  it('offers the new version and reloads into it with the typed text intact', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithToken(page, server.url, `dev:${TENANT}:crew:tablet-4:M4`, '/crew/');
    await waitForServiceWorker(page);
    const link = page.locator('[data-testid="epcr-link"]');
    await link.first().waitFor({ timeout: 20_000 });
    await link.first().click();
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill('Nakamura');
    const firstWorker = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);

    // Deploy: a changed service worker (a new build has a new precache manifest).
    appendFileSync(path.join(clientDir, 'service-worker.js'), `\n// release ${Date.now()}\n`);
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    const banner = page.getByTestId('update-banner');
    await banner.waitFor({ timeout: 20_000 });
    expect(await textOf(banner)).toContain('Reloading is safe: everything you typed is already saved on this device.');
    await screenshot(page, 'crew-update-available');

    await page.getByLabel('First name').fill('Ken');
    await Promise.all([page.waitForEvent('load', { timeout: 20_000 }), banner.getByRole('button', { name: 'Reload now' }).click()]);
    await page.getByTestId('epcr-form').waitFor();
    expect(await page.getByLabel('Last name').inputValue()).toBe('Nakamura');
    expect(await page.getByLabel('First name').inputValue()).toBe('Ken');
    expect(await page.getByTestId('update-banner').count()).toBe(0);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(firstWorker);
    const registration = await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => ({ waiting: !!r?.waiting, active: r?.active?.state })));
    expect(registration).toEqual({ waiting: false, active: 'activated' });
    const epcrId = (await page.getByTestId('epcr-form').getAttribute('data-id'))!;
    await waitFor(async () => {
      const [doc] = (await server.app.store.getDocuments('epcrs', TENANT, [epcrId])).map((d) => JSON.parse(d.json) as Epcr);
      return doc?.patient?.firstName === 'Ken' && doc.patient.lastName === 'Nakamura';
    }, 'the typed names on the server');
    await ctx.close();
  });
});
