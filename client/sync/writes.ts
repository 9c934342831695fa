import type { RxDatabase } from 'rxdb';
import { nextRevision } from '../../shared/revision.ts';
import { offsetDateTime } from '../../shared/domain/time.ts';
import type { CollectionDocTypes, CollectionName } from '../../shared/schemas/index.ts';

type Doc<C extends CollectionName> = CollectionDocTypes[C];
type NewDoc<C extends CollectionName> = Omit<Doc<C>, 'rev'>;

/**
 * Every local write goes through here so that it carries a fresh client-owned revision: that
 * revision, not any server field, is what the server compares to detect conflicts.
 */
export class DocumentWriter {
  /** `userId`: who is signed in, named in `lastEdit` (who wrote a value that later conflicts). */
  constructor(private readonly db: RxDatabase, private readonly deviceId: string, private readonly userId?: string) {}

  private tag(): string {
    return `${deviceRevisionTag(this.deviceId)}${Math.random().toString(36).slice(2, 8)}`;
  }

  /** Collections whose schema declares `lastEdit` (lastEditProperty) get it stamped on every write. */
  private stamped<T>(collection: CollectionName, doc: T): T {
    const properties = (this.db.collections[collection]?.schema.jsonSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!properties || !('lastEdit' in properties)) return doc;
    return { ...doc, lastEdit: { by: (this.userId || this.deviceId).slice(0, 200), device: this.deviceId.slice(0, 200), at: offsetDateTime(new Date()) } };
  }

  async insert<C extends CollectionName>(collection: C, doc: NewDoc<C>): Promise<Doc<C>> {
    const withRev = this.stamped(collection, { ...doc, rev: nextRevision(undefined, this.tag()) } as Doc<C>);
    await this.db.collections[collection]!.insert(withRev);
    return withRev;
  }

  async bulkInsert<C extends CollectionName>(collection: C, docs: NewDoc<C>[]): Promise<void> {
    const rows = docs.map((doc) => this.stamped(collection, { ...doc, rev: nextRevision(undefined, this.tag()) }));
    const result = await this.db.collections[collection]!.bulkInsert(rows);
    if (result.error.length > 0) throw new Error(`could not save ${result.error.length} ${collection} documents: ${result.error[0]?.status}`);
  }

  /** Applies `change` to the current local state; the function may be re-run if the doc changes meanwhile. */
  async update<C extends CollectionName>(collection: C, id: string, change: (current: Doc<C>) => Doc<C>): Promise<Doc<C>> {
    const doc = await this.db.collections[collection]!.findOne(id).exec();
    if (!doc) throw new Error(`${collection} ${id} is not on this device`);
    const written = await doc.incrementalModify((current: Doc<C>) => {
      const next = change(structuredClone(current));
      return this.stamped(collection, { ...next, rev: nextRevision(current.rev, this.tag()) });
    });
    return written.toMutableJSON() as Doc<C>;
  }

  async remove(collection: CollectionName, id: string): Promise<void> {
    const doc = await this.db.collections[collection]!.findOne(id).exec();
    if (!doc) return;
    const bumped = await doc.incrementalModify((current: { rev: string }) => ({ ...current, rev: nextRevision(current.rev, this.tag()) }));
    await bumped.incrementalRemove();
  }
}

/** How the revisions this device writes begin their tag (after "<n>-"): its id, then a dot. */
export function deviceRevisionTag(deviceId: string): string {
  return `${deviceId.replace(/[^0-9A-Za-z_.:]/g, '_').slice(0, 40)}.`;
}

