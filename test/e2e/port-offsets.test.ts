import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Browser tests listen on FIELDSYNC_E2E_PORT_BASE + a fixed offset per file (e2ePort), and a
 * tablet behind a real link gets a network namespace, interfaces and a subnet named after its
 * cable's port (support/link.ts). So an offset used by two files would make them fight over a
 * port, or tear down each other's link, when they run side by side: each offset belongs to one file.
 */
describe('e2e port offsets', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const sources = (dir: string): string[] => readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));

  it('no offset is used by two files', () => {
    const users = new Map<number, Set<string>>();
    for (const file of [...sources('test'), ...sources('bench')]) {
      for (const match of readFileSync(path.join(root, file), 'utf8').matchAll(/\be2ePort\((\d+)\)/g)) {
        const offset = Number(match[1]);
        users.set(offset, (users.get(offset) ?? new Set()).add(file));
      }
    }
    expect(users.size).toBeGreaterThan(0);
    const shared = [...users].filter(([, files]) => files.size > 1).map(([offset, files]) => `e2ePort(${offset}): ${[...files].join(', ')}`);
    expect(shared).toEqual([]);
  });
});
