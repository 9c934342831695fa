/**
 * The large vocabularies NEMSIS does not enumerate in its XSDs (ICD-10-CM impressions, symptoms,
 * history and injury causes; RxNorm medications; SNOMED CT procedures and allergies), as NEMSIS's
 * own Defined and Suggested Lists give them (vocabularies.generated.ts, `npm run nemsis:codes`):
 * the searchable pick-lists of the apps. A code outside the list may still be a valid code of
 * its system; `vocabularyPattern` is the format the element takes (the XSD's own constraint,
 * tightened to the code system's form where the XSD only bounds the length).
 */
import { NEMSIS_VOCABULARIES, type NemsisVocabulary } from './vocabularies.generated.ts';

export type VocabularyName = keyof typeof NEMSIS_VOCABULARIES;

export interface VocabularyEntry {
  code: string;
  /** NEMSIS's suggested label: what a person picks by. */
  label: string;
  /** The code system's own term, where it differs from the label. */
  sourceLabel: string;
  category: string;
  /** The entry's code system when the list mixes systems (RxNorm and SNOMED-CT for medications, ICD-10 for Z88 allergies). */
  codeType: string;
}

const entriesCache = new Map<VocabularyName, readonly VocabularyEntry[]>();

export const VOCABULARY_NAMES = Object.keys(NEMSIS_VOCABULARIES) as VocabularyName[];

export function vocabularyEntries(name: VocabularyName): readonly VocabularyEntry[] {
  let entries = entriesCache.get(name);
  if (!entries) {
    entries = NEMSIS_VOCABULARIES[name].entries.map(([code, label, sourceLabel, category, codeType]) => ({ code, label, sourceLabel, category, codeType }));
    entriesCache.set(name, entries);
  }
  return entries;
}

/** The elements a vocabulary is for (eMedications.03, …). */
export function vocabularyElements(name: VocabularyName): readonly string[] {
  return NEMSIS_VOCABULARIES[name].elements;
}

/** The vocabulary NEMSIS lists for an element, if any. */
export function vocabularyFor(element: string): VocabularyName | undefined {
  return VOCABULARY_NAMES.find((name) => (NEMSIS_VOCABULARIES[name].elements as readonly string[]).includes(element));
}

export function vocabularyEntry(name: VocabularyName, code: string): VocabularyEntry | undefined {
  return vocabularyEntries(name).find((e) => e.code === code);
}

/** "Naloxone (Narcan)" for 7242; undefined for a code the list does not hold. */
export function vocabularyLabel(name: VocabularyName, code: string): string | undefined {
  return vocabularyEntry(name, code)?.label;
}

/**
 * An agency's favourites of each large vocabulary (agency settings `favourites`, issue 16 item 1):
 * the codes its crews use most, offered before the rest of NEMSIS's list.
 */
export type VocabularyFavourites = Partial<Record<VocabularyName, readonly string[]>>;

/** The list with the favourites first, in the agency's order (codes the list does not hold are skipped), then the rest in list order. */
export function favouritesFirst(name: VocabularyName, favourites: readonly string[] | undefined): readonly VocabularyEntry[] {
  const entries = vocabularyEntries(name);
  if (!favourites?.length) return entries;
  const first = favourites.flatMap((code) => vocabularyEntry(name, code) ?? []);
  const chosen = new Set(first.map((e) => e.code));
  return [...first, ...entries.filter((e) => !chosen.has(e.code))];
}

/** The favourites that are not codes of the list (for the settings check). */
export function unknownFavourites(name: VocabularyName, codes: readonly string[]): string[] {
  return codes.filter((code) => vocabularyEntry(name, code) === undefined);
}

/**
 * The list's entries matching every word of `query` (in the code, either label or the category),
 * best first: the code itself, then the agency's favourites, then labels starting with the query,
 * then the rest in list order.
 */
export function searchVocabulary(name: VocabularyName, query: string, limit = 20, favourites?: readonly string[]): VocabularyEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const q = query.trim().toLowerCase();
  if (!words.length) return favouritesFirst(name, favourites).slice(0, limit);
  const favourite = new Set(favourites ?? []);
  const rank = (e: VocabularyEntry) => (e.code.toLowerCase() === q ? 0 : favourite.has(e.code) ? 1 : e.label.toLowerCase().startsWith(q) ? 2 : 3);
  return vocabularyEntries(name)
    .filter((e) => {
      const hay = `${e.code} ${e.label} ${e.sourceLabel} ${e.category}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .map((e, i) => ({ e, i, r: rank(e) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .slice(0, limit)
    .map(({ e }) => e);
}

/**
 * The form of a code the element takes. Where the XSD gives a pattern, that pattern; where it
 * gives only a base type or lengths, the code system's form within them: RxNorm CUIs and SNOMED CT
 * ids are digits (the XSD lets "Naloxone" through eMedications.03's 2-9 characters; the national
 * Schematron then refuses it, nemSch_e145).
 */
export function vocabularyPattern(name: VocabularyName): RegExp {
  const { system } = NEMSIS_VOCABULARIES[name];
  const format: NemsisVocabulary['format'] = NEMSIS_VOCABULARIES[name].format;
  if (format.pattern) return new RegExp(format.pattern);
  const digits = system === 'RxNorm' || system === 'SNOMED CT' || format.base === 'xs:integer';
  if (!digits) throw new Error(`vocabulary ${name}: no pattern in the XSD and no known form for ${system} codes`);
  const min = format.minLength ?? 1;
  const max = format.maxLength ?? 18;
  return new RegExp(`^[0-9]{${min},${max}}$`);
}
