/**
 * Free text (the narrative and other long texts) edited on two devices: neither text may be
 * lost silently. Lines both sides did not touch alike merge as git merges them (diff3); where
 * both changed the same lines, the field keeps both versions, each under a marker naming who
 * wrote it and when, for the crew to choose or combine (the merge also records a conflict entry).
 */
import { diff3Merge } from 'node-diff3';
import type { Authorship } from './conflicts.ts';

/** Strings whose schema allows at least this many characters are free text, not a short value. */
export const FREE_TEXT_MIN_LENGTH = 1000;

export const BOTH_VERSIONS_START = '<<<<<<< ';
export const BOTH_VERSIONS_SPLIT = '======= ';
export const BOTH_VERSIONS_END = '>>>>>>> end of the two versions';

export interface FreeTextMerge {
  text: string;
  /** Whether some lines were changed on both sides: the text holds both versions, marked. */
  bothKept: boolean;
}

export function isFreeTextSchema(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const node = schema as { type?: unknown; maxLength?: unknown };
  return node.type === 'string' && typeof node.maxLength === 'number' && node.maxLength >= FREE_TEXT_MIN_LENGTH;
}

/** Deterministic: the same inputs give the same text on every device and on the server. */
export function mergeFreeText(base: string, master: string, incoming: string, masterBy: Authorship, incomingBy: Authorship): FreeTextMerge {
  const regions = diff3Merge(master, base, incoming, { stringSeparator: '\n', excludeFalseConflicts: true });
  const lines: string[] = [];
  let bothKept = false;
  for (const region of regions) {
    if (region.ok) {
      lines.push(...region.ok);
      continue;
    }
    if (!region.conflict) continue;
    bothKept = true;
    lines.push(`${BOTH_VERSIONS_START}${label(masterBy, 'version kept on the server')}`);
    lines.push(...region.conflict.a);
    lines.push(`${BOTH_VERSIONS_SPLIT}${label(incomingBy, 'version from the other device')}`);
    lines.push(...region.conflict.b);
    lines.push(BOTH_VERSIONS_END);
  }
  return { text: lines.join('\n'), bothKept };
}

/** Whether a text still holds two versions marked by `mergeFreeText`. */
export function holdsBothVersions(text: unknown): boolean {
  return typeof text === 'string' && text.includes(BOTH_VERSIONS_START) && text.includes(BOTH_VERSIONS_END);
}

function label(author: Authorship, fallback: string): string {
  // The writer's own wall clock as written (never reformatted in a local zone: every merge must give the same text).
  const at = author.at ? author.at.replace('T', ' ').slice(0, 19) : undefined;
  return [author.by ? `written by ${author.by}` : fallback, at ? `at ${at}` : undefined].filter(Boolean).join(' ');
}
