import type { WireDocument, WriteRequest } from './types.ts';

/** The text a store keeps for a decided write: the request's ready-made JSON when the decision writes what was sent. */
export function documentJson(request: WriteRequest, doc: WireDocument): string {
  return doc === request.incoming && request.incomingJson !== undefined ? request.incomingJson : JSON.stringify(doc);
}

/** Below this, a refused document is kept as sent; deeper parts are replaced by a note (`quarantineJson`). */
const QUARANTINE_MAX_DEPTH = 64;

/**
 * The text kept in quarantine for a refused document. A refusal must never fail: a document
 * JSON.stringify cannot write (nested thousands of levels deep, so the stack overflows, or one with
 * a BigInt) is kept down to 64 levels, deeper parts replaced by a note saying so, instead of
 * turning the refusal into a 500 (issue 17: a sealed row nested 5,000 levels deep did).
 */
export function quarantineJson(doc: unknown): string {
  try {
    return JSON.stringify(doc) ?? 'null';
  } catch {
    return JSON.stringify(cutAtDepth(doc, QUARANTINE_MAX_DEPTH));
  }
}

function cutAtDepth(value: unknown, depthLeft: number): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (depthLeft === 0) return `(nested deeper than ${QUARANTINE_MAX_DEPTH} levels: not kept)`;
  if (Array.isArray(value)) return value.map((item) => cutAtDepth(item, depthLeft - 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutAtDepth(item, depthLeft - 1)]));
}

/**
 * A short text (an id, a reason) as a text column of either store can hold it: PostgreSQL refuses
 * U+0000 in text. A refused row's id is whatever the device sent, and its quarantine entry must be
 * written all the same.
 */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
}
