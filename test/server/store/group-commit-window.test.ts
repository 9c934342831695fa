import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit, type CommitWindow } from '../../../server/store/group-commit.ts';
import { walTestDatabase } from './fixtures.ts';

/**
 * The commit window: writes that arrive one at a time but often share a commit and an fsync, and
 * none of them is answered before that fsync. The clock is faked (the only mock): when writes
 * arrive and how long the window lasts are the test's to choose, whatever this machine does.
 */
describe('group commit: the commit window', () => {
  const dirs: string[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Every fsync is held until the test releases it: nobody may be answered before. */
  function setup(window: CommitWindow | undefined) {
    const { db, file, dir } = walTestDatabase('group-commit-window');
    dirs.push(dir);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const syncs: { release: () => void; rowsAtSync: string[] }[] = [];
    const rows = () => (db.prepare('SELECT v FROM t ORDER BY id').all() as { v: string }[]).map((r) => r.v);
    const groups = new GroupCommit(db, {
      walFile: `${file}-wal`,
      fsync: (_fd, done) => { syncs.push({ release: () => done(null), rowsAtSync: rows() }); },
      inline: false,
      ...(window ? { window } : {}),
    });
    const answered: string[] = [];
    const write = (v: string) => groups.run(() => insert.run(v)).then(() => { answered.push(v); });
    return { db, groups, syncs, rows, answered, write };
  }

  /** Lets the loop run what is due now (setImmediate, resolved promises), without moving the clock. */
  const settle = () => vi.advanceTimersByTimeAsync(0);

  it('writes 3 ms apart share one commit and one fsync, and are answered only after it', async () => {
    const { db, groups, syncs, rows, answered, write } = setup({ maxWaitMs: 20, groupOf: 4 });
    try {
      // Writes arriving often: the first of them commit alone (nothing says another is due yet).
      const warm = [write('w1')];
      await vi.advanceTimersByTimeAsync(3);
      warm.push(write('w2'));
      await vi.advanceTimersByTimeAsync(3);
      for (const s of syncs.splice(0)) s.release();
      await settle();
      for (const s of syncs.splice(0)) s.release();
      await Promise.all(warm);

      // Now a write is due every 3 ms: the next one waits for others.
      const pending = [write('a')];
      await vi.advanceTimersByTimeAsync(3);
      pending.push(write('b'));
      await vi.advanceTimersByTimeAsync(3);
      pending.push(write('c'));
      await vi.advanceTimersByTimeAsync(3);
      expect(syncs).toHaveLength(0);
      expect(rows()).not.toContain('a');
      pending.push(write('d'));
      // Four queued (groupOf): committed together at once, 9 ms after the first, not at 20 ms.
      await settle();
      expect(syncs).toHaveLength(1);
      expect(syncs[0]!.rowsAtSync.slice(-4)).toEqual(['a', 'b', 'c', 'd']);
      // Committed, not yet on disk: nobody is answered.
      expect(answered.filter((v) => /^[a-d]$/.test(v))).toEqual([]);
      syncs[0]!.release();
      await Promise.all(pending);
      expect(answered.slice(-4)).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      for (const s of syncs) s.release();
      await groups.close();
      db.close();
    }
  });

  it('a write that found no others within maxWaitMs commits alone when the window ends', async () => {
    const { db, groups, syncs, rows, write } = setup({ maxWaitMs: 20, groupOf: 4 });
    try {
      const first = [write('w1')];
      await vi.advanceTimersByTimeAsync(3);
      first.push(write('w2'));
      await settle();
      for (let i = 0; i < 3; i++) {
        for (const s of syncs.splice(0)) s.release();
        await settle();
      }
      await Promise.all(first);

      await vi.advanceTimersByTimeAsync(3);
      const late = write('late');
      await vi.advanceTimersByTimeAsync(19);
      expect(rows()).not.toContain('late');
      await vi.advanceTimersByTimeAsync(1);
      expect(rows()).toContain('late');
      expect(syncs).toHaveLength(1);
      syncs[0]!.release();
      await late;
    } finally {
      for (const s of syncs) s.release();
      await groups.close();
      db.close();
    }
  });

  it('writes that arrive rarely never wait: each commits in the turn it arrived', async () => {
    const { db, groups, syncs, rows, write } = setup({ maxWaitMs: 20, groupOf: 4 });
    try {
      for (const v of ['x', 'y', 'z']) {
        const done = write(v);
        await settle();
        expect(rows()).toContain(v);
        expect(syncs).toHaveLength(1);
        syncs.splice(0)[0]!.release();
        await done;
        // A second apart: no other write is due within the window.
        await vi.advanceTimersByTimeAsync(1000);
      }
    } finally {
      for (const s of syncs) s.release();
      await groups.close();
      db.close();
    }
  });

  // A writer that waits for each answer before its next write (a device draining its backlog, a
  // hook's write then its outbox completion) arrives often but never overlaps: waiting for others
  // only delayed the one write its next one waits for (about 20 ms each).
  it('a chain of writes, each sent once the one before was answered, never waits for the window', async () => {
    const { db, groups, syncs, rows, write } = setup({ maxWaitMs: 20, groupOf: 4 });
    const chain = async (label: string, count: number) => {
      const waited: string[] = [];
      for (let i = 0; i < count; i++) {
        const v = `${label}${i}`;
        const done = write(v);
        await settle();
        if (!rows().includes(v)) {
          waited.push(v);
          await vi.advanceTimersByTimeAsync(20);
        }
        expect(rows()).toContain(v);
        for (const s of syncs.splice(0)) s.release();
        await done;
        await vi.advanceTimersByTimeAsync(3);
      }
      return waited;
    };
    try {
      expect(await chain('s', 6)).toEqual([]);
      // Writers that overlap (the second arrives while the first is being synced) open the window...
      const burst = [write('o1')];
      await settle();
      burst.push(write('o2'));
      for (let i = 0; i < 3; i++) {
        for (const s of syncs.splice(0)) s.release();
        await settle();
      }
      await Promise.all(burst);
      await vi.advanceTimersByTimeAsync(3);
      // ...and a lone chain after them waits once at most: nobody joined, so the window closes.
      expect((await chain('t', 6)).length).toBeLessThanOrEqual(1);
    } finally {
      for (const s of syncs) s.release();
      await groups.close();
      db.close();
    }
  });

  it('without a window, writes 3 ms apart each commit alone: four fsyncs (what the window saves)', async () => {
    const { db, groups, syncs, write } = setup(undefined);
    let fsyncs = 0;
    try {
      const pending = [write('a')];
      for (const v of ['b', 'c', 'd']) {
        await vi.advanceTimersByTimeAsync(3);
        fsyncs += syncs.length;
        for (const s of syncs.splice(0)) s.release();
        pending.push(write(v));
      }
      await settle();
      fsyncs += syncs.length;
      for (const s of syncs.splice(0)) s.release();
      await Promise.all(pending);
      expect(fsyncs).toBe(4);
    } finally {
      for (const s of syncs) s.release();
      await groups.close();
      db.close();
    }
  });

  it('close() commits a group that is waiting in its window and answers it once it is durable', async () => {
    const { db, groups, syncs, rows, write } = setup({ maxWaitMs: 1000, groupOf: 64 });
    try {
      const warm = [write('w1')];
      await vi.advanceTimersByTimeAsync(3);
      warm.push(write('w2'));
      await settle();
      for (let i = 0; i < 3; i++) {
        for (const s of syncs.splice(0)) s.release();
        await settle();
      }
      await Promise.all(warm);
      await vi.advanceTimersByTimeAsync(3);
      const waiting = write('waiting');
      await settle();
      expect(rows()).not.toContain('waiting');
      const closed = groups.close();
      await settle();
      expect(rows()).toContain('waiting');
      for (const s of syncs.splice(0)) s.release();
      await waiting;
      await closed;
    } finally {
      for (const s of syncs) s.release();
      db.close();
    }
  });
});
