/**
 * eArrest: the cardiac arrest. When the crew answered "No" to Cardiac Arrest (eArrest.01), every
 * other national arrest element is Not Applicable rather than Not Recorded, as NEMSIS's own
 * samples write it (2025-EMS-1-Overdose); with "Yes" (or no answer) what the crew left blank is
 * Not Recorded, and the national Schematron warns about it.
 */
import { codeOf } from '../../codes.ts';
import type { Epcr } from '../../../schemas/index.ts';
import { group, leaf, leaves, orNotApplicable } from '../nemsis-tree.ts';
import { dateTime, text, texts } from '../values.ts';
import type { XmlElement } from '../xml-writer.ts';

export const NO_CARDIAC_ARREST = codeOf('eArrest.01', 'No');

export function eArrest(epcr: Epcr): XmlElement {
  const arrest = epcr.arrest ?? {};
  const applies = text(arrest.cardiacArrest) !== NO_CARDIAC_ARREST;
  const one = (name: string, value: string | undefined) => orNotApplicable(name, leaf(name, value), applies);
  const many = (name: string, values: readonly string[] | undefined) => orNotApplicable(name, leaves(name, texts(values)), applies);
  return group('eArrest', [
    leaf('eArrest.01', text(arrest.cardiacArrest)),
    one('eArrest.02', text(arrest.etiology)),
    many('eArrest.03', arrest.resuscitationAttempted),
    many('eArrest.04', arrest.witnessedBy),
    one('eArrest.07', text(arrest.aedPriorToEms)),
    many('eArrest.09', arrest.cprTypes),
    one('eArrest.11', text(arrest.firstRhythm)),
    many('eArrest.12', arrest.rosc),
    one('eArrest.14', dateTime(arrest.arrestAt)),
    one('eArrest.16', text(arrest.discontinuedReason)),
    many('eArrest.17', arrest.rhythmAtDestination),
    one('eArrest.18', text(arrest.endOfEvent)),
    one('eArrest.20', text(arrest.cprFirstBy)),
    one('eArrest.21', text(arrest.aedFirstBy)),
    one('eArrest.22', text(arrest.defibrillatedFirstBy)),
  ]);
}
