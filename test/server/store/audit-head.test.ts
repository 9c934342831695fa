import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import type { Actor, OutboxPlanner, WireDocument } from '../../../server/store/types.ts';
import { makeDataDir } from '../../helpers/server.ts';

/**
 * The SQLite store keeps the audit chain's head in memory instead of reading it before every
 * append. A write can be rolled back after it appended its entry (its savepoint in a group, the
 * transaction of a write alone, or a whole group whose COMMIT failed): the next entry must then
 * chain after the last entry that exists, or the chain would show a break nobody made.
 */
describe('SQLite store: the audit chain after rolled-back writes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const actor: Actor = { kind: 'device', tenantId: 't1', userId: 'u1', deviceId: 'd1', role: 'crew' };
  // Fails a write after its documents and its audit entry are in (the planner runs last, inside the write).
  const planner: OutboxPlanner = {
    outboxFor: (_collection, _actor, changes) => {
      if (changes.some((c) => c.after.id.startsWith('refused'))) throw new Error('injected planner failure');
      return [];
    },
  };

  function open(options: { beforeCommit?: () => void } = {}) {
    const dataDir = makeDataDir('audit-head');
    dirs.push(dataDir);
    return new SqliteStore({ dataDir, outboxPlanner: planner, ...options });
  }

  function write(store: SqliteStore, id: string = randomUUID()) {
    const doc: WireDocument = { id, tenantId: 't1', rev: '1-a', sourceType: 'unit', sourceId: 'U1', lat: 1, lng: 2, recordedAt: '2026-12-07T10:00:00+00:00', _deleted: false };
    return store.writeBatch({ collection: 'gps_points', tenantId: 't1', actor, auditIndex: false, requests: [{ id, incoming: doc, decide: () => ({ action: 'write', doc }) }] });
  }

  async function entries(store: SqliteStore) {
    return (await store.queryAudit({ tenantId: 't1', limit: 100 })).length;
  }

  it('a write that fails among others of its group: the next entries chain after the ones committed', async () => {
    const store = open();
    try {
      await write(store);
      const outcomes = await Promise.allSettled([write(store), write(store, 'refused-1'), write(store)]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      await Promise.all([write(store), write(store)]);
      expect(await entries(store)).toBe(5);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 5, problems: [] });
    } finally {
      await store.close();
    }
  });

  it('a write alone in its group that fails after its entry: the next entry chains after the last one committed', async () => {
    const store = open();
    try {
      await write(store);
      await expect(write(store, 'refused-2')).rejects.toThrow('injected planner failure');
      await write(store);
      expect(await entries(store)).toBe(2);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2, problems: [] });
    } finally {
      await store.close();
    }
  });

  it('a group whose COMMIT fails: nothing of it is kept, and the next entry chains after the last one committed', async () => {
    let failNext = false;
    const store = open({ beforeCommit: () => {
      if (!failNext) return;
      failNext = false;
      throw new Error('injected commit failure');
    } });
    try {
      await write(store);
      failNext = true;
      const outcomes = await Promise.allSettled([write(store), write(store)]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      await write(store);
      expect(await entries(store)).toBe(2);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2, problems: [] });
    } finally {
      await store.close();
    }
  });
});
