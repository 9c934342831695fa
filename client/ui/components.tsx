/**
 * Shared UI: the shell every app sits in (header, status bar, banners, settings), badges and
 * autosaving form fields.
 */
import { signal } from '@preact/signals';
import type { ComponentChildren, TargetedEvent } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { DocBadge, Path, QueueView, SyncSnapshot } from '../worker/api.ts';
import { discardDraft, journalEntry, nameDraft, notSaved, notSavedSummary, onJournalChange, saveField, unsavedEdits } from './autosave.ts';
import { refusalText } from './action.tsx';
import { database, sessionRenewed, signInProblem } from './db.ts';
import {
  applyUpdate, clock, formatBytes, lowSpace, online, refreshStorage, requestPersistence, setTheme, storage, theme, updateReady,
} from './runtime.ts';
import { LockSettings, signOutKeepingData, SignOutControls } from './lock-screen.tsx';
import { Reauthenticate } from './sign-in.tsx';
import { homeFor } from '../session/session.ts';
import { notARecordField, recordField } from './record-field.ts';
import { deliveryNote, kickServiceWorker } from './sw-queue.ts';
import { ago, fromLocalInput, localOffset, offsetDateTime, offsetOf, toLocalInput } from './time.ts';
import { latestTime, timeRangeProblem, type TimeRange } from './time-range.ts';

// ---- routing (hash) -------------------------------------------------------------------------
export const route = signal(location.hash.replace(/^#\/?/, ''));
addEventListener('hashchange', () => (route.value = location.hash.replace(/^#\/?/, '')));
export function go(path: string): void {
  location.hash = `#/${path}`;
}

// ---- connectivity and sync status ---------------------------------------------------------------
export type Connectivity = 'online' | 'offline' | 'unreachable' | 'connecting' | 'signed-out';

/**
 * `authProblem`: the server refused this device's sign-in. The server is reachable then (it
 * answered), so the state says so, not "unreachable": the fix is to sign in, not to find coverage.
 */
export function connectivityOf(status: SyncSnapshot | undefined, isOnline: boolean, authProblem?: string): Connectivity {
  if (!isOnline) return 'offline';
  if (authProblem) return 'signed-out';
  if (!status || status.role === 'starting') return 'connecting';
  if (status.connected) return 'online';
  if (status.lastError || status.lastSyncedAt !== undefined) return 'unreachable';
  return 'connecting';
}

const CONNECTIVITY_TEXT: Record<Connectivity, string> = {
  online: 'Online',
  offline: 'Offline',
  unreachable: 'Server unreachable',
  connecting: 'Connecting…',
  'signed-out': 'Sign-in expired',
};

/** The sync library's last error, said plainly. */
export function plainSyncError(status: SyncSnapshot | undefined): string | undefined {
  if (!status) return undefined;
  if (status.updateRequired) return 'This app must be updated to keep syncing. Your changes are kept on this device; reload to update.';
  const error = status.lastError;
  if (!error) return undefined;
  if (/unreachable|failed to fetch|websocket error|xhr poll error|timeout|network/i.test(error)) {
    return 'Cannot reach the server. Changes are kept on this device and are sent automatically when it is back.';
  }
  if (/token|sign in|log in|UNAUTHENTICATED|expired/i.test(error)) return 'Your sign-in has expired. Sign in again to keep syncing; nothing typed is lost.';
  return error.replace(/^live updates unavailable: /, 'Live updates are unavailable: ');
}

// ---- the outbound queue (the service worker holds it; the database worker reads it) ---------------
const KIND_NAMES: Record<string, readonly [string, string]> = {
  epcrs: ['patient care report', 'patient care reports'],
  units: ['unit update', 'unit updates'],
  unit_status_events: ['unit status', 'unit statuses'],
  incidents: ['incident', 'incidents'],
  jobs: ['job', 'jobs'],
  tickets: ['ticket', 'tickets'],
  orders: ['order', 'orders'],
  billing_records: ['billing record', 'billing records'],
  claims: ['claim', 'claims'],
  // Signatures and photos waiting for their upload (client/queue/uploads.ts): sent before positions.
  attachments: ['attachment', 'attachments'],
  gps_points: ['GPS point', 'GPS points'],
};
/** Most urgent first, as the queue sends them. */
const KIND_ORDER = Object.keys(KIND_NAMES);

export function kindName(collection: string, plural: boolean): string {
  const [one, many] = KIND_NAMES[collection] ?? [collection.replace(/_/g, ' '), collection.replace(/_/g, ' ')];
  return plural ? many : one;
}

/**
 * Formatters made once: `toLocaleString` with a locale or options builds a new formatter on every
 * call, and the status bar formats its counts and times on every status update (1-2 ms a call on
 * a busy tablet, the largest self times on the main thread during a first sync).
 */
const COUNT_EN = new Intl.NumberFormat('en-US');
const COUNT_LOCAL = new Intl.NumberFormat();
const TIME_OF_DAY = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

export function kindCount(collection: string, n: number): string {
  return `${COUNT_EN.format(n)} ${kindName(collection, n !== 1)}`;
}

export function queueKinds(waiting: Record<string, number>): string {
  return Object.entries(waiting)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (KIND_ORDER.indexOf(a) + 1 || 99) - (KIND_ORDER.indexOf(b) + 1 || 99))
    .map(([name, n]) => kindCount(name, n))
    .join(', ');
}

/** A size as the outbox line says it: "0.4 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} MB`;
}

function timeOfDay(ms: number | undefined): string {
  return ms === undefined ? '' : TIME_OF_DAY.format(new Date(ms));
}

/** The queue's last delivery error, said plainly. */
export function plainQueueError(queue: QueueView | undefined): string | undefined {
  if (!queue) return undefined;
  if (queue.signedOut) return 'Signed out: sign in again to send the changes waiting on this device.';
  if (queue.updateRequired) return 'This app must be updated before the waiting changes can be sent; they are kept.';
  const error = queue.lastError;
  if (!error) return undefined;
  if (/^server unreachable/i.test(error)) return 'server unreachable';
  return error;
}

export function StatusBar() {
  const db = database();
  const status = db.status.value;
  const isOnline = online.value;
  const now = clock.value;
  const connectivity = connectivityOf(status, isOnline, signInProblem(db));
  const waiting = status?.totalPending ?? 0;
  // Signed out: the banner says what happened and offers to sign in; the stream's refusal is the same news.
  const error = connectivity === 'signed-out' ? undefined : plainSyncError(status);
  const queue = status?.queue;
  const queueError = queue && queue.total > 0 && connectivity !== 'signed-out' ? plainQueueError(queue) : undefined;
  const [journal, setJournal] = useState(unsavedEdits());
  const [notSavedText, setNotSavedText] = useState(notSavedSummary());
  useEffect(() => onJournalChange(() => {
    setJournal(unsavedEdits());
    setNotSavedText(notSavedSummary());
  }), []);
  return (
    <div class="status-bar" role="status" aria-live="polite" data-testid="status-bar" data-role={status?.role ?? 'starting'}
      data-queue={queue?.mode ?? 'unknown'} data-queued={queue?.total ?? 0}>
      <span class={`pill ${connectivity}`} data-testid="connectivity" data-state={connectivity}>{CONNECTIVITY_TEXT[connectivity]}</span>
      <span class={waiting > 0 || notSavedText ? 'waiting' : ''} data-testid="pending-count" data-count={waiting} data-not-saved={notSavedText ? 'true' : undefined}>
        {waiting === 0 ? (notSavedText ? '' : 'All changes synced') : `${waiting} change${waiting === 1 ? '' : 's'} waiting to sync`}
        {journal > 0 ? ` (saving ${journal} edit${journal === 1 ? '' : 's'}…)` : ''}
        {notSavedText && <span class="error" data-testid="not-saved">{waiting > 0 ? '; ' : ''}{notSavedText}</span>}
      </span>
      {queue && queue.total > 0 && (
        <span data-testid="queue" data-total={queue.total}>
          In the outbox: {queueKinds(queue.waiting)}{queue.attachmentBytes ? ` (${megabytes(queue.attachmentBytes)})` : ''}{queue.oldestQueuedAt !== undefined ? `, waiting since ${timeOfDay(queue.oldestQueuedAt)} (${ago(queue.oldestQueuedAt, now)})` : ''}
        </span>
      )}
      {queueError && connectivity !== 'offline' && !(connectivity === 'unreachable' && queueError === 'server unreachable') && (
        <span class="error" data-testid="queue-error" title={queue?.lastError}>
          Last try{queue?.lastErrorAt !== undefined ? ` ${ago(queue.lastErrorAt, now)}` : ''}: {queueError}
        </span>
      )}
      {queue && queue.rejectedTotal > 0 && (
        <a class="error" href="#/settings" data-testid="queue-rejected-count">
          {queue.rejectedTotal} change{queue.rejectedTotal === 1 ? '' : 's'} refused by the server
        </a>
      )}
      <span data-testid="last-sync">Last sync: {status?.lastSyncedAt ? ago(status.lastSyncedAt, now) : 'not yet'}</span>
      {status?.role === 'follower' && <span class="meta">synced by another open tab</span>}
      {error && connectivity !== 'offline' && <span class="error" data-testid="sync-error">{error}</span>}
      {connectivity === 'offline' && <span class="meta">Working offline: everything is saved on this device.</span>}
      {deliveryNote.value && <span class="meta" data-testid="delivery-note">{deliveryNote.value}</span>}
    </div>
  );
}

export function InitialSync() {
  const status = database().status.value;
  if (!status || status.initial.done) return null;
  const entries = Object.entries(status.initial.collections);
  const done = entries.filter(([, p]) => p.done).length;
  return (
    <section class="initial-sync" aria-labelledby="initial-sync-title" data-testid="initial-sync">
      <h2 id="initial-sync-title" style="margin:0 0 6px;font-size:1.1rem">Setting up this device</h2>
      <p style="margin:0 0 6px" data-testid="initial-received">
        {COUNT_LOCAL.format(status.initial.received)} documents received so far · {done} of {entries.length} data sets complete
      </p>
      <progress max={entries.length} value={done} aria-label="Data sets complete" />
      <ul>
        {entries.map(([name, p]) => (
          <li key={name}>
            <strong>{name.replace('_', ' ')}</strong>: {COUNT_LOCAL.format(p.received)} received —{' '}
            {p.done ? 'complete' : p.error ? `waiting (${p.error})` : online.value ? 'receiving…' : 'waiting for a connection'}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Banners() {
  const db = database();
  return (
    <>
      {updateReady.value && (
        <div class="banner info" role="alert" data-testid="update-banner">
          <p><strong>A new version of this app is ready.</strong> Reloading is safe: everything you typed is already saved on this device.</p>
          <button class="primary" onClick={() => void applyUpdate()}>Reload now</button>
          <button onClick={() => (updateReady.value = false)}>Later</button>
        </div>
      )}
      {signInProblem(db) && <SignInAgain problem={signInProblem(db)!} />}
      {lowSpace.value && storage.value && (
        <div class="banner warn" role="alert" data-testid="low-space">
          <p><strong>This device is running out of storage space</strong> ({formatBytes(storage.value.quota - storage.value.usage)} left).
            Connect to sync so older data can be cleared, and free space on the device.</p>
        </div>
      )}
    </>
  );
}

/**
 * The server stopped accepting this device's sign-in (the refresh token expired or was revoked).
 * Signing in again happens here, in the open app: the login page would only say "Signed in"
 * (the session is still on the device) and nothing would start syncing again.
 */
function SignInAgain({ problem }: { problem: string }) {
  const db = database();
  const [open, setOpen] = useState(false);
  return (
    <div class="banner bad" role="alert" data-testid="auth-banner">
      <p><strong>Sign in again to keep syncing.</strong> {problem} Everything you typed stays on this device and is sent once you are signed in.</p>
      {db.session.kind === 'password'
        ? open
          ? <Reauthenticate session={db.session} onRenewed={(next) => sessionRenewed(next)} onCancel={() => setOpen(false)} />
          : <button class="primary" data-testid="auth-sign-in" onClick={() => setOpen(true)}>Sign in</button>
        : <button class="primary" data-testid="auth-sign-in" onClick={() => void signOutKeepingData(db.session, db)}>Sign in (developer token)</button>}
    </div>
  );
}

// ---- badges ---------------------------------------------------------------------------------
export function Badge({ badge }: { badge: DocBadge }) {
  const waiting = badge.attachmentsWaiting ?? 0;
  const text = badge.state === 'pending' ? `Saved on device${waiting > 0 ? ` · ${waiting} attachment${waiting === 1 ? '' : 's'} waiting` : ''}`
    : badge.state === 'synced' ? 'Synced'
      : badge.state === 'conflict' ? `Synced · ${badge.conflicts ?? 1} conflict${badge.conflicts === 1 ? '' : 's'} to resolve`
        : badge.state === 'rejected' ? refusalText(badge.reason, badge.code)
          : 'Checking…';
  const title = badge.state === 'pending' ? 'Saved on this device; it is sent to the server when there is a connection.'
    : badge.state === 'conflict' ? 'Someone else edited this too. Where the two edits differ, both values are kept: open it and choose under "Conflicts to resolve".'
      : undefined;
  // A refusal is said in full where the record is shown (touch screens show no tooltips).
  return <span class={`badge ${badge.state}`} data-testid="badge" data-state={badge.state} data-attachments-waiting={waiting || undefined} title={title} role={badge.state === 'rejected' ? 'alert' : undefined}>{text}</span>;
}

// ---- settings ---------------------------------------------------------------------------------
export function Settings() {
  const db = database();
  const s = storage.value;
  const [persistAnswer, setPersistAnswer] = useState<string>();
  useEffect(() => void refreshStorage(), []);
  const status = db.status.value;
  return (
    <section aria-labelledby="settings-title" data-testid="settings">
      <h2 id="settings-title">Settings</h2>
      <fieldset>
        <legend>Display</legend>
        <div class="row" role="group" aria-label="Theme">
          <button aria-pressed={theme.value === 'day'} onClick={() => setTheme('day')}>Day mode</button>
          <button aria-pressed={theme.value === 'night'} onClick={() => setTheme('night')}>Night mode</button>
        </div>
      </fieldset>
      <fieldset>
        <legend>Storage on this device</legend>
        {s ? (
          <>
            <p data-testid="storage-usage">{formatBytes(s.usage)} used of {formatBytes(s.quota)} available to this app ({s.quota ? ((s.usage / s.quota) * 100).toFixed(1) : '0'} %).</p>
            <meter class="meter" min={0} max={s.quota || 1} value={s.usage} high={(s.quota || 1) * 0.85} aria-label="Storage used" />
            <p>{s.persisted ? 'Protected: the browser will not clear this data to make room.' : 'Not protected yet: under storage pressure the browser could clear data that is not synced.'}</p>
            {!s.persisted && (
              <button onClick={() => void requestPersistence().then((ok) => setPersistAnswer(ok ? 'Protection granted.' : 'The browser declined for now; installing the app usually allows it.'))}>
                Protect this device's data
              </button>
            )}
            {persistAnswer && <p class="hint">{persistAnswer}</p>}
          </>
        ) : <p>This browser does not report storage use.</p>}
      </fieldset>
      <fieldset>
        <legend>Sync</legend>
        <dl class="kv">
          <dt>Database</dt><dd>{db.dbName}</dd>
          <dt>This tab</dt><dd>{status?.role === 'leader' ? 'syncs for all open tabs' : status?.role === 'follower' ? 'another tab syncs' : 'starting'}</dd>
          {Object.entries(status?.pending ?? {}).map(([name, n]) => <><dt>{name}</dt><dd>{Number.isFinite(n) ? `${n} waiting` : '—'}</dd></>)}
        </dl>
        <button onClick={() => {
          void db.api.resync();
          void kickServiceWorker().then(() => db.api.refreshQueue());
        }}>Sync now</button>
      </fieldset>
      <QueueDetails queue={status?.queue} />
      <LockSettings />
      <fieldset>
        <legend>Account</legend>
        <p>Signed in as {db.session.user.displayName ?? db.session.user.userId} ({db.session.user.role}, {db.session.user.tenantId}).</p>
        {(status?.totalPending ?? 0) > 0 && <p class="hint bad">{status?.totalPending} changes are not on the server yet. Signing out keeps them on this device; they are sent after you sign in again.</p>}
        <SignOutControls />
      </fieldset>
    </section>
  );
}

/** Settings: the outbound queue in full (what waits, since when, the last error, what was refused). */
function QueueDetails({ queue }: { queue: QueueView | undefined }) {
  const now = clock.value;
  if (!queue) return null;
  const kinds = Object.entries(queue.waiting).filter(([, n]) => n > 0)
    .sort(([a], [b]) => (KIND_ORDER.indexOf(a) + 1 || 99) - (KIND_ORDER.indexOf(b) + 1 || 99));
  return (
    <fieldset data-testid="queue-details" data-mode={queue.mode}>
      <legend>Outbox</legend>
      <p class="hint">{queue.mode === 'service-worker'
        ? 'Changes wait in this device\'s outbox until the server has them. They are sent in the background, also after the app is closed; reports and unit updates go before GPS points.'
        : 'Changes are sent straight from this page until the offline part of the app is active.'}</p>
      {kinds.length === 0 ? <p data-testid="queue-empty">Nothing is waiting to be sent.</p> : (
        <dl class="kv">
          {kinds.map(([name, n]) => <><dt>{kindName(name, true)}</dt><dd data-testid="queue-kind" data-collection={name} data-count={n}>{COUNT_EN.format(n)} waiting</dd></>)}
        </dl>
      )}
      <dl class="kv">
        <dt>Oldest waiting change</dt>
        <dd data-testid="queue-oldest">{queue.oldestQueuedAt !== undefined ? `${timeOfDay(queue.oldestQueuedAt)} (${ago(queue.oldestQueuedAt, now)})` : '—'}</dd>
        <dt>Last error</dt>
        <dd data-testid="queue-last-error">{plainQueueError(queue) ?? 'none'}{queue.lastErrorAt !== undefined && queue.lastError ? ` (${ago(queue.lastErrorAt, now)})` : ''}</dd>
        <dt>Last complete delivery</dt>
        <dd>{queue.lastSuccessAt !== undefined ? ago(queue.lastSuccessAt, now) : 'not yet'}</dd>
      </dl>
      <h3 style="font-size:1rem;margin:12px 0 4px">Refused by the server</h3>
      {queue.rejectedTotal === 0 ? <p data-testid="queue-rejected-none">None.</p> : (
        <ul class="list" data-testid="queue-rejected">
          {queue.rejected.map((r) => (
            <li key={`${r.collection}|${r.id}|${r.at}`} data-testid="queue-rejected-item" data-collection={r.collection} data-id={r.id}>
              <strong>{kindName(r.collection, false)} {r.id.slice(0, 8)}</strong>: {r.reason} <span class="meta">({r.code}, {ago(r.at, now)})</span>
            </li>
          ))}
          {queue.rejectedTotal > queue.rejected.length && <li class="meta">and {queue.rejectedTotal - queue.rejected.length} earlier</li>}
        </ul>
      )}
    </fieldset>
  );
}

// ---- the shell --------------------------------------------------------------------------------
export interface NavItem { path: string; label: string }

/** Where the person was before Settings opened (by its button or a link): closing it goes back there. */
let beforeSettings = '';
route.subscribe((path) => {
  if (path.split('/')[0] !== 'settings') beforeSettings = path;
});
function toggleSettings(open: boolean): void {
  go(open ? beforeSettings : 'settings');
}

export function AppShell(props: { title: string; nav: NavItem[]; children: ComponentChildren }) {
  const user = database().session.user;
  const current = route.value.split('/')[0] ?? '';
  const who = [user.displayName ?? user.userId, user.unitId ? `unit ${user.unitId}` : undefined, user.technicianId ? `technician ${user.technicianId}` : undefined]
    .filter(Boolean).join(' · ');
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="app-header">
        <h1>{props.title}</h1>
        <span class="who">{who}</span>
        <span class="spacer" />
        <a class="button" href={homeFor(user.role) === location.pathname ? '/' : homeFor(user.role)}>Apps</a>
        <button onClick={() => toggleSettings(current === 'settings')} aria-pressed={current === 'settings'}>Settings</button>
      </header>
      <StatusBar />
      <Banners />
      <InitialSync />
      {props.nav.length > 0 && (
        <nav class="app-nav" aria-label="Sections">
          {props.nav.map((item) => (
            <button key={item.path} aria-current={current === item.path ? 'page' : undefined} onClick={() => go(item.path)}>{item.label}</button>
          ))}
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {current === 'settings' ? <Settings /> : props.children}
      </main>
    </>
  );
}

// ---- autosaving fields ------------------------------------------------------------------------
interface FieldBase {
  label: string;
  collection: CollectionName;
  docId: string;
  path: Path;
  disabled?: boolean;
  /** A problem from the server (finalizeErrors) for this field. */
  serverError?: string | undefined;
  hint?: string;
  testId?: string;
  /** Shown under the field, e.g. a marker that two devices wrote different values here. */
  note?: ComponentChildren;
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** Why the field's journal entry is not saved (`undefined`: there is none, or it is on its way). */
function draftProblem(props: FieldBase): string | undefined {
  const entry = journalEntry(props.collection, props.docId, props.path);
  return entry && notSaved(entry) ? entry.problem ?? 'Not saved: fix this value.' : undefined;
}

/**
 * The text shown in a field: a draft from the journal wins over the stored value. A draft that
 * could not be saved (the form or the database refused it) stays in its field with the reason,
 * across reloads, until the person fixes it or discards it (`discard`: the stored value again).
 */
function useDraft(props: FieldBase, stored: string) {
  const entry = journalEntry(props.collection, props.docId, props.path);
  const [draft, setDraft] = useState(entry?.raw ?? stored);
  const [problem, setProblem] = useState<string | undefined>(draftProblem(props));
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    const sync = () => {
      const current = journalEntry(props.collection, props.docId, props.path);
      if (current && notSaved(current)) {
        // Not saved (here, in another tab, or before a reload): show it, with the reason.
        nameDraft(props.collection, props.docId, props.path, props.label);
        if (!focused) setDraft(current.raw);
        setProblem(draftProblem(props));
      } else if (!focused && !journalEntry(props.collection, props.docId, props.path, true)) {
        // Another tab, device or the server changed it: show that, unless the person is typing here.
        setDraft(stored);
        setProblem(undefined);
      }
    };
    sync();
    // Only this field's entry decides what it shows: not called for the other fields' keystrokes.
    return onJournalChange(sync, { collection: props.collection, id: props.docId, path: props.path });
  }, [stored, focused, props.collection, props.docId, JSON.stringify(props.path)]);
  const change = (raw: string, parsed: Parsed) => {
    setDraft(raw);
    setProblem(parsed.ok ? undefined : parsed.message);
    saveField({
      collection: props.collection, id: props.docId, path: props.path, raw, valid: parsed.ok, label: props.label,
      ...(parsed.ok ? { value: parsed.value } : { problem: parsed.message }),
    });
  };
  const discard = () => {
    discardDraft(props.collection, props.docId, props.path);
    setDraft(stored);
    setProblem(undefined);
  };
  const focus = { onFocus: () => setFocused(true), onBlur: () => setFocused(false) };
  return { draft, change, problem, focus, discard };
}

function FieldFrame(props: {
  id: string; label: string; problem?: string | undefined; serverError?: string | undefined; hint?: string | undefined; wide?: boolean;
  /** Offered with a problem: give up the draft (the stored value is shown again). */
  onDiscard?: (() => void) | undefined;
  disabled?: boolean | undefined;
  note?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <div class={props.wide ? 'field wide' : 'field'} data-not-saved={props.problem ? 'true' : undefined}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.problem && (
        <div class="hint bad" id={`${props.id}-problem`} role="alert" data-testid="field-problem">
          {props.problem} <span class="meta">Not saved.</span>
        </div>
      )}
      {props.problem && props.onDiscard && !props.disabled && (
        <button type="button" style="margin-top:6px" data-testid="discard-draft" onClick={props.onDiscard}>Discard this draft</button>
      )}
      {props.serverError && <div class="hint bad" id={`${props.id}-server`} data-testid="field-server-error">{props.serverError}</div>}
      {props.hint && !props.problem && <div class="hint" id={`${props.id}-hint`}>{props.hint}</div>}
      {props.note}
    </div>
  );
}

function describedBy(id: string, problem?: string, serverError?: string, hint?: string): string | undefined {
  return [problem && `${id}-problem`, serverError && `${id}-server`, hint && !problem && `${id}-hint`].filter(Boolean).join(' ') || undefined;
}

export function TextField(props: FieldBase & {
  value: string | undefined; multiline?: boolean; maxLength?: number; required?: boolean; inputMode?: string; pattern?: RegExp; patternHint?: string;
  /** A check past the pattern (a date that exists and is not after the call): why the value is refused, or undefined. */
  validate?: (value: string) => string | undefined;
  /**
   * The id of a `<datalist>` on the page (SuggestionList) to pick from: a code list searched by
   * name; the browser offers the entries matching what is typed, and any other value the field
   * accepts can still be typed. One list serves every field of its kind (500 medications).
   */
  suggestions?: string;
  /** What the stored value means, shown under the field (a code's label). */
  describe?: (value: string) => string | undefined;
}) {
  const id = useId();
  const { draft, change, problem, focus, discard } = useDraft(props, props.value ?? '');
  const onInput = (event: TargetedEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    const raw = event.currentTarget.value;
    const trimmed = raw.trim();
    if (props.maxLength && raw.length > props.maxLength) return change(raw, { ok: false, message: `At most ${props.maxLength} characters.` });
    if (!trimmed && props.required) return change(raw, { ok: false, message: 'Required.' });
    if (trimmed && props.pattern && !props.pattern.test(trimmed)) return change(raw, { ok: false, message: props.patternHint ?? 'This value has the wrong form.' });
    const refused = trimmed && props.validate ? props.validate(trimmed) : undefined;
    if (refused) return change(raw, { ok: false, message: refused });
    change(raw, { ok: true, value: props.multiline ? (raw === '' ? undefined : raw) : trimmed === '' ? undefined : trimmed });
  };
  const common = {
    id, value: draft, onInput, ...focus, disabled: props.disabled, 'aria-invalid': problem || props.serverError ? true : undefined,
    'aria-describedby': describedBy(id, problem, props.serverError, props.hint), 'data-testid': props.testId, 'aria-required': props.required,
    ...recordField({ collection: props.collection, docId: props.docId, path: props.path }, 'text', { maxLength: props.maxLength, pattern: props.pattern, required: props.required }),
  };
  const meaning = !problem && props.describe && props.value ? props.describe(props.value) : undefined;
  return (
    <FieldFrame id={id} label={props.label} problem={problem} serverError={props.serverError} hint={props.hint} onDiscard={discard} disabled={props.disabled} note={props.note}>
      {props.multiline ? <textarea {...common} /> : <input type="text" inputMode={props.inputMode as never} list={props.suggestions} {...common} />}
      {meaning && <div class="meta" data-testid="code-label">{meaning}</div>}
    </FieldFrame>
  );
}

/**
 * A list of short texts edited one per line (allergies, medical history, home medications):
 * stored as a list, one item per non-empty line, each checked against the schema's limits.
 */
export function ListField(props: FieldBase & {
  value: readonly string[] | undefined; maxItems?: number; maxItemLength?: number;
  /** Each line must match (a code list): the line that does not is named with `itemPatternHint`. */
  itemPattern?: RegExp; itemPatternHint?: string;
  /** Codes to search by name: the id of a SuggestionList and its entries ([code, label]); a search box under the list adds the one picked as a line. */
  suggestions?: { id: string; entries: readonly (readonly [string, string])[] };
  /** What a line means (a code's label), listed under the field. */
  describe?: (item: string) => string | undefined;
}) {
  const id = useId();
  const { draft, change, problem, focus, discard } = useDraft(props, (props.value ?? []).join('\n'));
  const check = (raw: string) => {
    const lines = raw.split(/\r?\n/).map((line) => line.trim());
    const items = lines.filter((line) => line !== '');
    if (props.maxItems !== undefined && items.length > props.maxItems) return change(raw, { ok: false, message: `At most ${props.maxItems} lines.` });
    const long = props.maxItemLength === undefined ? -1 : lines.findIndex((line) => line.length > props.maxItemLength!);
    if (long >= 0) return change(raw, { ok: false, message: `Line ${long + 1} is too long: at most ${props.maxItemLength} characters.` });
    const off = props.itemPattern ? lines.findIndex((line) => line !== '' && !props.itemPattern!.test(line)) : -1;
    if (off >= 0) return change(raw, { ok: false, message: `Line ${off + 1} ("${lines[off]}"): ${props.itemPatternHint ?? 'this value has the wrong form.'}` });
    change(raw, { ok: true, value: items.length > 0 ? items : undefined });
  };
  const onInput = (event: TargetedEvent<HTMLTextAreaElement>) => check(event.currentTarget.value);
  // The search box edits no record itself: a pick becomes a line of the list, saved as if typed there.
  const [search, setSearch] = useState('');
  const onSearch = (event: TargetedEvent<HTMLInputElement>) => {
    const typed = event.currentTarget.value;
    const picked = props.suggestions?.entries.find(([code]) => code === typed.trim());
    if (!picked) return setSearch(typed);
    setSearch('');
    const lines = draft.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
    if (!lines.includes(picked[0])) check([...lines, picked[0]].join('\n'));
  };
  const hint = props.hint ?? (props.suggestions ? 'One code per line: search by name below to add one.' : 'One per line.');
  const items = problem ? [] : (props.value ?? []);
  return (
    <FieldFrame id={id} label={props.label} problem={problem} serverError={props.serverError} hint={hint} onDiscard={discard} disabled={props.disabled} note={props.note}>
      <textarea id={id} value={draft} onInput={onInput} {...focus} disabled={props.disabled} rows={3} data-testid={props.testId}
        {...recordField({ collection: props.collection, docId: props.docId, path: props.path }, 'lines', { pattern: props.itemPattern })}
        aria-invalid={problem || props.serverError ? true : undefined} aria-describedby={describedBy(id, problem, props.serverError, hint)} />
      {props.describe && items.length > 0 && (
        <ul class="meta" data-testid="code-labels" style="margin:4px 0 0 1em;padding:0">
          {items.map((item) => <li key={item}>{item}: {props.describe!(item) ?? 'a code not on the NEMSIS list'}</li>)}
        </ul>
      )}
      {props.suggestions && !props.disabled && (
        <>
          <input type="search" list={props.suggestions.id} value={search} onInput={onSearch} placeholder="Search the list to add…" aria-label={`Search ${props.label}`}
            data-testid={`${props.testId}-search`} style="margin-top:6px" {...notARecordField(`searches the NEMSIS list; a pick is added as a line of ${props.label}`)} />
        </>
      )}
    </FieldFrame>
  );
}

export function NumberField(props: FieldBase & { value: number | undefined; min?: number; max?: number; integer?: boolean; unit?: string }) {
  const id = useId();
  const { draft, change, problem, focus, discard } = useDraft(props, props.value === undefined ? '' : String(props.value));
  const onInput = (event: TargetedEvent<HTMLInputElement>) => {
    const raw = event.currentTarget.value;
    const trimmed = raw.trim().replace(',', '.');
    if (trimmed === '') return change(raw, { ok: true, value: undefined });
    const n = Number(trimmed);
    if (!Number.isFinite(n) || !/^-?[0-9]+(\.[0-9]+)?$/.test(trimmed)) return change(raw, { ok: false, message: 'Numbers only.' });
    if (props.integer && !Number.isInteger(n)) return change(raw, { ok: false, message: 'Whole numbers only.' });
    if (props.min !== undefined && n < props.min) return change(raw, { ok: false, message: `At least ${props.min}${props.unit ? ' ' + props.unit : ''}.` });
    if (props.max !== undefined && n > props.max) return change(raw, { ok: false, message: `At most ${props.max}${props.unit ? ' ' + props.unit : ''}.` });
    change(raw, { ok: true, value: n });
  };
  return (
    <FieldFrame id={id} label={props.unit ? `${props.label} (${props.unit})` : props.label} problem={problem} serverError={props.serverError} hint={props.hint} onDiscard={discard} disabled={props.disabled} note={props.note}>
      <input id={id} type="text" inputMode={props.integer ? 'numeric' : 'decimal'} value={draft} onInput={onInput} {...focus} disabled={props.disabled}
        aria-invalid={problem || props.serverError ? true : undefined} aria-describedby={describedBy(id, problem, props.serverError, props.hint)} data-testid={props.testId}
        {...recordField({ collection: props.collection, docId: props.docId, path: props.path }, 'number', { min: props.min, max: props.max, integer: props.integer })} />
    </FieldFrame>
  );
}

export function SelectField(props: FieldBase & { value: string | undefined; options: readonly (readonly [string, string])[] }) {
  const id = useId();
  const { draft, change, problem, focus, discard } = useDraft(props, props.value ?? '');
  return (
    <FieldFrame id={id} label={props.label} problem={problem} serverError={props.serverError} hint={props.hint} onDiscard={discard} disabled={props.disabled} note={props.note}>
      <select id={id} value={draft} {...focus} disabled={props.disabled} data-testid={props.testId}
        {...recordField({ collection: props.collection, docId: props.docId, path: props.path }, 'select')}
        aria-invalid={props.serverError ? true : undefined} aria-describedby={describedBy(id, problem, props.serverError, props.hint)}
        onChange={(event) => {
          const raw = event.currentTarget.value;
          change(raw, { ok: true, value: raw === '' ? undefined : raw });
        }}>
        <option value="">—</option>
        {props.options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
      </select>
    </FieldFrame>
  );
}

/**
 * A list of codes, several of which may apply (ROSC, trauma triage criteria, hospital
 * capabilities): each option a code of the field's element, the field holds the codes picked
 * (none picked: no value). The labels of the picked ones are listed under it, since a long list
 * scrolls them out of sight.
 */
export function CodesField(props: FieldBase & { value: readonly string[] | undefined; options: readonly (readonly [string, string])[] }) {
  const id = useId();
  const { draft, change, problem, focus, discard } = useDraft(props, (props.value ?? []).join('\n'));
  const chosen = new Set(draft.split('\n').filter(Boolean));
  const chosenLabels = props.options.filter(([value]) => chosen.has(value)).map(([, text]) => text);
  const hint = props.hint ?? 'Pick all that apply.';
  return (
    <FieldFrame id={id} wide label={props.label} problem={problem} serverError={props.serverError} hint={hint} onDiscard={discard} disabled={props.disabled} note={props.note}>
      <select id={id} multiple size={Math.min(5, props.options.length)} {...focus} disabled={props.disabled} data-testid={props.testId}
        {...recordField({ collection: props.collection, docId: props.docId, path: props.path }, 'select', { multiple: true })}
        aria-invalid={props.serverError ? true : undefined} aria-describedby={describedBy(id, problem, props.serverError, hint)}
        onChange={(event) => {
          const values = [...event.currentTarget.selectedOptions].map((o) => o.value).filter(Boolean);
          change(values.join('\n'), { ok: true, value: values.length > 0 ? values : undefined });
        }}>
        {props.options.map(([value, text]) => <option key={value} value={value} selected={chosen.has(value)}>{text}</option>)}
      </select>
      {chosenLabels.length > 0 && <div class="meta" data-testid="codes-chosen">{chosenLabels.join('; ')}</div>}
    </FieldFrame>
  );
}

/** A list of suggestions ([value, label]) for the fields that name it by `id` (TextField, ListField `suggestions`): rendered once per page. */
export function SuggestionList(props: { id: string; entries: readonly (readonly [string, string])[] }) {
  return <datalist id={props.id}>{props.entries.map(([value, label]) => <option key={value} value={value} label={label}>{label}</option>)}</datalist>;
}

/**
 * A time with its offset: the wall clock in a `datetime-local` input, the offset shown and kept.
 * It refuses a time in the future and one before `range` (client/ui/time-range.ts), declaring both
 * bounds as epoch ms (data-min, data-max: the latest moves with the clock).
 */
export function TimeField(props: FieldBase & { value: string | undefined; range?: TimeRange | undefined }) {
  const id = useId();
  const offset = offsetOf(props.value);
  const { draft, change, problem, focus, discard } = useDraft(props, toLocalInput(props.value));
  // The minute, so the declaration changes once a minute, not on every tick.
  const latest = latestTime(Math.floor(clock.value / 60_000) * 60_000);
  return (
    <FieldFrame id={id} wide label={`${props.label} (UTC${offset})`} problem={problem} serverError={props.serverError} hint={props.hint} onDiscard={discard} disabled={props.disabled} note={props.note}>
      <div class="row" style="flex-wrap:nowrap">
        <input id={id} type="datetime-local" step={1} value={draft} {...focus} disabled={props.disabled} data-testid={props.testId}
          {...recordField({ collection: props.collection, docId: props.docId, path: props.path }, 'time', { min: props.range?.earliest, max: latest })}
          aria-invalid={problem || props.serverError ? true : undefined} aria-describedby={describedBy(id, problem, props.serverError, props.hint)}
          onInput={(event) => {
            const raw = event.currentTarget.value;
            if (raw === '') return change(raw, { ok: true, value: undefined });
            const value = fromLocalInput(raw, props.value ? offset : localOffset());
            const outOfRange = value ? timeRangeProblem(value, props.range) : undefined;
            change(raw, !value ? { ok: false, message: 'Enter a date and time.' } : outOfRange ? { ok: false, message: outOfRange } : { ok: true, value });
          }} />
        <button type="button" disabled={props.disabled} aria-label={`${props.label}: now`}
          onClick={() => {
            const value = offsetDateTime(new Date());
            change(toLocalInput(value), { ok: true, value });
          }}>Now</button>
      </div>
    </FieldFrame>
  );
}

/** Whether the app data has loaded once (for the offline time-to-usable figure). */
export function markReady(): void {
  const w = window as unknown as { __fieldsyncReadyAt?: number };
  if (w.__fieldsyncReadyAt === undefined) {
    w.__fieldsyncReadyAt = performance.now();
    performance.mark('fieldsync:usable');
  }
}
