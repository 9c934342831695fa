// The walls of the house (scripts/walls/rules.ts) hold on the real tree, and the checker bites:
// each kind of breach, planted in a small made-up tree, is reported.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkWalls, formatBreach, readSources, type SourceFile } from '../scripts/walls/check.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the walls of the house', () => {
  it('hold on the tree: no breach of any import, text or one-definition wall, and no import circle', () => {
    expect(checkWalls(readSources(repoRoot)).map(formatBreach)).toEqual([]);
  });
});

describe('the test tree', () => {
  // Tests mirror the source tree, so a folder's tests are found beside its path; the whole-system
  // folders (e2e in Chromium, scenarios) and the tests' own support are the exceptions.
  const OWN_FOLDERS = new Set(['test/e2e', 'test/scenarios', 'test/helpers', 'test/fixtures']);
  const foldersUnder = (dir: string): string[] => readdirSync(path.join(repoRoot, dir))
    .map((entry) => `${dir}/${entry}`)
    .filter((entry) => statSync(path.join(repoRoot, entry)).isDirectory() && !OWN_FOLDERS.has(entry))
    .flatMap((entry) => [entry, ...foldersUnder(entry)]);

  it('names only folders the source tree has', () => {
    const strays = foldersUnder('test').filter((folder) => {
      try { return !statSync(path.join(repoRoot, folder.slice('test/'.length))).isDirectory(); } catch { return true; }
    });
    expect(strays).toEqual([]);
  });
});

describe('the walls checker', () => {
  const tree = (files: Record<string, string>): SourceFile[] => Object.entries(files).map(([file, text]) => ({ path: file, text }));

  it('reports shared/ importing a side, the device importing the server, and replication importing hooks', () => {
    const breaches = checkWalls(tree({
      'shared/a.ts': "import { x } from '../server/b.ts';",
      'server/b.ts': 'export const x = 1;',
      'client/c.tsx': "import type { x } from '../server/b.ts';\nexport const C = () => <p>{'ok'}</p>;",
      'server/replication/push.ts': "export { y } from '../hooks/registry.ts';",
      'server/hooks/registry.ts': 'export const y = 2;',
      'server/store/sqlite.ts': "const m = await import('fastify');",
    }), { texts: [], definitions: false }).map(formatBreach);
    expect(breaches.sort()).toEqual([
      'device-never-imports-server: client/c.tsx -> server/b.ts',
      'replication-is-generic: server/replication/push.ts -> server/hooks/registry.ts',
      'shared-is-self-contained: shared/a.ts -> server/b.ts',
      'store-knows-no-http-and-no-hooks: server/store/sqlite.ts -> fastify',
    ]);
  });

  it('reports the device queue importing one of its users, and the session importing a screen or Preact', () => {
    const breaches = checkWalls(tree({
      'client/queue/rows.ts': "import { a } from '../ui/sw-queue.ts'; import { b } from '../../sw/queue/delivery.ts'; import { c } from './lanes.ts';",
      'client/queue/lanes.ts': 'export const c = 1;',
      'client/ui/sw-queue.ts': 'export const a = 1;',
      'sw/queue/delivery.ts': "import { c } from '../../client/queue/lanes.ts'; export const b = 2;",
      'client/session/lock.ts': "import { signal } from '@preact/signals'; import { d } from '../ui/db.ts'; import { c } from '../queue/lanes.ts';",
      'client/ui/db.ts': 'export const d = 4;',
    }), { texts: [], definitions: false }).map(formatBreach);
    expect(breaches.sort()).toEqual([
      'session-knows-no-screens: client/session/lock.ts -> @preact/signals',
      'session-knows-no-screens: client/session/lock.ts -> client/ui/db.ts',
      'the-queue-stands-alone: client/queue/rows.ts -> client/ui/sw-queue.ts',
      'the-queue-stands-alone: client/queue/rows.ts -> sw/queue/delivery.ts',
    ]);
  });

  it('reports an /api/ path outside shared/protocol, but not one inside it nor import-like text in a string', () => {
    const breaches = checkWalls(tree({
      'shared/protocol/paths.ts': "export const PULL = '/api/sync/pull';",
      'sw/delivery.ts': 'const url = `/api/sync/${collection}/push`; const note = "import x from \'../server/y.ts\'";',
      'client/ok.ts': "const local = '/crew/';",
    })).map(formatBreach);
    expect(breaches).toEqual(['api-paths-live-in-the-protocol: sw/delivery.ts -> "/api/sync/"']);
  });

  it('reports a name exported by two product files, once, with both homes', () => {
    const breaches = checkWalls(tree({
      'client/ids.ts': 'export async function deterministicId(...parts: string[]) { return parts.join(); }',
      'server/ids.ts': 'export function deterministicId(...parts: string[]) { return parts.join(); }\nfunction local() {}',
      'server/other.ts': 'function local() {}\nexport const unrelated = 1;',
    })).map(formatBreach);
  });

  it('reports a circle of imports once, with its files', () => {
    const breaches = checkWalls(tree({
      'client/a.ts': "import { b } from './b.ts'; export const a = 1;",
      'client/b.ts': "import { a } from './a'; export const b = 2;",
      'client/c.ts': "import { a } from './a.ts';",
    })).map(formatBreach);
    expect(breaches).toEqual(['no-circles: client/a.ts -> client/b.ts -> client/a.ts']);
  });
});
