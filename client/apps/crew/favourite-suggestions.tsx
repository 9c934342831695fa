/**
 * A searchable pick-list of NEMSIS vocabulary codes with the agency's favourites first (issue 16
 * item 1): the favourites come from the device settings (client/ui/device-settings.ts), read while online
 * and kept for offline; the rest of NEMSIS's list follows in its own order.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { VocabularyFavourites, VocabularyName } from '../../../shared/nemsis/vocabularies.ts';
import { SuggestionList } from '../../ui/components.tsx';
import { favourites, favouritesOf, loadDeviceSettings, onDeviceSettings } from '../../ui/device-settings.ts';

type Entries = readonly (readonly [string, string])[];

/** `entries` with the favourites of `vocabularies` first, in the agency's order (codes not in the list are skipped). */
export function favouritesFirstOf(entries: Entries, vocabularies: readonly VocabularyName[], chosen: VocabularyFavourites): Entries {
  const codes = [...new Set(vocabularies.flatMap((name) => chosen[name] ?? []))];
  if (!codes.length) return entries;
  const byCode = new Map(entries.map((e) => [e[0], e]));
  const first = codes.map((code) => byCode.get(code)).filter((e): e is readonly [string, string] => e !== undefined);
  const taken = new Set(first.map((e) => e[0]));
  return [...first, ...entries.filter((e) => !taken.has(e[0]))];
}

export function VocabularySuggestionList(props: { id: string; entries: Entries; vocabularies: readonly VocabularyName[] }) {
  const [chosen, setChosen] = useState(favourites);
  useEffect(() => {
    const off = onDeviceSettings((settings) => setChosen(favouritesOf(settings)));
    void loadDeviceSettings();
    return off;
  }, []);
  const entries = useMemo(() => favouritesFirstOf(props.entries, props.vocabularies, chosen), [props.entries, props.vocabularies, chosen]);
  return <SuggestionList id={props.id} entries={entries} />;
}
