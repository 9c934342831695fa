import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../server/store/group-commit.ts';
import { WalCheckpointer, type CheckpointResult } from '../../../server/store/wal-checkpointer.ts';
import { walTestDatabase } from './fixtures.ts';

/** Lets queued callbacks, immediates and worker messages run. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

describe('WAL checkpoints off the event loop', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function database(): { db: Database.Database; file: string } {
    const { db, file, dir } = walTestDatabase('wal-checkpoint');
    dirs.push(dir);
    return { db, file };
  }

  it('the worker copies committed frames into the database file while the writer goes on', async () => {
    const { db, file } = database();
    const checkpointer = new WalCheckpointer(file);
    try {
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      db.transaction(() => { for (let i = 0; i < 500; i++) insert.run('x'.repeat(200)); })();
      const result = await checkpointer.checkpoint();
      expect(result.log).toBeGreaterThan(0);
      expect(result.checkpointed).toBe(result.log);
      // The writer was never blocked: it writes again at once, and a reader of the file sees everything.
      insert.run('after');
      const reader = new Database(file, { readonly: true });
      expect(reader.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 501 });
      reader.close();
    } finally {
      await checkpointer.close();
      db.close();
    }
    expect(checkpointer.failed).toBe(true); // closed: no more checkpoints
  });

  it('once the WAL is large, the next checkpoint runs with writes held, so the WAL can start over', async () => {
    const { db, file } = database();
    const calls: { resolve: (r: CheckpointResult) => void }[] = [];
    const checkpointer = {
      failed: false,
      checkpoint: () => new Promise<CheckpointResult>((resolve) => calls.push({ resolve })),
    };
    const groups = new GroupCommit(db, { walFile: `${file}-wal`, checkpointer, fsync: (_fd, done) => setImmediate(() => done(null)), inline: false });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const reader = new Database(file, { readonly: true });
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    try {
      await groups.run(() => insert.run('a'));
      await settle();
      // After the sync, a background checkpoint: writes go on meanwhile.
      expect(calls).toHaveLength(1);
      await groups.run(() => insert.run('b'));
      expect(count()).toBe(2);
      // It reports a big WAL: a second checkpoint starts at once, and holds the writes.
      calls[0]!.resolve({ log: 5000, checkpointed: 5000 });
      await settle();
      expect(calls).toHaveLength(2);
      let answered = false;
      const held = groups.run(() => insert.run('c')).then(() => { answered = true; });
      await settle();
      expect(count()).toBe(2);
      expect(answered).toBe(false);
      calls[1]!.resolve({ log: 5010, checkpointed: 5010 });
      await held;
      expect(count()).toBe(3);
      // After a held checkpoint, checkpoints run in the background again: writes are not held.
      await groups.run(() => insert.run('d'));
      expect(count()).toBe(4);
    } finally {
      reader.close();
      await groups.close();
      db.close();
    }
  });

  it('closing waits for a running checkpoint and starts no other, so the connection can close after it', async () => {
    const { db, file } = database();
    const calls: { resolve: (r: CheckpointResult) => void }[] = [];
    const checkpointer = { failed: false, checkpoint: () => new Promise<CheckpointResult>((resolve) => calls.push({ resolve })) };
    const groups = new GroupCommit(db, { walFile: `${file}-wal`, checkpointer, fsync: (_fd, done) => setImmediate(() => done(null)), inline: false });
    await groups.run(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('a'));
    await settle();
    expect(calls).toHaveLength(1);
    let closed = false;
    const closing = groups.close().then(() => { closed = true; });
    await settle();
    expect(closed).toBe(false);
    // A big WAL would call for a held checkpoint next; while closing, none starts.
    checkpointer.failed = true;
    calls[0]!.resolve({ log: 9000, checkpointed: 9000 });
    await closing;
    expect(calls).toHaveLength(1);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    db.close();
  });
});
