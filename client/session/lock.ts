/**
 * The lock: the database key in memory, shared between the tabs of one database, and automatic
 * logoff (HIPAA technical safeguards, 45 CFR 164.312). The key itself, and how it is kept
 * wrapped on the device, is keys.ts's.
 *
 * After `idleTimeoutMs()` without input (default 15 minutes) the app locks: the UI is removed
 * (no PHI on screen), the key is dropped from the page and the database worker is terminated.
 * Every change is already durable (IndexedDB, the outbound queue), so a lock loses nothing. Tabs
 * of one database share activity and the lock over a BroadcastChannel: the device locks as a
 * whole, and unlocking one tab unlocks the others.
 */
export const DEFAULT_IDLE_MS = 15 * 60_000;
/** Lock-after choices offered in the settings (minutes). A person can shorten the default, never lengthen it. */
export const IDLE_CHOICES_MINUTES = [1, 2, 5, 10, 15] as const;
const MIN_IDLE_MS = 1000;

const IDLE_SETTING = 'fieldsync.idleMs';

// ---- the key in memory --------------------------------------------------------------------------

let held: { dbName: string; key: string } | undefined;

export function holdKey(dbName: string, key: string): void {
  held = { dbName, key };
  announce(dbName, { type: 'key', key });
}

export function heldKey(dbName: string): string | undefined {
  return held?.dbName === dbName ? held.key : undefined;
}

/**
 * Forgets the key in this page. (A JavaScript string cannot be overwritten; with no reference
 * left it is garbage. The database worker's copy goes with the worker, which is terminated.)
 */
export function dropKey(): void {
  held = undefined;
}

// ---- between the tabs of one database ---------------------------------------------------------

type LockMessage =
  | { type: 'activity'; at: number }
  | { type: 'lock'; reason: 'idle' | 'wipe' | 'signout' }
  | { type: 'key-request'; from: string }
  | { type: 'key'; key: string; to?: string };

const PAGE = Math.random().toString(36).slice(2, 10);
const channels = new Map<string, BroadcastChannel>();
const listeners = new Set<(dbName: string, message: LockMessage) => void>();

function channelFor(dbName: string): BroadcastChannel | undefined {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  let channel = channels.get(dbName);
  if (!channel) {
    channel = new BroadcastChannel(`fieldsync-lock:${dbName}`);
    channel.onmessage = (event: MessageEvent<LockMessage>) => {
      const message = event.data;
      // An unlocked tab lends its key to a tab of the same database that opens or unlocks.
      if (message.type === 'key-request' && held?.dbName === dbName) channel!.postMessage({ type: 'key', key: held.key, to: message.from } satisfies LockMessage);
      for (const listener of listeners) listener(dbName, message);
    };
    channels.set(dbName, channel);
  }
  return channel;
}

function announce(dbName: string, message: LockMessage): void {
  channelFor(dbName)?.postMessage(message);
}

/** Listens to the other tabs of `dbName`; returns the unsubscribe. */
export function onLockMessage(dbName: string, listener: (message: LockMessage) => void): () => void {
  channelFor(dbName);
  const wrapped = (name: string, message: LockMessage) => {
    if (name === dbName) listener(message);
  };
  listeners.add(wrapped);
  return () => listeners.delete(wrapped);
}

/** The key from another open, unlocked tab of this database, if one answers quickly. */
export function keyFromOpenTabs(dbName: string, timeoutMs = 300): Promise<string | undefined> {
  const channel = channelFor(dbName);
  if (!channel) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const stop = onLockMessage(dbName, (message) => {
      if (message.type === 'key' && message.to === PAGE) {
        clearTimeout(timer);
        stop();
        resolve(message.key);
      }
    });
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, timeoutMs);
    channel.postMessage({ type: 'key-request', from: PAGE } satisfies LockMessage);
  });
}

/** Tells every other tab of this database to lock now (`wipe`/`signout`: and not to come back). */
export function lockOtherTabs(dbName: string, reason: 'idle' | 'wipe' | 'signout'): void {
  announce(dbName, { type: 'lock', reason });
}

// ---- automatic logoff -------------------------------------------------------------------------

/**
 * Inactivity before the app locks: 15 minutes, or less if this device's setting says so, or less
 * again with `?idle=<ms>` in the address (tests). Neither can make it longer than the default.
 */
export function idleTimeoutMs(): number {
  const parse = (value: string | null | undefined) => {
    const n = Number(value);
    return Number.isFinite(n) && n > 0 ? n : Number.POSITIVE_INFINITY;
  };
  let setting: string | null = null;
  try {
    setting = localStorage.getItem(IDLE_SETTING);
  } catch {
    // no storage: the default applies
  }
  const query = typeof location !== 'undefined' ? new URLSearchParams(location.search).get('idle') : null;
  return Math.max(MIN_IDLE_MS, Math.min(DEFAULT_IDLE_MS, parse(setting), parse(query)));
}

/** This device's own lock-after setting (ms), if one was chosen. */
export function idleSetting(): number | undefined {
  const n = Number(localStorage.getItem(IDLE_SETTING));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function setIdleSetting(ms: number | undefined): void {
  if (ms === undefined) localStorage.removeItem(IDLE_SETTING);
  else localStorage.setItem(IDLE_SETTING, String(Math.min(DEFAULT_IDLE_MS, Math.max(MIN_IDLE_MS, ms))));
}

const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'input', 'wheel', 'touchstart', 'scroll'] as const;

export interface IdleGuard {
  stop(): void;
}

/**
 * Calls `onIdle` once nobody used any tab of `dbName` for `idleMs` (read again on every check, so
 * a changed setting applies at once). Also checks when the page is shown again: timers of hidden
 * pages are throttled, and a tablet that slept past the limit must come back locked.
 */
export function startIdleGuard(dbName: string, onIdle: () => void, idleMs: () => number = idleTimeoutMs): IdleGuard {
  let last = Date.now();
  let lastSent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (stopped) return;
    const limit = idleMs();
    const left = last + limit - Date.now();
    if (left <= 0) {
      stop();
      lockOtherTabs(dbName, 'idle');
      onIdle();
      return;
    }
    timer = setTimeout(check, Math.min(left + 20, 60_000));
  };
  const touched = (at: number, mine: boolean) => {
    if (stopped || at <= last) return;
    last = at;
    // Others hear of it often enough to never lock while this tab is in use.
    if (mine && at - lastSent > Math.min(idleMs() / 4, 15_000)) {
      lastSent = at;
      announce(dbName, { type: 'activity', at });
    }
  };
  const onActivity = () => touched(Date.now(), true);
  const onVisible = () => {
    if (document.visibilityState === 'visible') {
      if (timer) clearTimeout(timer);
      check();
    }
  };
  const unsubscribe = onLockMessage(dbName, (message) => {
    if (message.type === 'activity') touched(Math.min(message.at, Date.now()), false);
  });
  for (const name of ACTIVITY_EVENTS) addEventListener(name, onActivity, { capture: true, passive: true });
  document.addEventListener('visibilitychange', onVisible);
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    unsubscribe();
    for (const name of ACTIVITY_EVENTS) removeEventListener(name, onActivity, { capture: true });
    document.removeEventListener('visibilitychange', onVisible);
  };
  check();
  return { stop };
}
