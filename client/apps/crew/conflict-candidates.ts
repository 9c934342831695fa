/**
 * The values a conflicts-panel entry offers the crew: every distinct value the conflict entries
 * of one field hold, each with who wrote it and when. Pure, so it is tested without a page.
 */
import { conflictValue, holdsBothVersions, type ConflictEntry } from '../../../shared/merge/index.ts';

export interface Candidate { value: unknown; by?: string | undefined; at?: string | undefined }

/**
 * Distinct values in the order first seen. A text holding both versions between markers is what
 * the merge wrote to keep them, not a version anyone wrote: a later merge can record it as one
 * side of a conflict, but the panel offers the versions it holds instead (when at least two
 * are there to choose from, so nothing is ever hidden).
 */
export function candidatesOf(entries: readonly ConflictEntry[]): Candidate[] {
  const seen = new Map<string, Candidate>();
  for (const entry of entries) {
    for (const [json, by, at] of [[entry.keptValueJson, entry.keptBy, entry.keptAt], [entry.lostValueJson, entry.lostBy, entry.lostAt]] as const) {
      const key = json ?? 'absent';
      if (!seen.has(key)) seen.set(key, { value: conflictValue(json), by, at });
    }
  }
  const all = [...seen.values()];
  const written = all.filter((c) => !holdsBothVersions(c.value));
  return written.length >= 2 ? written : all;
}
