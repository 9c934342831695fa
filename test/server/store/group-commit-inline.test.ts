import Database from 'better-sqlite3';
import { fsyncSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DurabilityFailed, GroupCommit } from '../../../server/store/group-commit.ts';
import { walTestDatabase } from './fixtures.ts';

/**
 * The group commit's clock: time passes only when the test says so, so a transaction or an fsync
 * takes what the test chooses whatever this machine's CPU and disk do (a real fsync on a loaded
 * disk took longer than the thresholds and sent a "quick" group to the pool).
 */
let clock = 0;
/** A transaction or an fsync that takes `ms`. */
function busy(ms: number): void {
  clock += ms;
}

describe('group commit: small groups on a quick disk are synced on the event loop', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Both fsyncs are the test's: the pool's answers on the next turn, the loop's does what the
   * test says, so the disk's timing is the test's to choose, whatever this machine's disk does.
   */
  function setup(inline: (fd: number) => void) {
    const { db, file, dir } = walTestDatabase('group-commit-inline');
    dirs.push(dir);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const paths: string[] = [];
    // On the test's clock a quick write takes 0 ms; the slow transaction and fsync take 80 ms.
    const groups = new GroupCommit(db, {
      walFile: `${file}-wal`,
      inline: { maxGroupMs: 40, maxSyncMs: 10 },
      clock: () => clock,
      fsync: (_fd, done) => { paths.push('pool'); setImmediate(() => done(null)); },
      fsyncInline: (fd) => { paths.push('loop'); inline(fd); },
    });
    return { db, file, insert, groups, paths };
  }

  it('answers a one-row write only after its inline fsync; a long transaction or a slow disk goes to the thread pool', { timeout: 20_000 }, async () => {
    const events: string[] = [];
    let visibleAtSync: number | undefined;
    let slow = false;
    const { db, file, insert, groups, paths } = setup((fd) => {
      const reader = new Database(file, { readonly: true });
      visibleAtSync ??= (reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
      reader.close();
      events.push('fsync');
      if (slow) busy(80);
      fsyncSync(fd);
    });
    try {
      // One row: committed, then synced on the loop, then its commit notification and its caller.
      await groups.run(() => insert.run('a'), { durable: () => events.push('durable') }).then(() => events.push('answered'));
      expect(paths).toEqual(['loop']);
      expect(visibleAtSync).toBe(1);
      expect(events).toEqual(['fsync', 'durable', 'answered']);

      // A group whose transaction takes longer than maxGroupMs is synced on the pool.
      await groups.run(() => { insert.run('b'); busy(80); });
      expect(paths).toEqual(['loop', 'pool']);

      // A slow inline fsync (80 ms) raises the running average over maxSyncMs: the next small
      // groups go to the pool until quick syncs bring it down again (0.8 of it per sync).
      slow = true;
      await groups.run(() => insert.run('c'));
      expect(paths.at(-1)).toBe('loop');
      slow = false;
      await groups.run(() => insert.run('d'));
      expect(paths.at(-1)).toBe('pool');
      for (let i = 0; i < 10 && paths.at(-1) !== 'loop'; i++) await groups.run(() => insert.run(`e${i}`));
      expect(paths.at(-1)).toBe('loop');
      expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBeGreaterThanOrEqual(5);
    } finally {
      await groups.close();
      db.close();
    }
  });

  it('a failed inline fsync fails its writers with DurabilityFailed, and the next write goes through', async () => {
    let fail = true;
    const { db, insert, groups } = setup((fd) => {
      if (fail) {
        fail = false;
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      }
      fsyncSync(fd);
    });
    try {
      const failed = await groups.run(() => insert.run('a')).then(() => undefined, (error: unknown) => error);
      expect(failed).toBeInstanceOf(DurabilityFailed);
      expect((failed as Error).message).toMatch(/disk failed to make it durable \(fsync: EIO/);
      await expect(groups.run(() => insert.run('b'))).resolves.toBeDefined();
      expect((db.prepare('SELECT v FROM t ORDER BY id').all() as { v: string }[]).map((r) => r.v)).toEqual(['a', 'b']);
    } finally {
      await groups.close();
      db.close();
    }
  });
});
