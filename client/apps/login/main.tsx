/**
 * Sign-in: the server's login (agency, user name, password, device) or, while that is not
 * available, a developer token. The session is kept on the device, so the apps open offline.
 */
import '../../ui/styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { registerServiceWorker } from '../../ui/runtime.ts';
import { dropKey, keyFromOpenTabs, lockOtherTabs } from '../../session/lock.ts';
import {
  databaseNameFor, devSession, getAccessToken, hasSessionTokens, homeFor, loadSession, logout, openSession, restoreSession, saveSession, SessionError,
  signInRefusal,
} from '../../session/session.ts';
import type { Session } from '../../session/identity.ts';
import { PasswordSignIn, Reauthenticate } from '../../ui/sign-in.tsx';

const APPS = [
  { href: '/crew/', name: 'Crew ePCR', roles: ['crew'], text: 'Patient care reports on the tablet' },
  { href: '/mdt/', name: 'MDT', roles: ['crew'], text: 'Unit status, assignment, GPS' },
  { href: '/tech/', name: 'Technician', roles: ['technician'], text: 'Jobs on the phone' },
  { href: '/dispatch/', name: 'Dispatch console', roles: ['dispatcher', 'admin', 'biller'], text: 'Units, incidents, progress' },
  { href: '/office/', name: 'Field-service office', roles: ['office', 'admin'], text: 'Sales orders, tickets and jobs' },
];

function nextFor(session: Session): string {
  const next = new URLSearchParams(location.search).get('next');
  const allowed = APPS.filter((a) => a.roles.includes(session.user.role)).map((a) => a.href);
  return next && allowed.includes(next) ? next : homeFor(session.user.role);
}

/**
 * Whether the server still takes the session kept on this device: `expired` (with the server's
 * reason) when it refuses it even after a refresh. Offline or unknown: assumed valid (the apps work offline).
 */
function useSessionCheck(session: Session): { expired?: string } {
  const [state, setState] = useState<{ expired?: string }>({});
  useEffect(() => {
    if (!navigator.onLine) return;
    let stopped = false;
    void (async () => {
      if (!hasSessionTokens()) {
        // The tokens are sealed under the unlock (issue 17): an unlocked app tab of this user lends
        // the key; with none open there is nothing to ask the server with.
        const dbName = databaseNameFor(session.user);
        const key = session.kind === 'password' ? await keyFromOpenTabs(dbName) : undefined;
        if (!key || stopped) return;
        await openSession(key, dbName);
      }
      const refusal = await signInRefusal(await getAccessToken());
      if (refusal !== undefined && !stopped) setState({ expired: refusal });
    })().catch(() => undefined);
    return () => { stopped = true; };
  }, [session.accessToken]);
  return state;
}

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const mine = APPS.filter((a) => a.roles.includes(session.user.role));
  const { expired } = useSessionCheck(session);
  if (expired) {
    // Not "Signed in": the session on this device is no longer valid. The same person signs in again and goes on.
    return (
      <div class="card" data-testid="signed-in-expired">
        <h2>Your sign-in has expired</h2>
        <p>{expired} Everything typed on this device is kept and is sent once you are signed in again.</p>
        {session.kind === 'password'
          ? <Reauthenticate session={session} onRenewed={async (next) => location.assign(nextFor(next))} />
          : <p>Use a new developer token below, after signing out.</p>}
        <p><button onClick={onSignOut}>Sign in as someone else</button></p>
      </div>
    );
  }
  return (
    <div class="card" data-testid="signed-in">
      <h2>Signed in</h2>
      <p>{session.user.displayName ?? session.user.userId} — {session.user.role}, {session.user.tenantId}
        {session.user.unitId ? `, unit ${session.user.unitId}` : ''}{session.user.technicianId ? `, technician ${session.user.technicianId}` : ''}</p>
      <ul class="list">
        {mine.map((a) => (
          <li key={a.href}><a class="button primary big" style="width:100%" href={a.href}>{a.name} — {a.text}</a></li>
        ))}
      </ul>
      <p><button onClick={onSignOut}>Sign in as someone else</button></p>
      <p class="hint">Signing out here keeps your data on this device, encrypted; only your password opens it. On a shared device,
        erase it from the app instead: Settings, "Sign out and erase data on this device".</p>
    </div>
  );
}

function LoginForm({ onSession }: { onSession: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const useToken = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const session = devSession(token);
      // On disk before the app opens: a crash right after signing in keeps the sign-in.
      await saveSession(session);
      onSession(session);
    } catch (e) {
      setError(e instanceof SessionError ? e.message : String(e));
    }
  };
  return (
    <>
      {/* Also sets up (or, after a password change, re-wraps) the key of this user's data on this device. */}
      <PasswordSignIn onSignedIn={onSession} />
      {error && <div class="banner bad" role="alert" style="margin:12px 0" data-testid="login-error"><p>{error}</p></div>}
      <details class="card" style="margin-top:12px" data-testid="dev-token">
        <summary>Developer token</summary>
        <form onSubmit={(e) => void useToken(e)}>
          <div class="field"><label for="token">Token</label>
            <input id="token" name="token" autoComplete="off" spellcheck={false} placeholder="dev:agency-a:crew:tablet-7:M1" value={token}
              onInput={(e) => setToken(e.currentTarget.value)} aria-describedby="token-hint" />
            <div class="hint" id="token-hint">For development servers: dev:&lt;agency&gt;:&lt;role&gt;:&lt;device&gt;[:&lt;unit or technician&gt;].
              No password protects the data of a developer sign-in on this device: never use one with patient data.</div></div>
          <button type="submit" class="primary">Use token</button>
        </form>
      </details>
    </>
  );
}

function Login() {
  const [session, setSession] = useState(loadSession());
  // After a crash the quick copy may be gone while the durable one is there.
  useEffect(() => void restoreSession().then((s) => s && setSession(s)).catch(() => undefined), []);
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="app-header"><h1>fieldsync</h1></header>
      <main id="main" class="login-box">
        {session
          ? <SignedIn session={session} onSignOut={() => {
            // Open app tabs of this user lock and leave (their data stays, encrypted).
            lockOtherTabs(databaseNameFor(session.user), 'signout');
            dropKey();
            void logout().then(() => setSession(undefined));
          }} />
          : <LoginForm onSession={(s) => location.assign(nextFor(s))} />}
      </main>
    </>
  );
}

registerServiceWorker();
const root = document.getElementById('app')!;
root.textContent = '';
render(<Login />, root);
