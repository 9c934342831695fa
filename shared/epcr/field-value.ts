/**
 * The value of one field of a report, by its path name (`patient.lastName`, `vitals[v1].systolic`:
 * the paths of finalize problems and warnings), and a short mark of it. A problem found on a value
 * is about that value: the server notes the mark of the value each national warning was found on,
 * and the crew form shows the warning only while the field still holds that value (the device's
 * own check does the same with the value itself).
 */

/** The value at a path name of a report, if any. */
export function valueAt(doc: unknown, name: string): unknown {
  let at: unknown = doc;
  for (const [, key, itemId] of name.matchAll(/([A-Za-z0-9_]+)|\[([^\]]+)\]/g)) {
    if (at === undefined || at === null || typeof at !== 'object') return undefined;
    at = itemId !== undefined
      ? (Array.isArray(at) ? at.find((item: { id?: unknown }) => item?.id === itemId) : undefined)
      : (at as Record<string, unknown>)[key!];
  }
  return at;
}

/**
 * A mark of the value at a path name: 16 hex digits of a hash of the value as JSON with its keys
 * sorted (the server's copy and the device's may hold an object's keys in another order). Only
 * tells whether the value changed: a mark, not a secret; it never holds the value itself.
 */
export function fieldValueMark(doc: unknown, name: string): string {
  return hash64(canonicalJson(valueAt(doc, name) ?? null));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Two FNV-1a 32-bit hashes (different offsets) of the UTF-16 code units: synchronous, the same on the server and in the browser. */
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
    b ^= b >>> 13;
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
