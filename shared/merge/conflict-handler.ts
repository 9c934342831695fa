/**
 * RxDB conflict handlers built from the same merge functions the server uses, so a device
 * resolving a push conflict reaches the document the server would have produced.
 */
import type { RxConflictHandler, RxConflictHandlerInput, WithDeleted } from 'rxdb';
import type { CollectionDocTypes, CollectionName } from '../schemas/index.ts';
import { mergeFunctions } from './registry.ts';
import { isPlainObject, withoutLocalMeta, type Doc } from './json.ts';
import { isSameRevision } from './same-revision.ts';
import { createThreeWayMerge, type MergeFunction, type ThreeWayMergeOptions } from './three-way.ts';

export function conflictHandlerFor<C extends CollectionName>(collection: C): RxConflictHandler<CollectionDocTypes[C]> {
  return conflictHandlerFrom(mergeFunctions[collection]);
}

/**
 * For collections outside the registry (e.g. the replication conformance suite's "humans").
 * Without a schema declaring `conflicts`, losing values are not recorded (see ThreeWayMergeOptions).
 */
// `any` by default, like RxDB's own default handler, so it fits any collection's document type.
export function conflictHandlerForUnknown<T = any>(options: ThreeWayMergeOptions = {}): RxConflictHandler<T> {
  return conflictHandlerFrom(createThreeWayMerge(options));
}

function conflictHandlerFrom<T>(mergeFn: MergeFunction): RxConflictHandler<T> {
  return {
    isEqual: (a, b) => isSameRevision(asDoc(a), asDoc(b)),
    resolve: async (input: RxConflictHandlerInput<T>) => {
      const merged = mergeFn({
        base: input.assumedMasterState === undefined ? undefined : replicated(input.assumedMasterState),
        master: replicated(input.realMasterState),
        incoming: replicated(input.newDocumentState),
      });
      return merged as WithDeleted<T>;
    },
  };
}

/** RxDB's `_meta`/`_rev`/`_attachments` are local to one storage; RxDB re-adds the fork's own. */
function replicated(state: unknown): Doc {
  return withoutLocalMeta(asDoc(state));
}

function asDoc(state: unknown): Doc {
  if (!isDoc(state)) throw new TypeError('conflict handler: document state must be a plain object');
  return state;
}

function isDoc(value: unknown): value is Doc {
  return isPlainObject(value) && (value._deleted === undefined || typeof value._deleted === 'boolean');
}
