import { createHash } from 'node:crypto';

/**
 * The audit chain's formula, shared by every store so that a chain written by one verifies the
 * same way everywhere: each entry's hash covers the previous hash, its time, tenant and content.
 */
export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(prev: string, at: number, tenantId: string, entry: string): string {
  return createHash('sha256').update(`${prev}\n${at}\n${tenantId}\n${entry}`).digest('hex');
}

/**
 * The client-owned revision of a stored document, if it has one (foreign schemas may not). A
 * pattern instead of a parse keeps auditing cheap; no collection has a nested `rev` key.
 */
export function revOf(json: string): string | undefined {
  const match = /"rev":"([^"]{1,64})"/.exec(json);
  return match?.[1];
}

/** `revOf` of a document whose object is at hand: its `rev` field when that is what the pattern would find. */
export function revisionOf(doc: Readonly<Record<string, unknown>> | undefined, json: string): string | undefined {
  const rev = doc?.["rev"];
  if (typeof rev === 'string' && rev.length > 0 && rev.length <= 64 && !/["\\]/.test(rev)) return rev;
  return revOf(json);
}
