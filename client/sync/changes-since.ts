import {
  getPrimaryFieldOfPrimaryKey, normalizeMangoQuery, prepareQuery, RX_META_LWT_MINIMUM,
  type MangoQuerySelector, type RxDocumentData, type RxStorage, type RxStorageInstance, type RxStorageInstanceCreationParams,
} from 'rxdb';

interface LwtCheckpoint { id: string; lwt: number }

/**
 * The storage with a `getChangedDocumentsSince` made of two index ranges, for storages that have
 * none (Dexie, memory).
 *
 * Without one, RxDB asks the storage for `lwt > L OR (lwt = L AND id > I)`. The query planner
 * turns that into the index range `lwt >= L` and tests every document of it, so all documents
 * that share the checkpoint's write time are tested again on every page. A single bulkInsert
 * gives all of its documents one write time: pushing 10,000 of them in pages of 500 tested about
 * 100,000 documents (a quarter of the device's CPU while pushing, measured in Node). Here each
 * page reads `lwt = L AND id > I` and then `lwt > L`, both exact ranges of the [lwt, id] index
 * that RxDB gives every collection, so a page costs what it returns. Same order, same
 * checkpoints: only how the storage finds them changes.
 */
export function withIndexedChangesSince<Internals, Options>(storage: RxStorage<Internals, Options>): RxStorage<Internals, Options> {
  return {
    ...storage,
    async createStorageInstance<RxDocType>(params: RxStorageInstanceCreationParams<RxDocType, Options>): Promise<RxStorageInstance<RxDocType, Internals, Options>> {
      const instance = await storage.createStorageInstance(params);
      if (instance.getChangedDocumentsSince) return instance;
      const schema = params.schema;
      const primary = getPrimaryFieldOfPrimaryKey(schema.primaryKey) as string;
      const range = async (selector: Record<string, unknown>, limit: number): Promise<RxDocumentData<RxDocType>[]> => {
        const query = normalizeMangoQuery(schema, {
          selector: selector as MangoQuerySelector<RxDocType>,
          sort: [{ '_meta.lwt': 'asc' }, { [primary]: 'asc' }] as never,
          skip: 0,
          limit,
        });
        return (await instance.query(prepareQuery(schema, query))).documents;
      };
      const getChangedDocumentsSince = async (limit: number, checkpoint?: LwtCheckpoint) => {
        const sinceLwt = checkpoint ? checkpoint.lwt : RX_META_LWT_MINIMUM;
        const documents = checkpoint ? await range({ '_meta.lwt': sinceLwt, [primary]: { $gt: checkpoint.id } }, limit) : [];
        if (documents.length < limit) {
          documents.push(...await range({ '_meta.lwt': checkpoint ? { $gt: sinceLwt } : { $gte: sinceLwt } }, limit - documents.length));
        }
        const last = documents[documents.length - 1];
        return {
          documents,
          checkpoint: last ? { id: last[primary as keyof typeof last] as string, lwt: last._meta.lwt } : checkpoint ?? { id: '', lwt: 0 },
        };
      };
      // The instance is the storage's own object; RxDB's wrappers (validation, encryption) look
      // for the method on it when they wrap it, so it is set before they do.
      return Object.assign(instance, { getChangedDocumentsSince });
    },
  };
}
