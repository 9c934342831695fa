/**
 * Password sign-in, shared by the login page and the apps (which sign in in place, so the key
 * the password unwraps is still in memory when the app opens: it is never stored in clear, so
 * it cannot travel to another page). Besides the server's login, it establishes the key of the
 * user's data on this device (client/session/keys.ts): made on the first sign-in, re-wrapped after a
 * password change with the previous password.
 *
 * No database worker here: the login page stays small.
 */
import { useState } from 'preact/hooks';
import { eraseLocalDatabase } from '../session/erase.ts';
import { heldKey, holdKey } from '../session/lock.ts';
import { keyAtSignIn, keyOwnerOf, PasswordChangedError, rewrapWithPreviousPassword, WrongPasswordError } from '../session/keys.ts';
import { peekOutboxCounts } from '../queue/index.ts';
import type { RawTransportKey } from '../sync/queue-seal.ts';
import { deviceId, endServerSession, login, saveSession, SessionError } from '../session/session.ts';
import type { Session } from '../session/identity.ts';
import { keepTransportKey } from '../session/transport-key.ts';

export function PasswordSignIn({ onSignedIn, intro }: { onSignedIn: (session: Session) => void; intro?: string }) {
  const [tenantId, setTenant] = useState(localStorage.getItem('fieldsync.lastTenant') ?? '');
  const [username, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [device, setDevice] = useState(deviceId());
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [changed, setChanged] = useState<{ session: Session; password: string; transportKey: RawTransportKey | undefined }>();

  /** `key`: the database key, just opened (or made) with the password. */
  const done = async (session: Session, key: string, transportKey: RawTransportKey | undefined) => {
    const dbName = keyOwnerOf(session).dbName;
    // Wrapped with the database key before anything else can use it: it is never stored in clear.
    if (transportKey) await keepTransportKey(dbName, key, transportKey);
    // The tokens are stored sealed under the same key (client/session/sealed-session.ts).
    await saveSession(session, key);
    holdKey(dbName, key);
    onSignedIn(session);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      localStorage.setItem('fieldsync.lastTenant', tenantId);
      const { session, transportKey } = await login({ tenantId: tenantId.trim(), username: username.trim(), password, deviceId: device.trim() });
      let key: string;
      try {
        key = await keyAtSignIn(session, password);
      } catch (e) {
        if (!(e instanceof PasswordChangedError)) throw e;
        setChanged({ session, password, transportKey });
        return;
      }
      await done(session, key, transportKey);
    } catch (e) {
      setError(e instanceof SessionError ? e.message : `Signing in failed; try again. (${e instanceof Error ? e.message : String(e)})`);
    } finally {
      setBusy(false);
    }
  };

  if (changed) return <PasswordChanged session={changed.session} password={changed.password} onDone={(session, key) => done(session, key, changed.transportKey)} />;
  return (
    <>
      <form class="card" onSubmit={submit} aria-labelledby="signin-title" data-testid="sign-in">
        <h2 id="signin-title">Sign in</h2>
        {intro && <p>{intro}</p>}
        <div class="field"><label for="tenant">Agency</label>
          <input id="tenant" name="tenantId" autoComplete="organization" required value={tenantId} onInput={(e) => setTenant(e.currentTarget.value)} /></div>
        <div class="field"><label for="username">User name</label>
          <input id="username" name="username" autoComplete="username" required value={username} onInput={(e) => setUser(e.currentTarget.value)} /></div>
        <div class="field"><label for="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></div>
        <div class="field"><label for="device">Device name</label>
          <input id="device" name="deviceId" value={device} onInput={(e) => setDevice(e.currentTarget.value)} aria-describedby="device-hint" />
          <div class="hint" id="device-hint">Identifies this tablet or phone; kept from one sign-in to the next.</div></div>
        <button class="primary big" type="submit" disabled={busy} style="width:100%">{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      {error && <div class="banner bad" role="alert" style="margin:12px 0" data-testid="login-error"><p>{error}</p></div>}
    </>
  );
}

/**
 * The server accepted a password that does not open the key on this device: the password was
 * changed since. The previous one re-wraps the key; without it the local copy cannot be read by
 * anyone, and the only way on is to erase it (what waits in the outbox is said first).
 */
function PasswordChanged({ session, password, onDone }: { session: Session; password: string; onDone: (session: Session, key: string) => Promise<void> }) {
  const [previous, setPrevious] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [erase, setErase] = useState<{ waiting: number } | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      await onDone(session, await rewrapWithPreviousPassword(session, previous, password));
    } catch (e) {
      setError(e instanceof WrongPasswordError ? 'That is not the previous password either.' : String((e as Error)?.message ?? e));
    } finally {
      setBusy(false);
    }
  };
  const askErase = async () => setErase({ waiting: (await peekOutboxCounts().catch(() => undefined))?.waiting ?? 0 });
  const doErase = async () => {
    setBusy(true);
    try {
      await eraseLocalDatabase(keyOwnerOf(session).dbName);
      await onDone(session, await keyAtSignIn(session, password));
    } catch (e) {
      setError(String((e as Error)?.message ?? e));
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="changed-title" data-testid="password-changed">
      <h2 id="changed-title">Your password was changed</h2>
      <p>The data on this device is still locked with your previous password. Enter it once to move the data over to the new one.</p>
      <div class="field"><label for="previous-password">Previous password</label>
        <input id="previous-password" type="password" autoComplete="off" required value={previous} onInput={(e) => setPrevious(e.currentTarget.value)} /></div>
      <button class="primary big" type="submit" disabled={busy} style="width:100%">{busy ? 'Checking…' : 'Continue'}</button>
      {error && <p class="hint bad" role="alert">{error}</p>}
      {!erase && <p><button type="button" class="danger" onClick={() => void askErase()}>I do not remember it</button></p>}
      {erase && (
        <div class="banner warn" role="alert">
          <p>Without the previous password nobody can read the data on this device, so it can only be erased; everything on the server is
            downloaded again.{erase.waiting > 0 ? ` ${erase.waiting} change${erase.waiting === 1 ? ' waits' : 's wait'} in this device's outbox and will still be sent.` : ''} Changes
            that never left the locked copy are lost.</p>
          <button type="button" class="danger" disabled={busy} onClick={() => void doErase()}>Erase the locked data and continue</button>
        </div>
      )}
    </form>
  );
}

/**
 * Signing in again in place, after the server stopped accepting this device's session (refresh
 * token expired or revoked): the same person on the same device, so only the password is asked.
 * The app stays open and keeps everything typed; the new tokens go to the database worker and the
 * service worker's queue (`onRenewed`), which go on syncing. A different account is refused here:
 * switching people is signing out.
 */
export function Reauthenticate({ session, onRenewed, onCancel }: { session: Session; onRenewed: (session: Session) => Promise<void>; onCancel?: () => void }) {
  const [username, setUser] = useState(session.user.username ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const { session: next, transportKey } = await login(
        { tenantId: session.user.tenantId, username: username.trim(), password, deviceId: session.user.deviceId });
      if (next.user.tenantId !== session.user.tenantId || next.user.userId !== session.user.userId) {
        // Someone else's password: end that new session again, keep this one as it was.
        await endServerSession(next);
        throw new SessionError(`That is another account. This app holds ${session.user.displayName ?? session.user.username ?? session.user.userId}'s work; to switch people, sign out in Settings.`);
      }
      const dbName = keyOwnerOf(session).dbName;
      let key = heldKey(dbName);
      try {
        // Keeps the key record in step with the password (made on the first sign-in).
        key = await keyAtSignIn(next, password);
      } catch (e) {
        // Changed on the server since: the data here still opens with the previous password, as before.
        if (!(e instanceof PasswordChangedError)) throw e;
      }
      if (transportKey && key) await keepTransportKey(dbName, key, transportKey);
      await saveSession(next, key);
      await onRenewed(next);
    } catch (e) {
      setError(e instanceof SessionError ? e.message : `Signing in failed; try again. (${e instanceof Error ? e.message : String(e)})`);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="reauth-title" data-testid="reauth">
      <h3 id="reauth-title" style="margin:8px 0">Sign in again as {session.user.displayName ?? session.user.username ?? session.user.userId}</h3>
      {!session.user.username && (
        <div class="field"><label for="reauth-username">User name</label>
          <input id="reauth-username" autoComplete="username" required value={username} onInput={(e) => setUser(e.currentTarget.value)} /></div>
      )}
      <div class="field"><label for="reauth-password">Password</label>
        <input id="reauth-password" type="password" autoComplete="current-password" required autoFocus value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} /></div>
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {onCancel && <button type="button" onClick={onCancel}>Not now</button>}
      </div>
      {error && <p class="hint bad" role="alert" data-testid="reauth-error">{error}</p>}
    </form>
  );
}
