/** Situation: what happened and how sick the patient is (eSituation). */
import type { JSX } from 'preact';
import { SuggestionList, TimeField } from '../../../ui/components.tsx';
import { vocabularyPick } from '../codes.ts';
import type { FormKit } from './kit.ts';

/** NEMSIS's impression list to search; the ICD-10-CM code is stored, its label shown. */
const { list: IMPRESSION_LIST, ...IMPRESSION } = vocabularyPick('situation.primaryImpression');

export function situationSection({ epcr, field, text, select }: FormKit): JSX.Element {
  return (
    <div class="grid">
      <SuggestionList {...IMPRESSION_LIST} />
      {text(['situation', 'chiefComplaint'], 'Chief complaint', epcr.situation?.chiefComplaint)}
      <TimeField {...field(['situation', 'onset'], 'Onset')} value={epcr.situation?.onset} />
      <TimeField {...field(['situation', 'lastKnownWell'], 'Last known well')} value={epcr.situation?.lastKnownWell} />
      {text(['situation', 'primaryImpression'], 'Primary impression (ICD-10-CM code)', epcr.situation?.primaryImpression, { maxLength: 20, ...IMPRESSION })}
      {select(['situation', 'acuity'], 'Acuity', epcr.situation?.acuity)}
      {select(['situation', 'possibleInjury'], 'Possible injury', epcr.situation?.possibleInjury)}
    </div>
  );
}
