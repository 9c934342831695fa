/**
 * Document revisions "<n>-<tag>". Devices create them (the server never rewrites them), so
 * conflict detection can compare revisions instead of server-touched fields.
 */
import { revProperty } from './schemas/common.ts';

const REVISION_PATTERN = new RegExp(revProperty.pattern);
const TAG_PATTERN = /^[0-9A-Za-z_.:]+$/;

export function isRevision(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= revProperty.minLength &&
    value.length <= revProperty.maxLength &&
    REVISION_PATTERN.test(value)
  );
}

export function revisionNumber(rev: string): number {
  if (!isRevision(rev)) throw new Error(`malformed revision: ${JSON.stringify(rev)}`);
  const n = Number(rev.slice(0, rev.indexOf('-')));
  if (!Number.isSafeInteger(n)) throw new Error(`revision number out of range: ${rev}`);
  return n;
}

/** The tag must be unique per write, so the caller supplies it (device id plus random chars). */
export function nextRevision(prev: string | undefined, tag: string): string {
  if (!TAG_PATTERN.test(tag)) throw new Error(`revision tag must match ${TAG_PATTERN.source}: ${JSON.stringify(tag)}`);
  const rev = `${prev === undefined ? 1 : revisionNumber(prev) + 1}-${tag}`;
  if (!isRevision(rev)) throw new Error(`revision longer than ${revProperty.maxLength} characters: ${rev}`);
  return rev;
}

/**
 * The revision of a merge result. It depends only on the two input revisions, so a device's
 * conflict handler and the server merging the same states produce the same revision.
 */
export function mergedRevision(masterRev: string, incomingRev: string): string {
  const n = Math.max(revisionNumber(masterRev), revisionNumber(incomingRev)) + 1;
  return `${n}-m${fnv1a64(`${masterRev}|${incomingRev}`).toString(36)}`;
}

const FNV64_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const UINT64_MASK = 0xffffffffffffffffn;

/** 64 bits rather than 32: two different merges of one document must not share a revision. */
function fnv1a64(text: string): bigint {
  let hash = FNV64_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * FNV64_PRIME) & UINT64_MASK;
  }
  return hash;
}
