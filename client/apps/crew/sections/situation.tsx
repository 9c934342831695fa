/** Situation: what happened and how sick the patient is (eSituation), and the injury (eInjury). */
import type { JSX } from 'preact';
import { ListField, SelectField, TimeField } from '../../../ui/components.tsx';
import { VocabularySuggestionList } from '../favourite-suggestions.tsx';
import { epcrSchema } from '../../../../shared/schemas/epcrs.ts';
import type { VocabularyFieldPath } from '../../../../shared/epcr/coded-fields.ts';
import { pertinentNegativeList, vocabularyPick } from '../codes.ts';
import { noneBesideList } from './history.tsx';
import type { FormKit } from './kit.ts';

/** NEMSIS's impression list to search; the ICD-10-CM code is stored, its label shown. */
const { list: IMPRESSION_LIST, ...IMPRESSION } = vocabularyPick('situation.primaryImpression');
const { list: SYMPTOM_LIST, ...SYMPTOM } = vocabularyPick('situation.primarySymptom');
const { list: CAUSE_LIST } = vocabularyPick('injury.causes');
/** A list of codes from a NEMSIS list, one per line (limits from the schema); `list`: the page's datalist of the same vocabulary. */
const coded = (path: VocabularyFieldPath, list: { id: string; entries: readonly (readonly [string, string])[] }) => {
  const { pattern, patternHint, describe } = vocabularyPick(path);
  return { suggestions: list, itemPattern: pattern, itemPatternHint: patternHint, describe };
};
const SECONDARY = coded('situation.secondaryImpressions', IMPRESSION_LIST);
const OTHER_SYMPTOMS = coded('situation.otherSymptoms', SYMPTOM_LIST);
const CAUSES = coded('injury.causes', CAUSE_LIST);
const LIST_LIMITS = { maxItems: epcrSchema.properties.situation.properties.otherSymptoms.maxItems, maxItemLength: epcrSchema.properties.situation.properties.otherSymptoms.items.maxLength };

export function situationSection({ epcr, field, text, select, codes }: FormKit): JSX.Element {
  return (
    <div class="grid">
      <VocabularySuggestionList {...IMPRESSION_LIST} />
      <VocabularySuggestionList {...SYMPTOM_LIST} />
      <VocabularySuggestionList {...CAUSE_LIST} />
      {text(['situation', 'chiefComplaint'], 'Chief complaint', epcr.situation?.chiefComplaint)}
      <TimeField {...field(['situation', 'onset'], 'Onset')} value={epcr.situation?.onset} />
      <TimeField {...field(['situation', 'lastKnownWell'], 'Last known well')} value={epcr.situation?.lastKnownWell} />
      {text(['situation', 'primaryImpression'], 'Primary impression (ICD-10-CM code)', epcr.situation?.primaryImpression, { maxLength: 20, ...IMPRESSION })}
      {select(['situation', 'acuity'], 'Acuity', epcr.situation?.acuity)}
      <ListField {...field(['situation', 'secondaryImpressions'], 'Secondary impressions (ICD-10-CM codes)')} value={epcr.situation?.secondaryImpressions} {...LIST_LIMITS} {...SECONDARY} />
      {text(['situation', 'primarySymptom'], 'Primary symptom (ICD-10-CM code)', epcr.situation?.primarySymptom, { maxLength: 20, ...SYMPTOM })}
      <ListField {...field(['situation', 'otherSymptoms'], 'Other symptoms (ICD-10-CM codes)')} value={epcr.situation?.otherSymptoms} {...LIST_LIMITS} {...OTHER_SYMPTOMS} />
      {select(['situation', 'complaintLocation'], 'Complaint: where on the body', epcr.situation?.complaintLocation)}
      {select(['situation', 'complaintOrganSystem'], 'Complaint: organ system', epcr.situation?.complaintOrganSystem)}
      {select(['situation', 'transferReason'], 'Reason for an interfacility transfer', epcr.situation?.transferReason)}
      {select(['situation', 'possibleInjury'], 'Possible injury', epcr.situation?.possibleInjury)}
      <ListField {...field(['injury', 'causes'], 'Cause of injury (ICD-10-CM codes)')} value={epcr.injury?.causes} {...LIST_LIMITS} {...CAUSES} />
      {codes(['injury', 'highRiskCriteria'], 'Trauma triage: high risk for serious injury', epcr.injury?.highRiskCriteria)}
      <SelectField {...field(['injury', 'highRiskPertinentNegative'], 'High-risk criteria: none found')} value={epcr.injury?.highRiskPertinentNegative} options={pertinentNegativeList(['injury', 'highRiskPertinentNegative'])}
        {...noneBesideList(epcr.injury?.highRiskPertinentNegative, epcr.injury?.highRiskCriteria, 'criteria')} />
      {codes(['injury', 'moderateRiskCriteria'], 'Trauma triage: moderate risk for serious injury', epcr.injury?.moderateRiskCriteria)}
      <SelectField {...field(['injury', 'moderateRiskPertinentNegative'], 'Moderate-risk criteria: none found')} value={epcr.injury?.moderateRiskPertinentNegative} options={pertinentNegativeList(['injury', 'moderateRiskPertinentNegative'])}
        {...noneBesideList(epcr.injury?.moderateRiskPertinentNegative, epcr.injury?.moderateRiskCriteria, 'criteria')} />
    </div>
  );
}
