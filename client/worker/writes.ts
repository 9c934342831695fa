/**
 * The database worker's writes and counts, as the apps call them. Refused writes reach the page as
 * a `WriteRefusedError` (write-errors.ts): the app says why, where the person acted.
 */
import type { RxCollection } from 'rxdb';
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { DocumentWriter } from '../sync/writes.ts';
import type { JsonDoc, Op } from './api.ts';
import { applyOps } from './ops.ts';
import { refusedWrite } from './write-errors.ts';

export class WorkerWrites {
  constructor(private readonly writer: DocumentWriter, private readonly collection: (name: CollectionName) => RxCollection) {}

  async insert(collection: CollectionName, doc: JsonDoc): Promise<JsonDoc> {
    try {
      return (await this.writer.insert(collection, doc as never)) as JsonDoc;
    } catch (error) {
      throw refusedWrite(error, collection, String(doc['id']));
    }
  }

  async bulkInsert(collection: CollectionName, docs: JsonDoc[]): Promise<number> {
    if (docs.length === 0) return 0;
    try {
      await this.writer.bulkInsert(collection, docs as never);
    } catch (error) {
      throw refusedWrite(error, collection, undefined);
    }
    return docs.length;
  }

  async mutate(collection: CollectionName, id: string, ops: Op[]): Promise<JsonDoc> {
    try {
      return (await this.writer.update(collection, id, (current) => applyOps(current as JsonDoc, ops) as never)) as JsonDoc;
    } catch (error) {
      throw refusedWrite(error, collection, id);
    }
  }

  async upsert(collection: CollectionName, doc: JsonDoc, ops: Op[] = []): Promise<JsonDoc> {
    const existing = await this.collection(collection).findOne(String(doc['id'])).exec();
    if (!existing) {
      try {
        return await this.insert(collection, applyOps(doc, ops));
      } catch (error) {
        // Another tab (or the server's stub arriving) won the race: edit that one instead.
        if (!(await this.collection(collection).findOne(String(doc['id'])).exec())) throw error;
      }
    }
    return ops.length > 0 ? this.mutate(collection, String(doc['id']), ops) : (existing?.toJSON() as JsonDoc);
  }

  async remove(collection: CollectionName, id: string): Promise<void> {
    await this.writer.remove(collection, id);
  }

  async count(collection: CollectionName, selector: JsonDoc = {}): Promise<number> {
    return this.collection(collection).count({ selector: selector as never }).exec();
  }
}
