/**
 * A new device's first sync of a collection, written straight into its storage in large batches
 * instead of through RxDB's replication downstream.
 *
 * RxDB's downstream writes every pulled document twice: the document into the collection, and a
 * copy (the state it assumes the server holds) into the replication's meta storage, page by page,
 * each page read back before it is written. A new crew tablet's slice (2,000 ePCRs and 20,000 GPS
 * points) was 44,000 IndexedDB writes in pages of 1,000. Here, while the collection's replication
 * has no checkpoint yet, the same pull endpoint is read in pages of MAX_PULL_LIMIT (the next page
 * fetched while the last one is written), each page written in one batch in exactly the shape
 * RxDB's downstream gives a pulled document (`_meta.o`: RxDB's own mark of "this state came from
 * the server", rxdb/replication-protocol/downstream.js), and the server state copies are written
 * only for documents someone may change (`documentsChangeable`, the one access declaration) or
 * that the scope check may remove (it removes only a document whose kept server state is its own
 * revision): GPS points are append-only, never scope-checked, and nothing is pushed built on them. Then RxDB's replication
 * starts from where the import stopped (`pull.initialCheckpoint`, as RxDB documents for "data
 * imported by other ways") and does not walk the imported documents for pushing: the import writes
 * RxDB's push checkpoint itself, in RxDB's shape, before RxDB starts (see `ensurePushCheckpoint`).
 *
 * Why nothing typed meanwhile is lost: imported documents are given the lowest write time RxDB
 * allows (`RX_META_LWT_MINIMUM`, 1 ms after 1970) and the push checkpoint is 0.5 ms above it:
 * every write of the device, before, during or after the import, is stamped with RxDB's now()
 * (at least the clock's time, decades above) and so sorts after it and is pushed; no imported
 * document does. Not derived from the clock: a write RxDB stamped before the import began and
 * stored after it looked (RxDB stamps `_meta.lwt` before it validates, seals and stores), or a
 * clock set back (NTP, or before a cut import goes on after a reload: now() never goes back only
 * within one page load), would sort below a split taken from the clock and never be pushed. A
 * cut import whose progress note was written by the build before this one goes on with the write
 * time that note holds (its imported pages carry it); only that one import keeps the old risk. A document written on the
 * device during the import (a new report, or an edit of one already imported) is never written
 * over: RxDB's own check (its `_meta.o` no longer matches its revision) tells a local change from
 * an imported state. RxDB's replication starts when the import ends, so what is typed during the
 * import is pushed (or queued) after it, a few seconds later; and the import runs only while the
 * server answers: a page that fails ends it, and RxDB's replication goes on from the last page
 * stored (a new device that is offline pushes at once, as before).
 *
 * A cut import (reload, crash) goes on from its last page: its progress (server checkpoint and
 * write time) is a document of the replication's meta storage, written after each page, so it
 * lives and dies with the database; a page pulled again is written over what the import stored,
 * never duplicated. The documents pass the same hands as pulled pages (copies of
 * this device's own versions, the service worker's queue replayed onto them: `prepare`), and the
 * same storage stack (validation, PHI field sealing) as every write.
 */
import {
  createRevision, getComposedPrimaryKeyOfDocumentData, getHeightOfRevision, getRxReplicationMetaInstanceSchema, hasEncryption, normalizeMangoQuery, now,
  prepareQuery, RX_META_LWT_MINIMUM, type RxCollection, type RxDocumentData, type RxStorageInstance,
} from 'rxdb';
import type { Checkpoint } from '../../shared/protocol/index.ts';
import type { SyncTransport } from './transport.ts';

type Doc = Record<string, any>;

/** The push checkpoint of RxDB's upstream (the fork's `getChangedDocumentsSince`). */
export interface LwtCheckpoint { id: string; lwt: number }

export interface ImportedCheckpoints {
  /** Where RxDB's pull starts (its `pull.initialCheckpoint`). */
  pull: Checkpoint | undefined;
}

/** The import's progress, kept in the replication's meta storage (`checkpointData` of IMPORT_ITEM). */
interface ImportNote {
  /** The write time every imported document gets (RX_META_LWT_MINIMUM; an earlier build chose one from the clock). */
  lwt: number;
  /** The server checkpoint of the last page written. */
  pull?: Checkpoint;
}

/** Not `up`/`down` (RxDB's checkpoints) nor a document id: RxDB never reads it. */
const IMPORT_ITEM = 'first-sync-import';
export const IMPORT_WRITE_CONTEXT = 'fieldsync-first-sync-import';
/** The pull endpoint's largest page (server/replication/pull.ts MAX_PULL_LIMIT). */
export const IMPORT_PAGE_SIZE = 5000;

export interface FirstSyncImportOptions {
  collection: RxCollection<any>;
  name: string;
  schemaVersion: number;
  transport: SyncTransport;
  /** RxDB's replicationIdentifier of this collection's replication. */
  replicationIdentifier: string;
  /** Keep the server state of each document (someone may change it and push it). */
  keepServerStates: boolean;
  /** What a pulled page becomes before it is stored (own copies skipped, queue replayed). */
  prepare: (documents: Doc[], checkpoint: Checkpoint) => Promise<Doc[]>;
  /**
   * How many documents of a page were stored that the device did not hold before: a first
   * sync's progress. Counted on storing, not on pulling: a reload between a page's write and its
   * progress note pulls that page again, and counting it again said more received than held.
   */
  onStored?: (count: number) => void;
  /** The replication was cancelled: stop between pages. */
  stopped: () => boolean;
  /** A page that could not be pulled or stored (offline, say): the import stops there and RxDB's replication goes on from it. */
  onError?: (error: unknown) => void;
  pageSize?: number;
}

/**
 * How many documents of the collection the device holds from the server: those a pull or this
 * import stored (both mark a document's `_meta.o`, RxDB's replication-protocol/downstream.ts),
 * not those the device wrote itself and the server never changed. A first sync a reload cut
 * counts these as already received (a plain count also counted the device's own writes, e.g.
 * GPS points recorded meanwhile). A full read of the collection: only while a first sync is unfinished.
 */
export async function heldFromServer(collection: RxCollection<any>): Promise<number> {
  const schema = collection.schema.jsonSchema;
  const query = prepareQuery(schema, normalizeMangoQuery(schema, { selector: { _deleted: { $eq: false }, '_meta.o': { $exists: true } } as never }));
  return (await collection.storageInstance.count(query)).count;
}

/**
 * Imports the collection's slice when its replication has no checkpoint yet, or goes on with an
 * import a reload cut; returns the checkpoints RxDB's replication starts from (both undefined:
 * the replication has its own). The import is a fast path only while the server answers: a page
 * that cannot be pulled or stored ends it, and RxDB's replication pulls the rest from the last
 * page stored, so a new device that is offline pushes what the crew writes at once, as before.
 */
export async function importFirstSync(options: FirstSyncImportOptions): Promise<ImportedCheckpoints> {
  const { collection } = options;
  const db = collection.database;
  const identifier = 'rxdbreplication' + options.replicationIdentifier;
  const identifierHash = await db.hashFunction(identifier);
  // The replication's meta storage, opened as RxDB's replication opens it (plugins/replication).
  const metaSchema = getRxReplicationMetaInstanceSchema(collection.schema.jsonSchema, hasEncryption(collection.schema.jsonSchema));
  const meta: RxStorageInstance<Doc, unknown, unknown> = await db.storage.createStorageInstance({
    databaseName: db.name,
    collectionName: 'rx-replication-meta-' + await db.hashFunction([collection.name, options.replicationIdentifier].join('-')),
    databaseInstanceToken: db.token,
    multiInstance: db.multiInstance,
    options: {},
    schema: metaSchema as never,
    password: db.password,
    devMode: false,
  }) as never;
  try {
    const metaId = (itemId: string, isCheckpoint: '0' | '1') => getComposedPrimaryKeyOfDocumentData(metaSchema as never, { itemId, isCheckpoint } as never);
    const [down, noteDoc] = await Promise.all([metaId('down', '1'), metaId(IMPORT_ITEM, '1')].map(async (id) => (await meta.findDocumentsById([id], false))[0]));
    let noteRow = noteDoc as RxDocumentData<Doc> | undefined;
    let note = noteRow?.['checkpointData'] as ImportNote | undefined;
    /**
     * RxDB's push checkpoint, between the imported documents (at `lwt`) and every write of the
     * device (stamped by now()), written here before RxDB's replication starts, unless RxDB has
     * its own. Not given to RxDB as `push.initialCheckpoint`: its upstream then reads its
     * checkpoint before it listens for the replication's cancel, and a cancel in between (a lock,
     * a sign-out, right as the import ends) was an unhandled rejection (rxjs EmptyError).
     * Written again while the note exists: a reload before RxDB wrote its own would otherwise let
     * its upstream walk every imported document and push those it keeps no server state of (GPS
     * points) as new.
     */
    const ensurePushCheckpoint = async (n: ImportNote) => {
      const id = metaId('up', '1');
      // A deleted one is none to RxDB (it reads its checkpoint without deleted documents).
      const held = (await meta.findDocumentsById([id], true))[0] as RxDocumentData<Doc> | undefined;
      if (held && !held._deleted) return;
      const checkpoint: LwtCheckpoint = { id: '', lwt: n.lwt + 0.5 };
      const result = await meta.bulkWrite([{ ...(held ? { previous: held } : {}), document: metaRow(id, 'up', '1', { checkpointData: checkpoint }, held, identifierHash) }], IMPORT_WRITE_CONTEXT);
      // 409: RxDB wrote its own meanwhile, which is at least as far.
      const failed = result.error.find((error) => error.status !== 409);
      if (failed) throw new Error(`the first sync of ${options.name} could not record where pushing starts (status ${failed.status}); it starts again from its last page`);
    };
    // RxDB's replication ran on this collection before: it goes on from its own checkpoints.
    if (down) {
      if (note) await ensurePushCheckpoint(note);
      return { pull: undefined };
    }

    const saveNote = async (next: ImportNote) => {
      const row = metaRow(metaId(IMPORT_ITEM, '1'), IMPORT_ITEM, '1', { checkpointData: next }, noteRow, identifierHash);
      const result = await meta.bulkWrite([{ ...(noteRow ? { previous: noteRow } : {}), document: row }], IMPORT_WRITE_CONTEXT);
      if (result.error.length > 0) throw new Error(`the first sync of ${options.name} could not record its progress (status ${result.error[0]!.status}); it starts again from its last page`);
      noteRow = row;
      note = next;
    };
    // Below every write time RxDB ever stamps (now() is at least the clock's time): see the header.
    if (!note) await saveNote({ lwt: RX_META_LWT_MINIMUM });

    const pageSize = options.pageSize ?? IMPORT_PAGE_SIZE;
    const pull = (checkpoint: Checkpoint | undefined) => options.transport.pull<Doc>(options.name, options.schemaVersion, checkpoint, pageSize);
    let next = pull(note!.pull);
    // A page still travelling when the import ends early must not be an unhandled rejection.
    next.catch(() => {});
    /**
     * The page before, still being written: the next page is prepared and handed to storage
     * while it commits (its validation and sealing run while IndexedDB writes the one before),
     * and its progress note is written only after the page before's. A page sharing a document
     * with the page in flight (it changed on the server during the import) waits for it, so
     * the newer state is always written last.
     */
    let inFlight: { ids: Set<string>; done: Promise<void> } | undefined;
    /** Every page's write: an import that ends early waits for them before closing the meta storage. */
    const writes: Promise<unknown>[] = [];
    const settle = async () => {
      const previous = inFlight;
      inFlight = undefined;
      if (previous) await previous.done;
    };
    try {
      for (;;) {
        const page = await next;
        if (options.stopped()) break;
        const last = page.documents.length < pageSize;
        // The next page travels while this one is written.
        if (!last) {
          next = pull(page.checkpoint);
          next.catch(() => {});
        }
        const documents = await options.prepare(page.documents, page.checkpoint);
        const primary = collection.schema.primaryPath as string;
        const ids = new Set(documents.map((d) => String(d[primary])));
        if (inFlight && [...ids].some((id) => inFlight!.ids.has(id))) await settle();
        // Counted when stored, whatever happens to the notes (a page stored and not noted is pulled
        // again after a reload, and then finds itself held: not counted twice).
        const stored = writePage(options, meta, metaId, documents, note!.lwt, identifierHash).then((count) => {
          options.onStored?.(count);
        });
        stored.catch(() => {});
        const before = inFlight?.done;
        const checkpoint = page.checkpoint;
        const done = (async () => {
          // Notes in page order: a note says every page up to it is stored. Both are waited for
          // even when the page before failed: the import ends (and its meta storage closes, and
          // RxDB's replication starts) only once no page of it is still being written.
          const [earlier, own] = await Promise.allSettled([before, stored]);
          if (earlier.status === 'rejected') throw earlier.reason;
          if (own.status === 'rejected') throw own.reason;
          // Noted also when the replication stopped meanwhile (a lock, a reload): the page is stored.
          await saveNote({ ...note!, pull: checkpoint });
        })();
        done.catch(() => {});
        writes.push(done);
        // At most two pages in memory: this one and the one committing.
        await settle();
        inFlight = { ids, done };
        if (options.stopped() || last) break;
      }
      await settle();
    } catch (error) {
      // Nothing left running when the meta storage closes below.
      await Promise.allSettled(writes);
      // A replication stopped meanwhile (the database closing under a page) reports nothing.
      if (!options.stopped()) options.onError?.(error);
    }
    await ensurePushCheckpoint(note!);
    return { pull: note!.pull };
  } finally {
    await meta.close().catch(() => {});
  }
}

/**
 * Writes one page into the collection (and the server states into the meta storage). Returns how
 * many of its documents the device did not hold before (deletions aside).
 */
async function writePage(
  options: FirstSyncImportOptions, meta: RxStorageInstance<Doc, unknown, unknown>, metaId: (itemId: string, isCheckpoint: '0' | '1') => string,
  pulled: Doc[], lwt: number, identifierHash: string,
): Promise<number> {
  const { collection } = options;
  const primary = collection.schema.primaryPath as string;
  // As RxDB's replication hands a pulled document on (replication-helper.ts handlePulledDocuments).
  const byId = new Map<string, Doc>();
  for (const doc of pulled) byId.set(String(doc[primary]), { ...doc, _deleted: !!doc['_deleted'] });
  if (byId.size === 0) return 0;
  // Read first only what a page deletes (a deletion of a document the device never had stores
  // nothing). The rest is written as new: a new device holds none of it, and a document it holds
  // (written on the device, or imported by a cut import or the page before) comes back as a
  // conflict carrying the stored document, decided below. One read fewer per document.
  const deletedIds = [...byId.values()].filter((d) => d['_deleted']).map((d) => String(d[primary]));
  const heldDeleted = new Map(deletedIds.length > 0
    ? (await collection.storageInstance.findDocumentsById(deletedIds, true)).map((d) => [String((d as Doc)[primary]), d as RxDocumentData<Doc>])
    : []);
  const rowFor = (master: Doc, current: RxDocumentData<Doc> | undefined): { previous?: RxDocumentData<Doc>; document: RxDocumentData<Doc> } => {
    const height = current ? getHeightOfRevision(current._rev) + 1 : 1;
    const { _meta: _m, _rev: _r, _attachments: _a, ...data } = master;
    return {
      ...(current ? { previous: current } : {}),
      document: {
        ...data,
        _deleted: !!master['_deleted'],
        _attachments: {},
        _rev: createRevision(identifierHash, current as never),
        _meta: { lwt, o: { _rev: height, hash: identifierHash } },
      } as RxDocumentData<Doc>,
    };
  };
  /**
   * Whether a stored document may be written over: only a state this import or a pull stored
   * (RxDB's `_meta.o` still matches its revision). A document written on the device (before or
   * during the import) and not pushed yet keeps its change, which goes out first, as RxDB's
   * downstream leaves it (downstream.js, "non-upstream-replicated").
   */
  const replaceable = (current: RxDocumentData<Doc>) => {
    const o = (current._meta as Doc)['o'] as { _rev?: number; hash?: string } | undefined;
    return !!o && o.hash === identifierHash && o._rev === getHeightOfRevision(current._rev);
  };
  const rows: { previous?: RxDocumentData<Doc>; document: RxDocumentData<Doc> }[] = [];
  for (const [id, master] of byId) {
    if (!master['_deleted']) {
      rows.push(rowFor(master, undefined));
      continue;
    }
    const current = heldDeleted.get(id);
    if (current && replaceable(current)) rows.push(rowFor(master, current));
  }
  if (rows.length === 0) return 0;
  // The storage below RxDB's collection wrapper (which would stamp its own write time and
  // revision over these): the same validation and field sealing, no other writer's lock needed.
  const write = async (batch: typeof rows) => {
    const result = await collection.internalStorageInstance.bulkWrite(batch as never, IMPORT_WRITE_CONTEXT);
    const conflicts = new Map<string, RxDocumentData<Doc> | undefined>();
    for (const error of result.error) {
      if (error.status === 409) {
        conflicts.set(error.documentId, (error as { documentInDb?: RxDocumentData<Doc> }).documentInDb);
        continue;
      }
      throw new Error(`the first sync of ${options.name} could not store ${error.documentId} (status ${error.status}); it starts again from its last page`);
    }
    return conflicts;
  };
  const conflicts = await write(rows);
  const again = [...conflicts].flatMap(([id, current]) => (current && replaceable(current) ? [rowFor(byId.get(id)!, current)] : []));
  // A document written on the device between the first write and this one: its change wins, as above.
  const lost = again.length > 0 ? await write(again) : new Map<string, unknown>();
  const stored = [...rows.filter((r) => !conflicts.has(String(r.document[primary]))), ...again.filter((r) => !lost.has(String(r.document[primary])))];
  if (options.keepServerStates && stored.length > 0) {
    const metaIds = stored.map((r) => metaId(String(r.document[primary]), '0'));
    // Only a resumed import finds copies written before.
    const before = new Map((stored.some((r) => r.previous) ? await meta.findDocumentsById(metaIds, true) : []).map((d) => [String(d['id']), d as RxDocumentData<Doc>]));
    const metaRows = stored.map((r, i) => {
      const id = String(r.document[primary]);
      const previous = before.get(metaIds[i]!);
      return { ...(previous ? { previous } : {}), document: metaRow(metaIds[i]!, id, '0', { docData: byId.get(id)! }, previous, identifierHash) };
    });
    const metaResult = await meta.bulkWrite(metaRows as never, IMPORT_WRITE_CONTEXT);
    if (metaResult.error.length > 0) {
      throw new Error(`the first sync of ${options.name} could not keep the server state of ${metaResult.error[0]!.documentId} (status ${metaResult.error[0]!.status}); it starts again from its last page`);
    }
  }
  return stored.filter((r) => !r.previous && !r.document._deleted).length;
}

/** A document of the replication's meta storage, shaped as RxDB's (replication-protocol/meta-instance.ts getMetaWriteRow). */
function metaRow(id: string, itemId: string, isCheckpoint: '0' | '1', data: Doc, previous: RxDocumentData<Doc> | undefined, revisionToken: string): RxDocumentData<Doc> {
  return {
    id, isCheckpoint, itemId, ...data,
    _deleted: false, _attachments: {},
    _rev: createRevision(revisionToken, previous as never),
    _meta: { lwt: now() },
  } as RxDocumentData<Doc>;
}
