/**
 * The app's lock: sign in in place (no session yet), unlock (after a reload, or after the
 * automatic logoff), and signing out with or without erasing this device's copy of the data.
 * The key handling itself is in client/session/ (keys.ts, lock.ts, erase.ts); this is the screens and the lock/unlock cycle.
 */
import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { isWrongDatabaseKey } from '../sync/database-key.ts';
import { flushAll, forgetJournal, replayJournal } from './autosave.ts';
import { database, openDatabase, type Database } from './db.ts';
import {
  DEFAULT_IDLE_MS, dropKey, heldKey, holdKey, IDLE_CHOICES_MINUTES, idleSetting, idleTimeoutMs, keyFromOpenTabs,
  lockOtherTabs, onLockMessage, setIdleSetting, startIdleGuard,
} from '../session/lock.ts';
import { devSessionKey, keyForUnlock, NoKeyOnDeviceError, WrongPasswordError } from '../session/keys.ts';
import { eraseLocalDatabase, journalEntries } from '../session/erase.ts';
import { peekOutboxCounts } from '../queue/index.ts';
import { databaseNameFor, forgetSessionTokens, logout, openSession } from '../session/session.ts';
import type { Session } from '../session/identity.ts';
import { PasswordSignIn } from './sign-in.tsx';

export type LockReason = 'start' | 'idle';

function Frame({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <>
      <header class="app-header"><h1>{title}</h1></header>
      <main id="main" class="login-box">{children}</main>
    </>
  );
}

/** Replaces whatever `root` shows (a Preact tree or static HTML) with `vnode`. */
function mount(root: HTMLElement, vnode: ComponentChildren): void {
  render(null, root);
  root.textContent = '';
  render(vnode, root);
}

/** Leaves `root` empty, with no Preact tree, for the caller's own render. */
function unmount(root: HTMLElement): void {
  render(null, root);
  root.textContent = '';
}

const withTimeout = <T,>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([promise, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))]);

const minutes = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} minute${Math.round(ms / 60_000) === 1 ? '' : 's'}` : `${Math.round(ms / 1000)} seconds`);

// ---- sign in / unlock ---------------------------------------------------------------------------

/** No session on this device: sign in right here; resolves once signed in (the key is then held in memory). */
export function signInHere(root: HTMLElement, title: string): Promise<Session> {
  return new Promise((resolve) => {
    mount(root, (
      <Frame title={title}>
        <PasswordSignIn intro={`Sign in to open ${title} on this device.`} onSignedIn={(session) => {
          unmount(root);
          resolve(session);
        }} />
        <p class="hint" style="margin-top:12px">Developer token? <a href={`/?next=${encodeURIComponent(location.pathname)}`}>Use the sign-in page</a>.</p>
      </Frame>
    ));
  });
}

/**
 * Opens `session`'s database: with the key this page holds, a developer session's key, or one
 * lent by another open (unlocked) tab; otherwise shows the unlock screen until the password
 * opens it. Works offline: the password is checked against the wrapped key on this device.
 */
export async function unlockAndOpen(root: HTMLElement, title: string, session: Session, reason: LockReason): Promise<Database> {
  const dbName = databaseNameFor(session.user);
  const open = async (key: string) => {
    // The session's tokens are sealed under the same key: this page can sync again from here on.
    await openSession(key, dbName);
    const db = await openDatabase(session, key);
    holdKey(dbName, key);
    return db;
  };
  let problem: unknown;
  if (reason === 'start') {
    try {
      const key = heldKey(dbName) ?? (session.kind === 'dev' ? await devSessionKey(session) : await keyFromOpenTabs(dbName));
      if (key) return await open(key);
    } catch (error) {
      problem = error;
    }
  }
  dropKey();
  return new Promise((resolve) => {
    const opened = async (key: string) => {
      const db = await open(key);
      unmount(root);
      resolve(db);
    };
    mount(root, <Frame title={title}><UnlockCard session={session} reason={reason} problem={problem} open={opened} /></Frame>);
  });
}

function UnlockCard({ session, reason, problem, open }: { session: Session; reason: LockReason; problem: unknown; open: (key: string) => Promise<void> }) {
  const dbName = databaseNameFor(session.user);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(problem);
  const dev = session.kind === 'dev';
  // One open at a time: a key lent by another tab may arrive while the password is checked.
  const opening = useRef(false);

  const attempt = async (key: () => Promise<string>) => {
    if (opening.current) return;
    opening.current = true;
    setBusy(true);
    setError(undefined);
    try {
      await open(await key());
    } catch (e) {
      opening.current = false;
      setError(e);
      setBusy(false);
    }
  };
  // Another tab of this database was unlocked: this one opens with the same key.
  useEffect(() => onLockMessage(dbName, (message) => {
    if (message.type === 'key' && message.to === undefined) void attempt(async () => message.key);
  }), [dbName]);

  const submit = (event: Event) => {
    event.preventDefault();
    void attempt(() => (dev ? devSessionKey(session) : keyForUnlock(session, password)));
  };
  const who = session.user.displayName ?? session.user.userId;
  return (
    <form class="card" onSubmit={submit} aria-labelledby="unlock-title" data-testid="unlock" data-reason={reason}>
      <h2 id="unlock-title">{reason === 'idle' ? 'Locked' : 'Unlock'}</h2>
      <p data-testid="unlock-why">
        {reason === 'idle'
          ? `Locked after ${minutes(idleTimeoutMs())} without use, to protect patient data. Nothing you typed was lost.`
          : 'Patient data on this device is encrypted.'} Signed in as <strong>{who}</strong> ({session.user.tenantId}).
      </p>
      {dev ? (
        <p class="hint bad">Developer sign-in: no password protects the data on this device. Development only, never for patient data.</p>
      ) : (
        <div class="field"><label for="unlock-password">Password</label>
          <input id="unlock-password" type="password" autoComplete="current-password" required autoFocus value={password}
            onInput={(e) => setPassword(e.currentTarget.value)} /></div>
      )}
      <button class="primary big" type="submit" disabled={busy} style="width:100%">{busy ? 'Unlocking…' : 'Unlock'}</button>
      {error !== undefined && <UnlockProblem error={error} session={session} />}
      <p style="margin-top:12px"><button type="button" data-testid="unlock-sign-out" onClick={() => void signOutKeepingData(session)}>Not {who}? Sign out</button></p>
      <p class="hint">Signing out here keeps this device's data, encrypted. Unlocking works without a connection.</p>
    </form>
  );
}

function UnlockProblem({ error, session }: { error: unknown; session: Session }) {
  if (error instanceof WrongPasswordError) {
    return <p class="hint bad" role="alert" data-testid="unlock-error">Wrong password. (If you changed it recently, use the one you last used on this device; signing in online updates it.)</p>;
  }
  if (error instanceof NoKeyOnDeviceError) {
    return (
      <div class="banner warn" role="alert" data-testid="unlock-error">
        <p>{error.message}</p>
        <button type="button" class="primary" onClick={() => void signOutKeepingData(session)}>Sign in again</button>
      </div>
    );
  }
  if (isWrongDatabaseKey(error)) return <WrongKey session={session} />;
  return <p class="hint bad" role="alert" data-testid="unlock-error">The data on this device could not be opened: {String((error as Error)?.message ?? error)}</p>;
}

/** The database exists but another key made it: it cannot be read by anyone; it can only be erased. */
function WrongKey({ session }: { session: Session }) {
  const [message, setMessage] = useState<string>();
  const erase = async () => {
    const outbox = await peekOutboxCounts().catch(() => undefined);
    if (!confirm(`Erase the data on this device that cannot be opened?${outbox?.waiting ? ` (${outbox.waiting} change(s) in the outbox are kept and still sent.)` : ''}`)) return;
    try {
      await eraseLocalDatabase(databaseNameFor(session.user));
      location.reload();
    } catch (e) {
      setMessage(String((e as Error)?.message ?? e));
    }
  };
  return (
    <div class="banner bad" role="alert" data-testid="unlock-error">
      <p>The data on this device is locked with a different key and cannot be opened. Erase it to start again: everything on the server is downloaded again;
        changes that never left this copy are lost.</p>
      <button type="button" class="danger" onClick={() => void erase()}>Erase and start again</button>
      {message && <p>{message}</p>}
    </div>
  );
}

// ---- the lock cycle -----------------------------------------------------------------------------

/**
 * Guards an open app: locks after the inactivity limit, or when another tab of the database
 * locks, signs out or erases. Locking removes the app from the page (no PHI on screen), writes
 * what was typed, closes the database (its worker is terminated) and forgets the key; unlocking
 * opens it again and `show`s the app.
 */
export function protectApp(root: HTMLElement, title: string, session: Session, db: Database, show: (db: Database) => void): void {
  const dbName = db.dbName;
  let current = db;
  let locking = false;
  let guard = startIdleGuard(dbName, () => void lock('idle'));
  const lock = async (reason: 'idle' | 'wipe' | 'signout') => {
    // Already locked, and another tab signed out or erased: this tab's session is gone too.
    if (locking && reason !== 'idle') location.assign('/');
    if (locking) return;
    locking = true;
    guard.stop();
    mount(root, <Frame title={title}><p class="card" data-testid="locking">Locking…</p></Frame>);
    (window as unknown as { fieldsync?: unknown }).fieldsync = undefined;
    await withTimeout(flushAll().catch(() => undefined), 3000);
    // Drafts that cannot be saved yet stay in the journal, sealed; not in this page's memory.
    // Not under the timeout: the journal seals and stores them first (the database is still open).
    await forgetJournal();
    await current.close();
    dropKey();
    forgetSessionTokens();
    if (reason !== 'idle') {
      location.assign('/');
      return;
    }
    current = await unlockAndOpen(root, title, session, 'idle');
    await replayJournal().catch(() => 0);
    show(current);
    locking = false;
    guard = startIdleGuard(dbName, () => void lock('idle'));
  };
  onLockMessage(dbName, (message) => {
    if (message.type === 'lock') void lock(message.reason);
  });
}

// ---- signing out ----------------------------------------------------------------------------------

/** Sign out; the data stays on this device, encrypted (the user's password opens it again). */
export async function signOutKeepingData(session: Session, db?: Database): Promise<void> {
  const dbName = databaseNameFor(session.user);
  lockOtherTabs(dbName, 'signout');
  if (db) {
    await withTimeout(flushAll().catch(() => undefined), 3000);
    await forgetJournal(); // what was typed is stored sealed before the database and its key close
    await db.close();
  }
  dropKey();
  await logout();
  location.assign('/');
}

/**
 * What erasing now would lose, in plain words (empty: nothing). Unknown counts as something: the
 * data is only erased when every tally says the server has everything.
 */
export async function unsentChanges(db: Database): Promise<string[]> {
  await withTimeout(flushAll().catch(() => undefined), 3000);
  // The sync status follows a write within a few hundred milliseconds.
  await new Promise((resolve) => setTimeout(resolve, 700));
  const reasons: string[] = [];
  const journal = await journalEntries(db.dbName).catch(() => 1);
  if (journal > 0) reasons.push(`${journal} edit${journal === 1 ? ' is' : 's are'} not saved yet (a value may need fixing)`);
  const status = db.status.value;
  const stale = status?.role === 'follower' && (status.heardAt === undefined || Date.now() - status.heardAt > 12_000);
  const counts = Object.values(status?.pending ?? {});
  if (!status || status.role === 'starting' || stale || counts.length === 0 || counts.some((n) => !Number.isFinite(n))) {
    reasons.push('this app cannot tell yet whether everything reached the server (wait a moment, or connect)');
  } else if (status.totalPending > 0) {
    reasons.push(`${status.totalPending} change${status.totalPending === 1 ? ' is' : 's are'} not on the server yet`);
  }
  const outbox = await peekOutboxCounts().catch(() => undefined);
  if (outbox === undefined) reasons.push('the outbox could not be read');
  else if (outbox.waiting > 0) reasons.push(`${outbox.waiting} change${outbox.waiting === 1 ? ' waits' : 's wait'} in this device's outbox`);
  return reasons;
}

/** Shared device: sign out and erase this user's data here, refused while anything is unsent. */
export async function signOutAndErase(session: Session, db: Database): Promise<{ refused: string[] } | undefined> {
  const refused = await unsentChanges(db);
  if (refused.length > 0) return { refused };
  lockOtherTabs(db.dbName, 'wipe');
  await db.close();
  dropKey();
  await eraseLocalDatabase(db.dbName);
  await logout();
  location.assign('/');
  return undefined;
}

// ---- settings -------------------------------------------------------------------------------------

export function SignOutControls() {
  const db = database();
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string[]>();
  const [error, setError] = useState<string>();
  const erase = async () => {
    setBusy(true);
    setRefused(undefined);
    setError(undefined);
    try {
      const result = await signOutAndErase(db.session, db);
      if (result) setRefused(result.refused);
    } catch (e) {
      setError(`Erasing failed: ${String((e as Error)?.message ?? e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-testid="sign-out">
      <div class="row">
        <button class="danger" disabled={busy} data-testid="sign-out-erase" onClick={() => void erase()}>{busy ? 'Checking…' : 'Sign out and erase data on this device'}</button>
        <button disabled={busy} data-testid="sign-out-keep" onClick={() => void signOutKeepingData(db.session, db)}>Sign out, keep data</button>
      </div>
      <p class="hint">On a shared device, erase: your copy of the data is removed once the server has every change. Kept data stays encrypted; only your password opens it.</p>
      {refused && (
        <div class="banner bad" role="alert" data-testid="wipe-refused">
          <p><strong>Not erased:</strong> {refused.join('; ')}. Erasing now would lose them. Connect and wait until everything is synced, or sign out and keep the data on this device.</p>
          <button onClick={() => void signOutKeepingData(db.session, db)}>Log out, keep data</button>
        </div>
      )}
      {error && (
        <div class="banner bad" role="alert" data-testid="wipe-error">
          <p>{error} Nothing was lost: the data is still on this device, encrypted.</p>
          <button onClick={() => location.reload()}>Reload and try again</button>
        </div>
      )}
    </div>
  );
}

export function LockSettings() {
  const [chosen, setChosen] = useState(idleSetting() ?? DEFAULT_IDLE_MS);
  const effective = idleTimeoutMs();
  return (
    <fieldset data-testid="lock-settings">
      <legend>Automatic lock</legend>
      <div class="field"><label for="idle-minutes">Lock after this long without use</label>
        <select id="idle-minutes" value={String(chosen)} onChange={(e) => {
          const ms = Number(e.currentTarget.value);
          setIdleSetting(ms >= DEFAULT_IDLE_MS ? undefined : ms);
          setChosen(ms);
        }}>
          {IDLE_CHOICES_MINUTES.map((m) => <option key={m} value={String(m * 60_000)}>{m} minute{m === 1 ? '' : 's'}</option>)}
        </select>
      </div>
      <p class="hint">The app locks and asks for the password again; nothing typed is lost. {minutes(DEFAULT_IDLE_MS)} is the longest allowed.
        {effective < Math.min(chosen, DEFAULT_IDLE_MS) ? ` This page locks after ${minutes(effective)} (set in its address).` : ''}</p>
    </fieldset>
  );
}
