/**
 * Reading many documents by id with one request for the ids (client/sync/dexie-get-many.ts):
 * the answer is the one Dexie gives reading them one by one (found, missing, repeated, absent
 * keys, spans much larger than the ids asked for), and a new tablet's first sync through RxDB
 * stores every document with far fewer IndexedDB requests.
 */
import { randomUUID } from 'node:crypto';
import Dexie from 'dexie';
import { IDBKeyRange, IDBObjectStore, indexedDB } from 'fake-indexeddb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import type { RxStorage } from 'rxdb';
import { afterEach, describe, expect, it } from 'vitest';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';
import { FEW_IDS, SPAN_PER_ID, useBatchedGetMany } from '../../client/sync/dexie-get-many.ts';

const opened: Dexie[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) db.close();
});

async function table(name: string, batched: boolean) {
  const db = new Dexie(name, { indexedDB, IDBKeyRange });
  if (batched) useBatchedGetMany(db);
  db.version(1).stores({ docs: 'id', log: '++seq' });
  await db.open();
  opened.push(db);
  return db;
}

/** Counts the object-store `get` requests made while `work` runs. */
async function countGets<T>(work: () => Promise<T>): Promise<{ value: T; gets: number }> {
  const proto = IDBObjectStore.prototype as unknown as { get: (...args: unknown[]) => unknown };
  const original = proto.get;
  let gets = 0;
  proto.get = function (this: unknown, ...args: unknown[]) {
    gets++;
    return original.apply(this, args);
  };
  try {
    return { value: await work(), gets };
  } finally {
    proto.get = original;
  }
}

describe('reading many documents by id', () => {
  it('answers as reading them one by one: found, missing, repeated and absent ids, in the order asked', async () => {
    const held = Array.from({ length: 300 }, (_, i) => ({ id: randomUUID(), n: i }));
    const plain = await table(`plain-${randomUUID()}`, false);
    const batched = await table(`batched-${randomUUID()}`, true);
    await plain.table('docs').bulkPut(held);
    await batched.table('docs').bulkPut(held);
    const asked: (string | undefined)[] = [
      ...held.filter((_, i) => i % 3 === 0).map((d) => d.id),
      ...Array.from({ length: 100 }, () => randomUUID()),
      held[5]!.id, held[5]!.id, held[299]!.id, undefined as never,
    ].sort(() => Math.random() - 0.5);
    const expected = await plain.table('docs').bulkGet(asked as string[]);
    const { value: got, gets } = await countGets(() => batched.table('docs').bulkGet(asked as string[]));
    expect(got).toEqual(expected);
    // One request per id found, none per id missing.
    expect(gets).toBeLessThanOrEqual(held.filter((_, i) => i % 3 === 0).length + 3);
  });

  it('reads a span much larger than the ids asked for one by one, with the same answer', async () => {
    const held = Array.from({ length: FEW_IDS * SPAN_PER_ID * 2 }, (_, i) => ({ id: `doc-${String(i).padStart(6, '0')}`, n: i }));
    const batched = await table(`span-${randomUUID()}`, true);
    await batched.table('docs').bulkPut(held);
    const asked = [held[0]!.id, ...Array.from({ length: FEW_IDS }, () => randomUUID()), held[held.length - 1]!.id];
    const got = await batched.table('docs').bulkGet(asked);
    expect(got).toEqual([held[0], ...Array.from({ length: FEW_IDS }, () => undefined), held[held.length - 1]]);
  });

  it('leaves tables without string ids as they were', async () => {
    const batched = await table(`log-${randomUUID()}`, true);
    const keys = await batched.table('log').bulkAdd(Array.from({ length: 40 }, (_, i) => ({ i })), { allKeys: true });
    const got = await batched.table('log').bulkGet([...keys, 999]);
    expect(got.map((d) => d?.i)).toEqual([...Array.from({ length: 40 }, (_, i) => i), undefined]);
  });

  it('a first sync through RxDB stores every document, with far fewer read requests', async () => {
    const storage = (batched: boolean) => getRxStorageDexie({ indexedDB, IDBKeyRange, ...(batched ? { onCreate: useBatchedGetMany } : {}) } as never) as RxStorage<unknown, unknown>;
    const points = Array.from({ length: 600 }, (_, i) => ({
      id: randomUUID(), tenantId: 'agency-a', rev: `1-srv${i}`, sourceType: 'unit' as const, sourceId: 'M7',
      lat: 40 + i * 1e-4, lng: -75, recordedAt: '2026-11-22T10:00:00-05:00',
    }));
    const run = async (batched: boolean) => {
      const db = await createFieldsyncDatabase({ name: `fs${randomUUID().slice(0, 8)}`, collections: ['gps_points'], storage: storage(batched), multiInstance: false });
      try {
        // What RxDB's downstream does per pulled page: read the device's copies, then write.
        const { gets } = await countGets(async () => {
          for (let i = 0; i < points.length; i += 200) {
            const page = points.slice(i, i + 200);
            await db.collections['gps_points']!.storageInstance.findDocumentsById(page.map((p) => p.id), true);
            await db.collections['gps_points']!.bulkUpsert(page);
          }
        });
        const stored = await db.collections['gps_points']!.find().exec();
        return { gets, stored: stored.map((d) => d.toJSON()).sort((a, b) => String(a['id']).localeCompare(String(b['id']))) };
      } finally {
        await db.close();
      }
    };
    const plain = await run(false);
    const batched = await run(true);
    expect(batched.stored).toHaveLength(points.length);
    expect(batched.stored).toEqual(plain.stored);
    expect(batched.gets).toBeLessThan(plain.gets / 10);
  });
});
