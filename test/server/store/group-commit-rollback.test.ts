import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit, GroupCommitFailed } from '../../../server/store/group-commit.ts';
import { walTestDatabase } from './fixtures.ts';

/**
 * A write that throws leaves nothing behind and its caller gets its own error, whether it is
 * alone in its group (the transaction is rolled back, no savepoint) or shares the group with
 * others (its savepoint is rolled back and theirs commit).
 */
describe('group commit: a failing write is rolled back alone', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function setup() {
    const { db, file, dir } = walTestDatabase('group-commit-rollback');
    dirs.push(dir);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const rows = () => (db.prepare('SELECT v FROM t ORDER BY id').all() as { v: string }[]).map((r) => r.v);
    const groups = new GroupCommit(db, { walFile: `${file}-wal` });
    return { db, insert, rows, groups };
  }

  it('a write alone in its group that throws: its own error, none of its rows, no commit callback; the next write commits', async () => {
    const { db, insert, rows, groups } = setup();
    const refused = new Error('refused by a rule');
    const heard: string[] = [];
    try {
      await groups.run(() => insert.run('before'));
      const failed = await groups.run(() => {
        insert.run('half-written');
        throw refused;
      }, { visible: () => heard.push('visible'), durable: () => heard.push('durable') }).then(() => undefined, (error: unknown) => error);
      expect(failed).toBe(refused);
      expect(rows()).toEqual(['before']);
      expect(heard).toEqual([]);
      await groups.run(() => insert.run('after'));
      expect(rows()).toEqual(['before', 'after']);
      expect(db.inTransaction).toBe(false);
    } finally {
      await groups.close();
      db.close();
    }
  });

  it('a write that throws among others of its group: its rows go, the others commit and are answered', async () => {
    const { db, insert, rows, groups } = setup();
    const refused = new Error('refused by a rule');
    try {
      // Queued in one turn: one group of three.
      const outcomes = await Promise.allSettled([
        groups.run(() => insert.run('a')),
        groups.run(() => {
          insert.run('b');
          throw refused;
        }),
        groups.run(() => insert.run('c')),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBe(refused);
      expect(rows()).toEqual(['a', 'c']);
    } finally {
      await groups.close();
      db.close();
    }
  });

  it('a failure of the commit itself fails a group of one with GroupCommitFailed, and nothing of it exists', async () => {
    const { db, file, dir } = walTestDatabase('group-commit-rollback');
    dirs.push(dir);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let failing = true;
    const groups = new GroupCommit(db, { walFile: `${file}-wal`, beforeCommit: () => { if (failing) throw new Error('injected commit failure'); } });
    try {
      const failed = await groups.run(() => insert.run('x')).then(() => undefined, (error: unknown) => error);
      expect(failed).toBeInstanceOf(GroupCommitFailed);
      failing = false;
      await groups.run(() => insert.run('y'));
      expect((db.prepare('SELECT v FROM t').all() as { v: string }[]).map((r) => r.v)).toEqual(['y']);
    } finally {
      await groups.close();
      db.close();
    }
  });
});
