/**
 * The conflict history: values that lost a merge are kept on the document so a person can see
 * and restore them (see `conflictHistoryProperty`).
 */
import { conflictHistoryProperty } from '../schemas/common.ts';
import { canonicalJson } from './json.ts';

export interface ConflictEntry {
  path: string;
  keptRev: string;
  lostRev: string;
  lostValueJson?: string;
  keptValueJson?: string;
}

export const CONFLICTS_KEY = 'conflicts';
export const DEFAULT_MAX_CONFLICTS = conflictHistoryProperty.maxItems;

const limits = conflictHistoryProperty.items.properties;

/** `kept`/`lost` are undefined when that side removed the value. */
export function conflictEntry(
  path: string,
  keptRev: unknown,
  lostRev: unknown,
  kept: unknown,
  lost: unknown,
): ConflictEntry {
  const entry: ConflictEntry = {
    path: truncate(path, limits.path.maxLength),
    keptRev: truncate(revText(keptRev), limits.keptRev.maxLength),
    lostRev: truncate(revText(lostRev), limits.lostRev.maxLength),
  };
  const lostJson = canonicalJson(lost);
  const keptJson = canonicalJson(kept);
  if (lostJson !== undefined) entry.lostValueJson = truncate(lostJson, limits.lostValueJson.maxLength);
  if (keptJson !== undefined) entry.keptValueJson = truncate(keptJson, limits.keptValueJson.maxLength);
  return entry;
}

/**
 * Union of both sides' histories plus the new entries, so no entry is ever lost by a merge.
 * Past the schema's cap the oldest go first: the front of the list is the oldest.
 */
export function mergeConflictHistories(
  master: unknown,
  incoming: unknown,
  added: readonly ConflictEntry[],
  maxItems: number,
): unknown[] {
  const seen = new Set<string>();
  const merged: unknown[] = [];
  for (const entry of [...asArray(master), ...asArray(incoming), ...added]) {
    const identity = canonicalJson(entry) ?? '';
    if (seen.has(identity)) continue;
    seen.add(identity);
    merged.push(entry);
  }
  return merged.length > maxItems ? merged.slice(merged.length - maxItems) : merged;
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function revText(rev: unknown): string {
  return typeof rev === 'string' ? rev : '';
}

/** Cuts at a code-point boundary, so the stored text stays valid UTF-16. */
function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const lastKept = text.charCodeAt(maxLength - 1);
  const end = lastKept >= 0xd800 && lastKept <= 0xdbff ? maxLength - 1 : maxLength;
  return text.slice(0, end);
}
