/**
 * Cardiac arrest (eArrest): whether there was one and, if so, the Utstein details NEMSIS asks
 * for. With "No", the details are Not Applicable in the export (shared/nemsis/export/sections/arrest.ts)
 * and are not asked; a detail typed before the answer changed stays on screen, so nothing stored
 * is out of sight.
 */
import type { JSX } from 'preact';
import { codeOf } from '../../../../shared/nemsis/codes.ts';
import { TimeField } from '../../../ui/components.tsx';
import type { FormKit } from './kit.ts';

const NO_ARREST = codeOf('eArrest.01', 'No');

export function arrestSection({ epcr, field, select, codes }: FormKit): JSX.Element {
  const arrest = epcr.arrest ?? {};
  const { cardiacArrest, ...details } = arrest;
  const noArrest = cardiacArrest === NO_ARREST;
  const showDetails = !noArrest || Object.values(details).some((value) => value !== undefined && !(Array.isArray(value) && value.length === 0));
  return (
    <div class="grid">
      {select(['arrest', 'cardiacArrest'], 'Cardiac arrest', cardiacArrest)}
      {noArrest && <p class="hint" data-testid="arrest-not-applicable" style="grid-column:1/-1;margin:0">No arrest: the arrest details are sent as Not Applicable.</p>}
      {showDetails && (
        <>
          {select(['arrest', 'etiology'], 'Etiology', arrest.etiology)}
          {codes(['arrest', 'resuscitationAttempted'], 'Resuscitation attempted by EMS', arrest.resuscitationAttempted)}
          {codes(['arrest', 'witnessedBy'], 'Arrest witnessed by', arrest.witnessedBy)}
          {select(['arrest', 'aedPriorToEms'], 'AED used before EMS arrived', arrest.aedPriorToEms)}
          {codes(['arrest', 'cprTypes'], 'Type of CPR', arrest.cprTypes)}
          {select(['arrest', 'firstRhythm'], 'First monitored rhythm', arrest.firstRhythm)}
          {codes(['arrest', 'rosc'], 'Return of spontaneous circulation (ROSC)', arrest.rosc)}
          <TimeField {...field(['arrest', 'arrestAt'], 'Time of the arrest')} value={arrest.arrestAt} />
          {select(['arrest', 'cprFirstBy'], 'Who first started CPR', arrest.cprFirstBy)}
          {select(['arrest', 'aedFirstBy'], 'Who first applied the AED', arrest.aedFirstBy)}
          {select(['arrest', 'defibrillatedFirstBy'], 'Who first defibrillated', arrest.defibrillatedFirstBy)}
          {select(['arrest', 'discontinuedReason'], 'Why resuscitation was stopped', arrest.discontinuedReason)}
          {codes(['arrest', 'rhythmAtDestination'], 'Rhythm on arrival at the destination', arrest.rhythmAtDestination)}
          {select(['arrest', 'endOfEvent'], 'End of the arrest event', arrest.endOfEvent)}
        </>
      )}
    </div>
  );
}
