/**
 * Handing pushes to the service worker's queue, where the queue is the device's master.
 *
 * The queue keeps one row per document and writer, and a newer state replaces the row's state:
 * right only when the newer state was built on the queued one. RxDB builds each push on what it
 * assumes the master holds; that is the queued state unless a pulled state was stored over the
 * document in between (a server change whose look at the queue came before the queued change
 * arrived there). A state built on such a pulled state does not hold the queued change; replacing
 * the queued state with it would drop what the person typed before, on the device and on the
 * server (which would then see a plain write built on its master, and record no conflict).
 *
 * So a push is checked against the queue's head as the server checks it against its master: built
 * on the head, it is queued; built on anything else, the head is first replayed onto the state
 * the push was built on (the shared merge, as queue-rebase.ts does for pulled states), then the
 * push's own edits are applied over it. Both are this device's changes, in the order the person
 * made them, so the later edit wins where both touched a value (the server's order rules between
 * devices, and a person's own later keystroke is not a conflict with their earlier one). The
 * result replaces the head, and is answered to RxDB as the master's state: RxDB stores it on the
 * device and pushes again, now built on the head.
 */
import { enqueueRows, queuedRows, writerKeyOf, type OutboxDb, type PushRowInput, type QueuedRow, type QueueWriter } from '../queue/index.ts';
import { deepEqual, isPlainObject, merge } from '../../shared/merge/index.ts';
import { isRevision, mergedRevision } from '../../shared/revision.ts';
import { isCollectionName } from '../../shared/schemas/index.ts';
import { openRow } from './queue-rebase.ts';
import { protectRows, type QueueProtection } from './queue-seal.ts';

type Doc = Record<string, unknown>;

export interface QueueHeadOptions {
  db: OutboxDb;
  collection: string;
  schemaVersion: number;
  protection: QueueProtection;
  writer?: QueueWriter;
  /** States the device computed on top of a queued head (queue-rebase.ts), by revision: the head's revision. */
  builtOnHead?: (id: string, rev: unknown) => string | undefined;
}

/** Queues the rows built on the queue's head; returns the heads (replayed) that the others conflict with. */
export async function pushToQueue(options: QueueHeadOptions, rows: PushRowInput[]): Promise<Doc[]> {
  const { db, collection, protection } = options;
  const heads: Map<string, QueuedRow[]> = isCollectionName(collection) ? await queuedRows(db, collection, rows.map((r) => String(r.newDocumentState['id']))) : new Map();
  const own = writerKeyOf(options.writer);
  const onHead: PushRowInput[] = [];
  const replacedHeads: PushRowInput[] = [];
  const conflicts: Doc[] = [];
  for (const row of rows) {
    const id = String(row.newDocumentState['id']);
    const all = heads.get(id) ?? [];
    // The row the queue would coalesce this state into (another writer's row is never replaced).
    const queued = all.find((r) => r.writerKey === own);
    // The usual case (every keystroke): built on the queued head, which its revision in clear
    // (QueuedRow.rev) tells without opening the sealed state and base.
    if (queued && typeof queued.rev === 'string' && queued.rev === row.assumedMasterState?.['rev']) {
      onHead.push(row);
      continue;
    }
    const head = queued ? await openRow(collection, queued, protection) : undefined;
    if (!head || buildsOn(row.assumedMasterState, head.state, id, options.builtOnHead)) {
      onHead.push(row);
      continue;
    }
    // Not built on the head: the head replayed onto the state the push was built on, then the push's edits over it.
    const assumed = row.assumedMasterState;
    const replayed = assumed && isCollectionName(collection)
      ? merge(collection, { ...(head.base ? { base: head.base } : {}), master: assumed, incoming: head.state })
      : head.state;
    const combined = applyEdits(assumed ?? {}, row.newDocumentState, replayed);
    replacedHeads.push({ ...(assumed ? { assumedMasterState: assumed } : {}), newDocumentState: combined });
    conflicts.push(combined);
  }
  const queue = [...replacedHeads, ...onHead];
  if (queue.length > 0) {
    await enqueueRows(db, collection, options.schemaVersion, await protectRows(collection, queue, protection), Date.now(), options.writer);
  }
  return conflicts;
}

function buildsOn(assumed: Doc | undefined, head: Doc, id: string, builtOnHead: QueueHeadOptions['builtOnHead']): boolean {
  if (!assumed) return false;
  if (assumed['rev'] !== undefined && assumed['rev'] === head['rev']) return true;
  // A pulled state the device replayed this very head onto holds the head's change already.
  if (builtOnHead && typeof head['rev'] === 'string' && builtOnHead(id, assumed['rev']) === head['rev']) return true;
  return assumed['rev'] === undefined && head['rev'] === undefined && deepEqual(assumed, head);
}

const REV_KEY = 'rev';
const CONFLICTS_KEY = 'conflicts';

/**
 * `onto` with every value `edited` changed from `base` (its parent) set as `edited` has it: the
 * edits replayed, nothing else of `edited` taken. Objects are followed key by key; any other value
 * (arrays included) is taken whole. The revision names both states, so it is newer than either;
 * the conflict histories of both are kept.
 */
export function applyEdits(base: Doc, edited: Doc, onto: Doc): Doc {
  const result = applyObject(base, edited, onto);
  if (isRevision(edited[REV_KEY]) && isRevision(onto[REV_KEY])) result[REV_KEY] = mergedRevision(onto[REV_KEY], edited[REV_KEY]);
  const histories = [edited[CONFLICTS_KEY], onto[CONFLICTS_KEY]].filter(Array.isArray) as unknown[][];
  if (histories.length > 0) {
    const byId = new Map<unknown, unknown>();
    for (const entry of histories.flat()) byId.set(isPlainObject(entry) ? entry['id'] ?? entry : entry, entry);
    result[CONFLICTS_KEY] = [...byId.values()];
  }
  return result;
}

function applyObject(base: Doc, edited: Doc, onto: Doc): Doc {
  const result: Doc = { ...onto };
  for (const key of new Set([...Object.keys(base), ...Object.keys(edited)])) {
    if (key === REV_KEY || key === CONFLICTS_KEY) continue;
    const was = base[key];
    const now = edited[key];
    if (deepEqual(was, now)) continue;
    if (now === undefined) delete result[key];
    else if (isPlainObject(was) && isPlainObject(now) && isPlainObject(onto[key])) result[key] = applyObject(was, now, onto[key] as Doc);
    else result[key] = now;
  }
  return result;
}

/** Which queued head each replayed state (queue-rebase.ts) was computed on; memory only, bounded. */
export class ReplayedHeads {
  private readonly heads = new Map<string, string>();

  constructor(private readonly limit = 20_000) {}

  record(id: string, rev: unknown, headRev: unknown): void {
    if (typeof rev !== 'string' || typeof headRev !== 'string') return;
    const key = `${id}\u0000${rev}`;
    this.heads.delete(key);
    this.heads.set(key, headRev);
    if (this.heads.size > this.limit) this.heads.delete(this.heads.keys().next().value!);
  }

  headOf(id: string, rev: unknown): string | undefined {
    return typeof rev === 'string' ? this.heads.get(`${id}\u0000${rev}`) : undefined;
  }
}
