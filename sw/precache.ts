/// <reference lib="webworker" />
/**
 * The app shells and assets of every app, precached at install (Workbox). Navigations are
 * answered from the cache (cache first: the shell never needs the network), so an app opens
 * fully offline after it was loaded once; API and socket traffic is never touched here.
 */
import { addRoute, cleanupOutdatedCaches, createHandlerBoundToURL, precache, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { API_PREFIX } from '../shared/protocol/index.ts';

/** App path prefix → its shell in the precache. `/` is the sign-in page. */
export const APP_SHELLS: Readonly<Record<string, string>> = {
  '/crew/': '/crew/index.html',
  '/mdt/': '/mdt/index.html',
  '/tech/': '/tech/index.html',
  '/dispatch/': '/dispatch/index.html',
  '/office/': '/office/index.html',
  '/login/': '/login/index.html',
};
const ROOT_SHELL = '/login/index.html';

/** Never answered with an app shell: the server's own routes. */
const SERVER_ROUTES = [new RegExp(`^${API_PREFIX}`), /^\/socket\.io\//, /^\/health$/, /^\/ready$/, /^\/metrics$/];

export function shellFor(pathname: string): string | undefined {
  if (SERVER_ROUTES.some((pattern) => pattern.test(pathname))) return undefined;
  if (pathname === '/' || pathname === '/index.html') return ROOT_SHELL;
  for (const [prefix, shell] of Object.entries(APP_SHELLS)) {
    if (pathname === prefix.slice(0, -1) || pathname.startsWith(prefix)) return shell;
  }
  return undefined;
}

export function installPrecache(manifest: (string | PrecacheEntry)[]): void {
  precache(manifest);
  cleanupOutdatedCaches();
  const handlers = new Map<string, ReturnType<typeof createHandlerBoundToURL>>();
  const handlerFor = (shell: string) => {
    let handler = handlers.get(shell);
    if (!handler) {
      handler = createHandlerBoundToURL(shell);
      handlers.set(shell, handler);
    }
    return handler;
  };
  registerRoute(new NavigationRoute((options) => handlerFor(shellFor(options.url.pathname)!)(options), {
    allowlist: [/^\/$/, /^\/index\.html$/, ...Object.keys(APP_SHELLS).map((prefix) => new RegExp(`^${prefix.slice(0, -1)}(/|$)`))],
    denylist: SERVER_ROUTES,
  }));
  addRoute({ directoryIndex: 'index.html', ignoreURLParametersMatching: [/.*/] });
}
