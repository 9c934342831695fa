/**
 * A technician's phone on a cable the test can cut, against a real server: the set-up the
 * attachment tests of the technician app share (a phone-sized Chromium context, the job screen
 * opened with the service worker running).
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchBrowser, signInWithToken, waitForServiceWorker, watchConsole } from './browser.ts';
import { createHttpCable, type HttpCable } from './http-cable.ts';
import { E2eServer, ensureApps, TENANT } from './server.ts';

export const PHONE_CONTEXT = { timezoneId: 'America/New_York', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } as const;

export class TechPhone {
  readonly server: E2eServer;
  readonly errors: string[] = [];
  /** The technician's development token (its phone's device id and its assignee id). */
  readonly token: string;
  browser!: Browser;
  ctx!: BrowserContext;
  cable!: HttpCable;

  constructor(serverPort: number, private readonly cablePort: number, device: string, readonly tech: string) {
    this.server = new E2eServer(serverPort, { cablePorts: [cablePort] });
    this.token = `dev:${TENANT}:technician:${device}:${tech}`;
  }

  /** The server, the cable, what `prepare` seeds, then the browser. */
  async start(prepare: (server: E2eServer) => Promise<void>): Promise<void> {
    await ensureApps();
    await this.server.start();
    this.cable = await createHttpCable(this.cablePort, this.server.port);
    await prepare(this.server);
    this.browser = await launchBrowser();
    this.ctx = await this.browser.newContext(PHONE_CONTEXT);
  }

  /** Signed in through the cable, the service worker running, the job's screen open at its attachments. */
  async openJob(jobId: string): Promise<{ page: Page; attachments: Locator }> {
    const page = await this.ctx.newPage();
    watchConsole(page, 'tech', this.errors);
    await signInWithToken(page, this.cable.origin, this.token, '/tech/');
    await waitForServiceWorker(page);
    await page.locator(`[data-testid="job"][data-id="${jobId}"]`).click();
    const attachments = page.getByTestId('job-attachments');
    await attachments.waitFor();
    return { page, attachments };
  }

  async dispose(): Promise<void> {
    await this.ctx?.close().catch(() => {});
    await this.browser?.close();
    await this.cable?.close();
    await this.server.dispose();
    if (this.errors.length) console.log(this.errors.join('\n'));
  }
}
