/**
 * One merge function per collection. The server can run them on push conflicts and devices
 * run the same functions as RxDB conflict handlers, so both reach the same document and the
 * same revision.
 */
export { merge, mergeFunctions } from './registry.ts';
export { conflictHandlerFor, conflictHandlerForUnknown } from './conflict-handler.ts';
export { isDeleted, isSameRevision } from './same-revision.ts';
export {
  DERIVED_KEY, LAST_EDIT_KEY, TYPED_OVER_DERIVED, createThreeWayMerge, threeWayMerge,
  type MergeFunction, type MergeInput, type SchemaNode, type ThreeWayMergeOptions,
} from './three-way.ts';
export { EPCR_SERVER_OWNED_FIELDS, mergeEpcr } from './epcr.ts';
export { mergeImmutable } from './immutable.ts';
export { canonicalJson, deepEqual, isPlainObject, type Doc } from './json.ts';
export {
  conflictPathSegments, conflictValue, openConflicts, openConflictsAt, writerOfRev,
  type Authorship, type ConflictEntry,
} from './conflicts.ts';
export { BOTH_VERSIONS_END, BOTH_VERSIONS_SPLIT, BOTH_VERSIONS_START, holdsBothVersions, isFreeTextSchema, mergeFreeText } from './free-text.ts';
