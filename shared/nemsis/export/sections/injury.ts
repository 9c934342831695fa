/**
 * eInjury: cause of injury (ICD-10-CM external cause codes) and the field trauma triage criteria.
 * When the crew answered "No" to Possible Injury (eSituation.02) they are Not Applicable, as
 * NEMSIS's own samples write it; otherwise what is blank is Not Recorded.
 */
import { codeOf } from '../../codes.ts';
import type { Epcr } from '../../../schemas/index.ts';
import { group, leaves, orNotApplicable, withPertinentNegative } from '../nemsis-tree.ts';
import { text, texts } from '../values.ts';
import type { XmlElement } from '../xml-writer.ts';

export const NO_POSSIBLE_INJURY = codeOf('eSituation.02', 'No');

export function eInjury(epcr: Epcr): XmlElement {
  const injury = epcr.injury ?? {};
  const applies = text(epcr.situation?.possibleInjury) !== NO_POSSIBLE_INJURY;
  const many = (name: string, values: readonly string[] | undefined, pn?: string) => {
    const given = leaves(name, texts(values));
    // The crew's pertinent negative ("None Reported") says more than Not Applicable.
    if (given.length === 0 && text(pn)) return withPertinentNegative(name, undefined, text(pn));
    return orNotApplicable(name, given, applies);
  };
  return group('eInjury', [
    many('eInjury.01', injury.causes),
    many('eInjury.03', injury.highRiskCriteria, injury.highRiskPertinentNegative),
    many('eInjury.04', injury.moderateRiskCriteria, injury.moderateRiskPertinentNegative),
  ]);
}
