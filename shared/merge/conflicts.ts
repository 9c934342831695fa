/**
 * The conflict history: values that lost a merge are kept on the document so a person can see
 * both values, who wrote each and when, and choose or combine them (see `conflictHistoryProperty`).
 * Resolving is an ordinary edit of the field plus `resolvedAt`/`resolvedBy` on the entry, which
 * syncs like any edit; merging two histories keeps the resolved copy of an entry.
 */
import { conflictHistoryProperty } from '../schemas/common.ts';
import { canonicalJson, isPlainObject } from './json.ts';

export interface ConflictEntry {
  id?: string;
  path: string;
  keptRev: string;
  lostRev: string;
  lostValueJson?: string;
  keptValueJson?: string;
  keptBy?: string;
  keptAt?: string;
  lostBy?: string;
  lostAt?: string;
  bothKept?: boolean;
  resolvedAt?: string;
  resolvedBy?: string;
}

/** Who wrote one side's value, and when (by that writer's clock; shown, never used to order). */
export interface Authorship {
  by?: string;
  at?: string;
}

export interface ConflictExtras {
  /** Free text: the field holds both texts, marked, until a person resolves it. */
  bothKept?: boolean;
  /** Resolved by a rule at merge time (a typed value kept over an automatic stamp): never shown as open. */
  resolvedBy?: string;
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
  keptBy: Authorship = {},
  lostBy: Authorship = {},
  extras: ConflictExtras = {},
): ConflictEntry {
  const entry: ConflictEntry = {
    id: conflictId(path, revText(keptRev), revText(lostRev)),
    path: truncate(path, limits.path.maxLength),
    keptRev: truncate(revText(keptRev), limits.keptRev.maxLength),
    lostRev: truncate(revText(lostRev), limits.lostRev.maxLength),
  };
  const lostJson = canonicalJson(lost);
  const keptJson = canonicalJson(kept);
  if (lostJson !== undefined) entry.lostValueJson = truncate(lostJson, limits.lostValueJson.maxLength);
  if (keptJson !== undefined) entry.keptValueJson = truncate(keptJson, limits.keptValueJson.maxLength);
  const keptWho = keptBy.by ?? writerOfRev(keptRev);
  const lostWho = lostBy.by ?? writerOfRev(lostRev);
  if (keptWho) entry.keptBy = truncate(keptWho, limits.keptBy.maxLength);
  if (keptBy.at) entry.keptAt = truncate(keptBy.at, limits.keptAt.maxLength);
  if (lostWho) entry.lostBy = truncate(lostWho, limits.lostBy.maxLength);
  if (lostBy.at) entry.lostAt = truncate(lostBy.at, limits.lostAt.maxLength);
  if (extras.bothKept) entry.bothKept = true;
  if (extras.resolvedBy) entry.resolvedBy = truncate(extras.resolvedBy, limits.resolvedBy.maxLength);
  return entry;
}

/** Deterministic, so the device's and the server's merge name an entry alike. */
export function conflictId(path: string, keptRev: string, lostRev: string): string {
  return `c${fnv1a32(`${path}|${keptRev}|${lostRev}`).toString(36)}${fnv1a32(`${lostRev}|${keptRev}|${path}`).toString(36)}`;
}

/**
 * Union of both sides' histories plus the new entries, so no entry is ever lost by a merge.
 * One entry (same id, or same path and revisions) is kept once, preferring a resolved copy: a
 * resolution made on one device is never undone by another device's older copy.
 * Past the schema's cap the oldest go first: the front of the list is the oldest.
 */
export function mergeConflictHistories(
  master: unknown,
  incoming: unknown,
  added: readonly ConflictEntry[],
  maxItems: number,
): unknown[] {
  const byIdentity = new Map<string, unknown>();
  for (const entry of [...asArray(master), ...asArray(incoming), ...added]) {
    const identity = identityOf(entry);
    const known = byIdentity.get(identity);
    byIdentity.set(identity, known === undefined ? entry : preferred(known, entry));
  }
  const merged = [...byIdentity.values()];
  return merged.length > maxItems ? merged.slice(merged.length - maxItems) : merged;
}

/**
 * Entries nobody has resolved yet: what the crew must look at before finalizing. One conflict
 * can be recorded by several merges (a tablet's, the server's, a queue replay's) with different
 * revisions, arriving at different times: an entry whose field and pair of values a person has
 * already decided is not open again.
 */
export function openConflicts(doc: unknown): ConflictEntry[] {
  if (!isPlainObject(doc)) return [];
  const entries = asArray(doc[CONFLICTS_KEY]).filter((e): e is ConflictEntry => isPlainObject(e) && typeof e.path === 'string');
  const decided = new Set(entries.filter(isResolved).map(decision));
  return entries.filter((e) => !isResolved(e) && !decided.has(decision(e)));
}

/** The field and the two values, in either order: what a person decides between. */
function decision(entry: ConflictEntry): string {
  return JSON.stringify([entry.path, ...[entry.keptValueJson ?? '', entry.lostValueJson ?? ''].sort()]);
}

/**
 * Open conflicts at `path` (`patient.lastName`, `vitals[v1].systolic`) or inside it
 * (`vitals[v1]` also finds its fields), so a section or item can show its marker.
 */
export function openConflictsAt(doc: unknown, path: string): ConflictEntry[] {
  return openConflicts(doc).filter((e) => e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`));
}

/** `vitals[v1].systolic` as segments: `['vitals', { id: 'v1' }, 'systolic']` (the apps' op paths). */
export function conflictPathSegments(path: string): (string | { id: string })[] {
  const segments: (string | { id: string })[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else segments.push({ id: match[2] ?? '' });
  }
  return segments;
}

/** The value a conflict entry recorded (`undefined` for a removal or an unreadable copy). */
export function conflictValue(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json; // truncated: the text as far as it was kept
  }
}

function identityOf(entry: unknown): string {
  if (isPlainObject(entry)) {
    if (typeof entry.id === 'string') return `id:${entry.id}`;
    if (typeof entry.path === 'string' && typeof entry.keptRev === 'string' && typeof entry.lostRev === 'string') {
      return `id:${conflictId(entry.path, entry.keptRev, entry.lostRev)}`;
    }
  }
  return `json:${canonicalJson(entry) ?? ''}`;
}

/** Resolved over open; between two resolutions the smaller canonical JSON, so every merge picks the same. */
function preferred(a: unknown, b: unknown): unknown {
  const aResolved = isResolved(a);
  if (aResolved !== isResolved(b)) return aResolved ? a : b;
  return (canonicalJson(a) ?? '') <= (canonicalJson(b) ?? '') ? a : b;
}

function isResolved(entry: unknown): boolean {
  return isPlainObject(entry) && (entry.resolvedAt !== undefined || entry.resolvedBy !== undefined);
}

/**
 * Who wrote a revision, when the document has no `lastEdit`: devices tag revisions with their
 * id (client/sync/writes.ts), the server's workflows with `srv.`, the CAD bridge with `cad.`.
 */
export function writerOfRev(rev: unknown): string | undefined {
  if (typeof rev !== 'string') return undefined;
  const tag = rev.slice(rev.indexOf('-') + 1);
  if (tag.startsWith('srv.')) return 'the server (automatic)';
  if (tag.startsWith('cad.')) return 'CAD';
  if (/^m[0-9a-z]+$/.test(tag)) return undefined; // a merge of two states: nobody in particular
  const dot = tag.lastIndexOf('.');
  return dot > 0 ? `device ${tag.slice(0, dot)}` : undefined;
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function revText(rev: unknown): string {
  return typeof rev === 'string' ? rev : '';
}

// Not shared/revision.ts fnv1a64: conflict ids (two 32-bit hashes in base 36) are stored on devices and must stay the same.
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Cuts at a code-point boundary, so the stored text stays valid UTF-16. */
function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const lastKept = text.charCodeAt(maxLength - 1);
  const end = lastKept >= 0xd800 && lastKept <= 0xdbff ? maxLength - 1 : maxLength;
  return text.slice(0, end);
}
