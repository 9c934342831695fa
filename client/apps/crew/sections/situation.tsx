/** Situation: what happened and how sick the patient is (eSituation). */
import type { JSX } from 'preact';
import { TimeField } from '../../../ui/components.tsx';
import type { FormKit } from './kit.ts';

export function situationSection({ epcr, field, text, select }: FormKit): JSX.Element {
  return (
    <div class="grid">
      {text(['situation', 'chiefComplaint'], 'Chief complaint', epcr.situation?.chiefComplaint)}
      <TimeField {...field(['situation', 'onset'], 'Onset')} value={epcr.situation?.onset} />
      <TimeField {...field(['situation', 'lastKnownWell'], 'Last known well')} value={epcr.situation?.lastKnownWell} />
      {text(['situation', 'primaryImpression'], 'Primary impression (ICD-10)', epcr.situation?.primaryImpression, { maxLength: 20 })}
      {select(['situation', 'acuity'], 'Acuity', epcr.situation?.acuity)}
      {select(['situation', 'possibleInjury'], 'Possible injury', epcr.situation?.possibleInjury)}
    </div>
  );
}
