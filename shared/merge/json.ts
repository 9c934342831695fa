/** JSON-document helpers shared by the merge functions. */

/** A document as the merge sees it: plain JSON, plus RxDB's tombstone flag. */
export type Doc = Record<string, unknown> & { _deleted?: boolean };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Keys whose value is undefined are left out: JSON cannot carry them, so they mean "absent". */
export function definedKeys(object: Record<string, unknown>): string[] {
  return Object.keys(object).filter((key) => object[key] !== undefined);
}

/** Structural equality of JSON values; object key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = definedKeys(a);
    return keys.length === definedKeys(b).length && keys.every((key) => deepEqual(a[key], b[key]));
  }
  return false;
}

/**
 * JSON with object keys sorted. Stores such as Postgres jsonb reorder keys, and anything
 * derived from a document (conflict entries, their identity) must not depend on that order.
 */
export function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (!isPlainObject(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = v[key];
    return sorted;
  });
}

/** RxDB's local bookkeeping: never replicated, so it takes no part in comparing or merging. */
export const LOCAL_META_KEYS: readonly string[] = ['_meta', '_rev', '_attachments'];

export function withoutLocalMeta(doc: Doc): Doc {
  const out: Doc = {};
  for (const key of Object.keys(doc)) {
    if (!LOCAL_META_KEYS.includes(key)) out[key] = doc[key];
  }
  return out;
}
