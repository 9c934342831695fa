import type { DBCore, DBCoreGetManyRequest, DBCoreKeyRange, DBCoreTable, Dexie, Middleware } from 'dexie';

/**
 * Reading many documents by id with one IndexedDB request for the ids, not one per id.
 *
 * RxDB reads every pulled document about four times before it writes it (the device's copy and
 * the replication's copy, once to compare and once more inside each write), and Dexie reads a
 * list of ids with one `get` request per id. On a new tablet's first sync nearly all of those
 * reads find nothing, yet each is a request of its own: 88,000 of them for a slice of 22,000
 * documents, about a quarter of the database worker's CPU (bench:browser's profile: 3.4 s of
 * 14.6 s in their success callbacks) and most of the time it waited on IndexedDB.
 *
 * Here a read of many string ids first asks for the ids the table holds between the smallest and
 * the largest asked for (one `getAllKeys` in the same transaction), and reads only those it holds.
 * Same answer, same transaction: only the number of requests changes. When the table holds many
 * more ids in that span than were asked for (a large table, a few ids), the ids are read one by
 * one as before.
 */

/** Fewer ids than this are read one by one (one request each is cheap enough). */
export const FEW_IDS = 16;
/** Ids in the span, per id asked for, above which reading them one by one is cheaper. */
export const SPAN_PER_ID = 32;

const RANGE = 2 as DBCoreKeyRange['type']; // DBCoreRangeType.Range (a const enum: not in Dexie's runtime)

async function getMany(table: DBCoreTable, request: DBCoreGetManyRequest): Promise<unknown[]> {
  const { keys } = request;
  const primary = table.schema.primaryKey;
  // Absent ids (null, undefined) find nothing, as in Dexie's own getMany.
  const ids = keys.filter((key): key is string => typeof key === 'string');
  if (ids.length < FEW_IDS || primary.outbound || primary.compound || !keys.every((k) => typeof k === 'string' || k == null)) return table.getMany(request);
  // IndexedDB orders strings by UTF-16 code units, as JavaScript's < does.
  let lower = ids[0]!;
  let upper = lower;
  for (const id of ids) {
    if (id < lower) lower = id;
    if (id > upper) upper = id;
  }
  const limit = ids.length * SPAN_PER_ID;
  const held = await table.query({
    trans: request.trans, values: false, limit: limit + 1,
    query: { index: primary, range: { type: RANGE, lower, upper, lowerOpen: false, upperOpen: false } },
  });
  if (held.result.length > limit) return table.getMany(request);
  const present = new Set(held.result as string[]);
  const found = [...new Set(ids.filter((id) => present.has(id)))];
  const values = found.length > 0 ? await table.getMany({ ...request, keys: found }) : [];
  const byId = new Map<string, unknown>();
  found.forEach((id, i) => byId.set(id, values[i]));
  return keys.map((key) => (typeof key === 'string' ? byId.get(key) : undefined));
}

export const batchedGetMany: Middleware<DBCore> = {
  stack: 'dbcore',
  name: 'fieldsync-batched-get-many',
  create: (down) => ({
    ...down,
    table: (name) => {
      const table = down.table(name);
      return { ...table, getMany: (request) => getMany(table, request) as Promise<any[]> };
    },
  }),
};

/** For RxDB's Dexie storage settings (`onCreate`): every Dexie database it opens reads ids this way. */
export function useBatchedGetMany(db: Dexie): void {
  db.use(batchedGetMany);
}
