import { deepEqual, withoutLocalMeta, type Doc } from './json.ts';

/**
 * Whether two states are the same version of a document. A client-owned revision identifies
 * the content, so comparing it is enough (and fast: RxDB calls this very often). Documents of
 * foreign schemas carry no revision and fall back to comparing content.
 */
export function isSameRevision(a: Doc, b: Doc): boolean {
  if (typeof a.rev === 'string' && typeof b.rev === 'string') {
    return a.rev === b.rev && isDeleted(a) === isDeleted(b);
  }
  return deepEqual(normalized(a), normalized(b));
}

export function isDeleted(doc: Doc): boolean {
  return doc._deleted === true;
}

function normalized(doc: Doc): Doc {
  return { ...withoutLocalMeta(doc), _deleted: isDeleted(doc) };
}
