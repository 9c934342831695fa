import Database from 'better-sqlite3';
import { fsync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import type { CommitEvent } from '../../../server/store/types.ts';
import { makeDataDir } from '../../helpers/server.ts';
import { sqliteFactory } from './fixtures.ts';
import { CRASH_AFTER_ACKS, doc, runCrashWriter, runStoreContract, writeAll } from './store-contract.ts';

runStoreContract('SqliteStore', sqliteFactory, { failCommits: true });

describe('SqliteStore specifics', () => {
  it('a process killed while groups wait in their commit window loses only writes it never acknowledged', { timeout: 120_000 }, async () => {
    // A long window that 8 writers never fill (groupOf 64): nearly all of the writer's time is
    // spent with a group gathered and waiting, so the kill lands between gather and commit.
    const fixture = await sqliteFactory();
    try {
      if (fixture.location.kind !== 'sqlite') throw new Error('a SQLite fixture was expected');
      const acked = await runCrashWriter(fixture, { ...fixture.location, commitWindow: { maxWaitMs: 50, groupOf: 64 } });
      expect(acked.length).toBeGreaterThanOrEqual(CRASH_AFTER_ACKS);
      const reopened = await fixture.reopen();
      const all: string[] = [];
      for (let afterSeq = 0; ;) {
        const page = await reopened.pull({ collection: 'gps_points', tenantId: 'agency-a', afterSeq, limit: 1000 });
        all.push(...page.documents.map((d) => d.id));
        if (page.documents.length < 1000) break;
        afterSeq = page.lastSeq;
      }
      const present = new Set(all);
      expect(acked.filter((id) => !present.has(id))).toEqual([]);
      expect((await reopened.verifyAudit()).ok).toBe(true);
    } finally {
      await fixture.dispose();
    }
  });

  it('commits without blocking on the disk, but answers writers and readers, and notifies, only after the WAL is synced', async () => {
    const dataDir = makeDataDir('sqlite-fsync');
    const held: (() => void)[] = [];
    let syncs = 0;
    // An fsync that completes only when the test says so: the disk is slow.
    const store = new SqliteStore({ dataDir, fsync: (fd, done) => { syncs++; held.push(() => fsync(fd, done)); } });
    const other = new Database(path.join(dataDir, 'fieldsync.sqlite'), { readonly: true });
    try {
      const durable: string[] = [];
      const early: string[] = [];
      store.onCommit((e: CommitEvent) => durable.push(...e.documents.map((d) => d.id)));
      store.onCommit((e: CommitEvent) => early.push(...e.documents.map((d) => d.id)), { early: true });
      const answered: string[] = [];
      const first = store.writeBatch(writeAll('gps_points', [doc('a')])).then(() => answered.push('a'));
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      // Committed and visible to another connection; nobody answered, only early listeners told.
      expect(other.prepare('SELECT id FROM documents').all()).toEqual([{ id: 'a' }]);
      expect(early).toEqual(['a']);
      expect(durable).toEqual([]);
      // Writes queued while the sync runs wait for it, then share the next commit and sync.
      const second = store.writeBatch(writeAll('gps_points', [doc('b')])).then(() => answered.push('b'));
      const third = store.writeBatch(writeAll('gps_points', [doc('c')])).then(() => answered.push('c'));
      let pulled = false;
      const pull = store.pull({ collection: 'gps_points', tenantId: 'agency-a', afterSeq: 0, limit: 10 }).then((page) => { pulled = true; return page; });
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(answered).toEqual([]);
      expect(pulled).toBe(false);
      expect(other.prepare('SELECT COUNT(*) AS n FROM documents').get()).toEqual({ n: 1 });

      held.shift()!();
      await first;
      expect(answered).toEqual(['a']);
      expect(durable).toEqual(['a']);
      // The pull read 'a' only; it answers once that is on disk.
      expect((await pull).documents.map((d) => d.id)).toEqual(['a']);
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      expect(other.prepare('SELECT id FROM documents ORDER BY seq').all()).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
      expect(answered).toEqual(['a']);
      held.shift()!();
      await Promise.all([second, third]);
      expect(answered).toEqual(['a', 'b', 'c']);
      expect(durable).toEqual(['a', 'b', 'c']);
      expect(syncs).toBe(2);
    } finally {
      other.close();
      const closing = store.close();
      while (held.length > 0) held.shift()!();
      await closing;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
