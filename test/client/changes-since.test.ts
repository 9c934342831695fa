/**
 * The device's "what changed since this checkpoint" (what RxDB pushes from), found by index
 * ranges (client/sync/changes-since.ts): the same documents, in the same order, with the same
 * checkpoints as RxDB's own query, on both storages the project uses (Dexie in the apps, memory
 * in the benchmarks), including many documents written by one bulkInsert (one write time).
 */
import { randomUUID } from 'node:crypto';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { getChangedDocumentsSinceQuery, prepareQuery, type RxDatabase, type RxStorage, type RxStorageInstance } from 'rxdb';
import { fieldsyncDexieStorage } from '../../client/sync/dexie-storage.ts';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';

function point(i: number) {
  return {
    id: randomUUID(), tenantId: 'agency-a', rev: `1-dev${i}`, sourceType: 'unit' as const, sourceId: 'M7',
    lat: 40 + i * 1e-4, lng: -75, recordedAt: '2026-11-22T10:00:00-05:00',
  };
}

type Checkpoint = { id: string; lwt: number };
type Instance = RxStorageInstance<{ id: string }, unknown, unknown, Checkpoint>;

/** RxDB's own answer (one query over everything), as ids in order. */
async function expectedOrder(instance: Instance): Promise<string[]> {
  const query = prepareQuery(instance.schema, getChangedDocumentsSinceQuery(instance, 100_000, undefined));
  return (await instance.query(query)).documents.map((d) => d.id);
}

const storages: [string, () => RxStorage<unknown, unknown>][] = [
  ['Dexie (IndexedDB)', () => fieldsyncDexieStorage({ indexedDB, IDBKeyRange })],
  ['memory', () => getRxStorageMemory() as RxStorage<unknown, unknown>],
];

describe.each(storages)('changes since a checkpoint, by index, on %s', (_label, storage) => {
  const open: RxDatabase[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
  });

  it('pages through a bulk insert, later single writes, an update and a delete exactly as RxDB orders them', async () => {
    const db = await createFieldsyncDatabase({ name: `c${randomUUID().slice(0, 8)}`, collections: ['gps_points'], storage: storage(), multiInstance: false });
    open.push(db);
    const points = db.collections['gps_points']!;
    // 1,200 documents share one write time; then documents with times of their own.
    const bulk = Array.from({ length: 1200 }, (_, i) => point(i));
    expect((await points.bulkInsert(bulk)).error).toEqual([]);
    for (let i = 0; i < 30; i++) await points.insert(point(2000 + i));
    await (await points.findOne(bulk[10]!.id).exec())!.incrementalPatch({ lat: 41 });
    await (await points.findOne(bulk[20]!.id).exec())!.remove();

    const instance = points.storageInstance as unknown as Instance;
    expect(typeof instance.getChangedDocumentsSince).toBe('function');
    const expected = await expectedOrder(instance);
    expect(expected).toHaveLength(1230);

    const seen: string[] = [];
    let checkpoint: Checkpoint | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await instance.getChangedDocumentsSince!(97, checkpoint);
      seen.push(...result.documents.map((d) => d.id));
      if (result.documents.length === 0) {
        // The end: the checkpoint stays where it was.
        expect(result.checkpoint).toEqual(checkpoint);
        break;
      }
      const last = result.documents[result.documents.length - 1]!;
      expect(result.checkpoint).toEqual({ id: last.id, lwt: last._meta.lwt });
      checkpoint = result.checkpoint;
    }
    expect(seen).toEqual(expected);
    // The updated and the deleted documents come last, the deletion as a tombstone.
    expect(seen.slice(-2)).toEqual([bulk[10]!.id, bulk[20]!.id]);
    const [tombstone] = (await instance.findDocumentsById([bulk[20]!.id], true)) as { _deleted: boolean }[];
    expect(tombstone?._deleted).toBe(true);
  });

  it('from no checkpoint, an empty collection has nothing and the empty checkpoint', async () => {
    const db = await createFieldsyncDatabase({ name: `c${randomUUID().slice(0, 8)}`, collections: ['gps_points'], storage: storage(), multiInstance: false });
    open.push(db);
    const instance = db.collections['gps_points']!.storageInstance as unknown as Instance;
    expect(await instance.getChangedDocumentsSince!(10, undefined)).toEqual({ documents: [], checkpoint: { id: '', lwt: 0 } });
  });
});
