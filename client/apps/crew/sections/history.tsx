/** History: allergies, medical history, home medications (codes, one per line, with the crew's own words beside them) and last oral intake. */
import type { JSX } from 'preact';
import { SelectField, TimeField } from '../../../ui/components.tsx';
import { VocabularySuggestionList } from '../favourite-suggestions.tsx';
import { LinesField } from './lines-field.tsx';
import { pertinentNegativeList, vocabularyPick } from '../codes.ts';
import type { FormKit } from './kit.ts';

/** A coded history list: NEMSIS's lists to search, each line checked to be a code, labels shown. */
const CODED_HISTORY = ['history.allergies', 'history.medicalHistory', 'history.currentMedications'] as const;
const PICKS = Object.fromEntries(CODED_HISTORY.map((path) => [path, vocabularyPick(path)])) as Record<(typeof CODED_HISTORY)[number], ReturnType<typeof vocabularyPick>>;
const codes = (path: (typeof CODED_HISTORY)[number]) => {
  const pick = PICKS[path];
  return { suggestions: pick.list, itemPattern: pick.pattern, itemPatternHint: pick.patternHint, describe: pick.describe };
};

/**
 * A reason for "none" (No Known Drug Allergy, None Reported) beside a list that has entries: the
 * list is what the NEMSIS export sends (server/nemsis), and the reason stays in the report; said
 * at the reason so the crew can clear one of them.
 */
export function noneBesideList(reason: string | undefined, list: readonly string[] | undefined, what: string): { hint?: string } {
  return reason && (list ?? []).length > 0 ? { hint: `Some ${what} are listed: the list is sent, not this reason. Clear one of them.` } : {};
}

export function historySection({ epcr, field, codes: codeList }: FormKit): JSX.Element {
  return (
    <div class="grid">
      {CODED_HISTORY.map((path) => <VocabularySuggestionList key={path} {...PICKS[path].list} />)}
      <LinesField {...field(['history', 'allergies'], 'Allergies (codes)')} value={epcr.history?.allergies} {...codes('history.allergies')} />
      <SelectField {...field(['history', 'allergiesPertinentNegative'], 'No allergies listed because')} value={epcr.history?.allergiesPertinentNegative} options={pertinentNegativeList(['history', 'allergiesPertinentNegative'])}
        {...noneBesideList(epcr.history?.allergiesPertinentNegative, epcr.history?.allergies, 'allergies')} />
      <LinesField {...field(['history', 'allergiesText'], 'Allergies in your words (if no code fits)')} value={epcr.history?.allergiesText} />
      <LinesField {...field(['history', 'medicalHistory'], 'Medical history (ICD-10-CM codes)')} value={epcr.history?.medicalHistory} {...codes('history.medicalHistory')} />
      <LinesField {...field(['history', 'medicalHistoryText'], 'Medical history in your words (if no code fits)')} value={epcr.history?.medicalHistoryText} />
      <LinesField {...field(['history', 'currentMedications'], 'Current medications (RxNorm codes)')} value={epcr.history?.currentMedications} {...codes('history.currentMedications')} />
      <LinesField {...field(['history', 'currentMedicationsText'], 'Current medications in your words (if no code fits)')} value={epcr.history?.currentMedicationsText} />
      <TimeField {...field(['history', 'lastOralIntake'], 'Last oral intake')} value={epcr.history?.lastOralIntake} />
      {codeList(['history', 'alcoholDrugUse'], 'Alcohol or drug use indicators', epcr.history?.alcoholDrugUse)}
      <SelectField {...field(['history', 'alcoholDrugUsePertinentNegative'], 'No alcohol or drug use indicators because')} value={epcr.history?.alcoholDrugUsePertinentNegative} options={pertinentNegativeList(['history', 'alcoholDrugUsePertinentNegative'])}
        {...noneBesideList(epcr.history?.alcoholDrugUsePertinentNegative, epcr.history?.alcoholDrugUse, 'indicators')} />
      {codeList(['history', 'barriersToCare'], 'Barriers to patient care', epcr.history?.barriersToCare)}
    </div>
  );
}
