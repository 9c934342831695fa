import { isSameRevision, merge } from '../../shared/merge/index.ts';
import { isCollectionName } from '../../shared/schemas/index.ts';
import type { WireDocument } from '../store/types.ts';

/** RxDB's revision rule on its own (no access rules): what a push row would do to `master`. */
export type RevisionOutcome = 'write' | 'noop' | 'conflict';

/**
 * RxDB's push rule, decided against the master read inside the write transaction:
 * - no master: write;
 * - the master already is the new state: nothing to do (a retry whose answer was lost);
 * - the device's assumed master is the master: write;
 * - anything else: conflict, and the device resolves it with the shared merge function.
 * Comparisons use the client-owned revision, never fields the server writes.
 */
export function revisionOutcome(masterDoc: WireDocument | undefined, assumed: WireDocument | undefined, incoming: WireDocument): RevisionOutcome {
  if (!masterDoc) return 'write';
  if (isSameRevision(masterDoc, incoming)) return 'noop';
  if (assumed && isSameRevision(assumed, masterDoc)) return 'write';
  return 'conflict';
}

/**
 * The server-side resolution of a conflicting replay (push with `conflicts=merge`): the same
 * shared merge function the devices use as their conflict handler, so a device that queued
 * changes for hours need not be awake to resolve them. Returns undefined when the collection has
 * no merge function or the result would not be a valid document (then the device resolves).
 */
export function mergeOnServer(
  collection: string,
  masterDoc: WireDocument,
  assumed: WireDocument | undefined,
  incoming: WireDocument,
  isValid: (doc: WireDocument) => boolean,
): WireDocument | undefined {
  if (!isCollectionName(collection)) return undefined;
  const merged = merge(collection, { ...(assumed ? { base: assumed } : {}), master: masterDoc, incoming }) as WireDocument;
  return isValid(merged) ? merged : undefined;
}
