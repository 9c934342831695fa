/**
 * Page-wide state every app shows: network, service worker updates, storage and theme.
 */
import { computed, signal } from '@preact/signals';
import { Workbox } from 'workbox-window';
import { flushAll } from './autosave.ts';

// ---- network ------------------------------------------------------------------------------
export const online = signal(navigator.onLine);
addEventListener('online', () => (online.value = true));
addEventListener('offline', () => (online.value = false));

/** Ticks every 15 s so "last sync 2 min ago" stays true. */
export const clock = signal(Date.now());
setInterval(() => (clock.value = Date.now()), 15_000);

// ---- service worker -----------------------------------------------------------------------
/** A new version is installed and waiting (or already took over from another tab). */
export const updateReady = signal(false);
export const swState = signal<'none' | 'installing' | 'ready'>('none');
let workbox: Workbox | undefined;
let reloadOnControl = false;

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  workbox = new Workbox('/service-worker.js', { scope: '/' });
  workbox.addEventListener('waiting', () => (updateReady.value = true));
  workbox.addEventListener('controlling', (event) => {
    if (reloadOnControl) location.reload();
    else if (event.isUpdate) updateReady.value = true;
  });
  workbox.addEventListener('activated', () => (swState.value = 'ready'));
  swState.value = navigator.serviceWorker.controller ? 'ready' : 'installing';
  void workbox.register().catch((error: unknown) => console.warn('fieldsync: service worker not registered', error));
  // A long-running console or tablet looks for a new version now and then, and when shown again.
  setInterval(() => void workbox?.update().catch(() => {}), 60 * 60 * 1000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && navigator.onLine) void workbox?.update().catch(() => {});
  });
}

/** Activates the waiting version and reloads. Safe: every keystroke is already on the device. */
export async function applyUpdate(): Promise<void> {
  await flushAll();
  reloadOnControl = true;
  if (workbox && updateReady.value && navigator.serviceWorker.controller) {
    workbox.messageSkipWaiting();
    setTimeout(() => location.reload(), 3000); // the new version may already control this page
  } else {
    location.reload();
  }
}

// ---- storage --------------------------------------------------------------------------------
export interface StorageInfo { usage: number; quota: number; persisted: boolean }
export const storage = signal<StorageInfo | undefined>(undefined);
/** Warn when less than 15 % or 100 MB of the quota is left. */
export const lowSpace = computed(() => {
  const s = storage.value;
  if (!s || !s.quota) return false;
  const free = s.quota - s.usage;
  return free < 100 * 1024 * 1024 || s.usage / s.quota > 0.85;
});

export async function refreshStorage(): Promise<void> {
  if (!navigator.storage?.estimate) return;
  const [estimate, persisted] = await Promise.all([
    navigator.storage.estimate(),
    navigator.storage.persisted ? navigator.storage.persisted() : Promise.resolve(false),
  ]);
  storage.value = { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted };
}

/** Asks the browser not to evict this device's data under storage pressure. */
export async function requestPersistence(): Promise<boolean> {
  const granted = navigator.storage?.persist ? await navigator.storage.persist().catch(() => false) : false;
  await refreshStorage();
  return granted;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

// ---- theme ----------------------------------------------------------------------------------
const THEME_KEY = 'fieldsync.theme';
export const theme = signal<'day' | 'night'>(
  (localStorage.getItem(THEME_KEY) as 'day' | 'night' | null) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'night' : 'day'),
);
export function setTheme(next: 'day' | 'night'): void {
  theme.value = next;
  localStorage.setItem(THEME_KEY, next);
  document.documentElement.dataset['theme'] = next;
}
document.documentElement.dataset['theme'] = theme.value;
