/**
 * A test hook: counts a component's renders per state of what it shows, so a browser test can
 * tell that typing into one field re-renders that field only, not the whole form around it
 * (test/e2e/typing-renders.test.ts). Off unless the page set `__fieldsyncRenderLog` before the
 * app loaded (a test's init script): in use, the app pays one property read per render.
 */
type RenderLog = Record<string, number>;

export function countRender(component: string, shown: () => unknown): void {
  const log = (globalThis as { __fieldsyncRenderLog?: RenderLog }).__fieldsyncRenderLog;
  if (!log) return;
  const key = `${component}|${JSON.stringify(shown())}`;
  log[key] = (log[key] ?? 0) + 1;
}
