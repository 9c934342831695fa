/**
 * What SaxonJS's Node build (npm saxon-js, the one build the project can pin) asks of Node, for
 * the rules worker in the browser: it loads `fs`, `path`, `stream`, `url`, `util` and `axios` at
 * start, but running a compiled stylesheet on a string needs none of them (no file, no HTTP).
 * vite.config.ts points those imports here for the worker's bundle only.
 */
export function Stream(): void {}
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;
export const URL = globalThis.URL;
/** The base URI SaxonJS computes from the "current directory" is never read for a string source. */
export function fileURLToPath(url: string | URL): string {
  return String(url);
}
export function resolve(...parts: string[]): string {
  return `/${parts.filter(Boolean).join('/').replace(/^\/+/, '')}`;
}
export const sep = '/';
export default {};
