/**
 * Serves the built apps (`vite build` → dist/client): sign-in at `/`, the apps at `/crew/`,
 * `/mdt/`, `/tech/`, `/dispatch/`, `/office/`, their assets, icons, manifests and the service worker.
 *
 * Only files that exist at start-up get routes (no catch-all), so every other path keeps the
 * server's own 404 and the API is never shadowed. Hashed assets are cached for a year; HTML,
 * manifests and the service worker are revalidated on every load so an update is found.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const CLIENT_DIST = path.join(REPO_ROOT, 'dist/client');

/** What the client build is made from: when any of it is newer than the build, it is rebuilt. */
export const CLIENT_SOURCES = ['client', 'shared', 'sw', 'vite.config.ts', 'package.json', 'shared/domain/epcr-validation.ts'];
/** Written last by the build (the service worker is made after the apps). */
const BUILD_MARKER = 'service-worker.js';

export function clientIsBuilt(root = CLIENT_DIST): boolean {
  return existsSync(path.join(root, 'login/index.html')) && existsSync(path.join(root, BUILD_MARKER));
}

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** The build is missing, or a source file changed after it was made. */
export function clientBuildIsStale(repoRoot = REPO_ROOT, outDir = path.join(repoRoot, 'dist/client')): boolean {
  if (!clientIsBuilt(outDir)) return true;
  const built = statSync(path.join(outDir, BUILD_MARKER)).mtimeMs;
  return CLIENT_SOURCES.some((source) => newestMtime(path.join(repoRoot, source)) > built);
}

/**
 * Builds the apps when they are missing or older than their sources. Serialised across
 * processes with a lock directory (parallel test workers may ask at once). Needs vite (a dev
 * dependency); without it an existing build is used as it is.
 */
export async function ensureClientBuilt(options: { repoRoot?: string; log?: (message: string) => void; force?: boolean } = {}): Promise<'fresh' | 'built' | 'unavailable'> {
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  const log = options.log ?? ((message: string) => console.log(message));
  const lock = path.join(repoRoot, 'dist/.client-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than 5 minutes is left over from a crash.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() - started > 600_000) throw new Error('timed out waiting for another client build');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    if (!options.force && !clientBuildIsStale(repoRoot)) return 'fresh';
    let vite: typeof import('vite');
    try {
      vite = await import('vite');
    } catch {
      log('fieldsync: vite is not installed; serving the existing client build as it is');
      return 'unavailable';
    }
    log('fieldsync: building the apps (vite build)…');
    const t0 = Date.now();
    await vite.build({ configFile: path.join(repoRoot, 'vite.config.ts'), logLevel: 'warn' });
    log(`fieldsync: apps built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 'built';
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The CSP of the database worker: helmet's default 'self' policy plus 'unsafe-eval' for ajv. */
export const DB_WORKER_CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; connect-src 'self'; object-src 'none'; base-uri 'self'";

export interface StaticOptions {
  /** The build output; defaults to dist/client. */
  root?: string;
}

/** Registers the apps when a build exists; returns false (and serves nothing) when it does not. */
export async function registerClientApps(app: FastifyInstance, options: StaticOptions = {}): Promise<boolean> {
  const root = options.root ?? CLIENT_DIST;
  if (!clientIsBuilt(root)) {
    app.log.warn({ root }, 'the apps are not built (run `npx vite build` or `npm start`); only the API is served');
    return false;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    redirect: true,
    cacheControl: false,
    setHeaders(res, filePath) {
      const rel = path.relative(root, filePath).split(path.sep).join('/');
      if (rel.startsWith('assets/')) res.header('cache-control', 'public, max-age=31536000, immutable');
      else res.header('cache-control', 'no-cache');
      if (rel === BUILD_MARKER) res.header('service-worker-allowed', '/');
      if (rel.endsWith('.webmanifest')) res.header('content-type', 'application/manifest+json');
      // The database worker validates documents with ajv, which compiles schemas with
      // `new Function`: only that worker (its CSP is its own script's) may evaluate code.
      if (/^assets\/db\.worker-[A-Za-z0-9_-]+\.js$/.test(rel)) res.header('content-security-policy', DB_WORKER_CSP);
    },
  });
  // Sign-in is the site's front page (a page, not part of the API's OpenAPI document).
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('login/index.html', root));
  return true;
}
