import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const OWNER = path.join('shared', 'protocol');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return /\.(ts|tsx|mts|js|mjs)$/.test(name) ? [rel] : [];
  });
}

describe('shared/protocol is the only owner of the HTTP API\'s paths', () => {
  it('no source file of the device, the service worker or the server spells a path under /api/ (comments included)', () => {
    const offenders = ['client', 'server', 'sw', 'shared']
      .flatMap(sources)
      .filter((file) => !file.startsWith(OWNER + path.sep))
      .flatMap((file) => readFileSync(path.join(ROOT, file), 'utf8').split('\n')
        .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
        .filter(({ line }) => /\/api\//.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`));
    // Use the endpoints of shared/protocol/paths.ts (SYNC.push, AUTH.login, …) and pathOf/patternOf instead.
    expect(offenders).toEqual([]);
  });
});
