/**
 * Each app's first script (client/apps/<app>/start.ts): starts the database worker, then loads
 * the app. Kept small: it runs before the app's code has loaded, so it imports nothing else.
 * Neither step may leave the page at "Loading…" without a word: the early start never throws
 * (db-worker.ts), and an app whose code does not load says so.
 */
import { startDatabaseWorkerEarly } from './db-worker.ts';

export function startApp(loadApp: () => Promise<unknown>): void {
  startDatabaseWorkerEarly();
  loadApp().catch((error: unknown) => {
    console.error(error);
    const root = document.getElementById('app') ?? document.body;
    const card = document.createElement('p');
    card.setAttribute('role', 'alert');
    card.style.cssText = 'padding:16px;font:18px system-ui,sans-serif';
    card.textContent = `This app did not load (${String((error as Error)?.message ?? error)}). Reload it when the device is online; nothing on this device is lost.`;
    root.replaceChildren(card);
  });
}
