/**
 * Copies of this device's own versions coming back from the server.
 *
 * The change stream echoes every write the server commits, the device's own included, and a
 * person types faster than the echo returns: by the time the copy of version n is stored, the
 * device has often sent n+1. RxDB treats a pulled state as the newer truth, and once the device's
 * later version counts as sent (handed to the service worker's queue, or pushed and answered) it
 * would put version n back over what the person just typed: the value vanishes from the screen,
 * and the next edit, built on that copy, leaves it out too.
 *
 * Such a copy is skipped when the device holds that very version or one numbered after it: the
 * device moved on from it, and what it moved on to reaches the server after it (the server writes
 * or merges it onto its state under a higher revision, which comes back through the same stream).
 * States from anyone else (another tablet, a hook, the server's merge) are never skipped, nor an
 * own version the device no longer holds anything newer than (a fresh database, say).
 *
 * Own versions are those whose revision carries this device's tag (writes.ts), and those this
 * replication computed or pushed itself (merges: their revision names no device), remembered in
 * memory, bounded.
 */
import type { RxCollection } from 'rxdb';
import { isRevision, revisionNumber } from '../../shared/revision.ts';

type Doc = Record<string, unknown>;

const DEFAULT_LIMIT = 20_000;

export class OwnVersions {
  private readonly seen = new Map<string, true>();

  /** `deviceTag`: how this device's revision tags begin (deviceRevisionTag); absent: memory only. */
  constructor(private readonly deviceTag?: string, private readonly limit = DEFAULT_LIMIT) {}

  record(id: string, rev: unknown): void {
    if (typeof rev !== 'string') return;
    const key = `${id}\u0000${rev}`;
    this.seen.delete(key);
    this.seen.set(key, true);
    if (this.seen.size > this.limit) this.seen.delete(this.seen.keys().next().value!);
  }

  isOwn(id: string, rev: unknown): boolean {
    if (!isRevision(rev)) return false;
    if (this.deviceTag && rev.slice(rev.indexOf('-') + 1).startsWith(this.deviceTag)) return true;
    return this.seen.has(`${id}\u0000${rev}`);
  }

  /** The pulled documents less the copies of own versions the device has already moved on from. */
  async withoutOwnCopies<D extends Doc>(collection: RxCollection, documents: D[]): Promise<D[]> {
    const primaryPath = collection.schema.primaryPath as string;
    const own = documents.filter((doc) => this.isOwn(String(doc[primaryPath]), doc['rev']));
    if (own.length === 0) return documents;
    const locals = await collection.storageInstance.findDocumentsById(own.map((d) => String(d[primaryPath])), true);
    const localRev = new Map(locals.map((doc) => [String((doc as Doc)[primaryPath]), (doc as Doc)['rev']]));
    const ownSet = new Set(own);
    return documents.filter((doc) => !(ownSet.has(doc) && movedOn(localRev.get(String(doc[primaryPath])), doc['rev'] as string)));
  }
}

function movedOn(local: unknown, copy: string): boolean {
  if (!isRevision(local)) return false;
  return local === copy || revisionNumber(local) > revisionNumber(copy);
}
