/**
 * Starts an app: checks the session, registers the service worker, opens the database worker,
 * replays unsaved edits, then renders the app in the shared shell.
 */
import './styles.css';
import type { VNode } from 'preact';
import { render } from 'preact';
import type { Role } from '../../shared/protocol/index.ts';
import { replayJournal } from './autosave.ts';
import type { Database } from './db.ts';
import { protectApp, signInHere, unlockAndOpen } from './lock-screen.tsx';
import { refreshStorage, registerServiceWorker, requestPersistence } from './runtime.ts';
import { homeFor, restoreSession } from '../session/session.ts';
import type { Session } from '../session/identity.ts';
import { startQueueTriggers } from './sw-queue.ts';
import { dropEarlyDatabaseWorker } from './db-worker.ts';

export interface AppDefinition {
  /** Who may use it; others are sent to their own app. */
  roles: Role[];
  title: string;
  /** Phone layout (narrow, one column). */
  phone?: boolean;
  render(session: Session, db: Database): VNode;
}

function fatal(root: HTMLElement, html: string): void {
  root.innerHTML = `<main id="main" class="login-box"><div class="card">${html}</div></main>`;
}

export async function boot(app: AppDefinition): Promise<void> {
  const root = document.getElementById('app')!;
  registerServiceWorker();
  // Signing in here (not on the login page) keeps the key the password unwraps in this page's memory.
  const session = await restoreSession() ?? await signInHere(root, app.title);
  if (!app.roles.includes(session.user.role)) {
    dropEarlyDatabaseWorker();
    fatal(root, `<h1>${app.title}</h1><p>This app is for ${app.roles.join(' and ')} accounts; you are signed in as <strong>${session.user.role}</strong>.</p>` +
      `<p><a class="button primary" href="${homeFor(session.user.role)}">Open your app</a> <a class="button" href="/">Sign in as someone else</a></p>`);
    return;
  }
  if (app.phone) document.body.classList.add('phone');
  let db: Database;
  try {
    // The data is encrypted: the key is unwrapped with the password (asked for unless this page holds it).
    db = await unlockAndOpen(root, app.title, session, 'start');
  } catch (error) {
    console.error(error);
    fatal(root, `<h1>${app.title}</h1><p>The data on this device could not be opened: ${String((error as Error)?.message ?? error)}</p><p><a class="button" href="">Try again</a></p>`);
    return;
  }
  // App open: the service worker gets the session and delivers what waits in its queue.
  startQueueTriggers(session);
  await replayJournal().catch(() => 0);
  root.textContent = '';
  render(app.render(session, db), root);
  // Ask the browser to keep this device's data (granted silently for installed apps).
  void requestPersistence().catch(() => false);
  void refreshStorage();
  setInterval(() => void refreshStorage(), 60_000);
  (window as unknown as { fieldsync: unknown }).fieldsync = { db, session };
  // Automatic logoff: locks after inactivity; unlocking shows the app again.
  protectApp(root, app.title, session, db, (next) => {
    render(app.render(session, next), root);
    (window as unknown as { fieldsync: unknown }).fieldsync = { db: next, session };
  });
}
