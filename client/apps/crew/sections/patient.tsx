/** Patient: name, date of birth (the age follows from it), sex and address (ePatient). */
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Epcr } from '../../../../shared/schemas/index.ts';
import { NumberField } from '../../../ui/components.tsx';
import { journalEntry } from '../../../ui/autosave.ts';
import { write } from '../../../ui/db.ts';
import { ageFromBirth, callDay, dateOfBirthProblem } from './age.ts';
import type { FormKit } from './kit.ts';

/**
 * Shows the age the date of birth gives and stores it into Age / Age in, unless the crew typed
 * an age of its own: it fills an empty age, and follows a changed date of birth only when the
 * age was the one the previous date gave (a value a person entered is never overwritten).
 */
const AGE_PATHS = [['patient', 'age'], ['patient', 'ageUnits']];

function AgeFromBirth({ epcr, id, disabled }: { epcr: Epcr; id: string; disabled: boolean }) {
  const dob = epcr.patient?.dateOfBirth;
  const on = callDay(epcr);
  const derived = ageFromBirth(dob, on);
  const previous = useRef(dob);
  useEffect(() => {
    const before = previous.current;
    previous.current = dob;
    if (disabled || !derived) return;
    // An age typed here and still on its way to the database (its journal entry) is the crew's.
    const typing = () => AGE_PATHS.some((path) => journalEntry('epcrs', id, path) !== undefined);
    if (typing()) return;
    void (async () => {
      // Decide on the report as stored now, not on this render: an age typed a moment after the
      // date of birth may be stored already while this render still shows none.
      const stored = await write.upsert('epcrs', { id }, []).catch(() => undefined) as Epcr | undefined;
      const { age, ageUnits } = stored?.patient ?? {};
      if (!stored || typing() || (age === derived.age && ageUnits === derived.units)) return;
      const fromBefore = before !== dob ? ageFromBirth(before, on) : undefined;
      const typedByCrew = age !== undefined && !(fromBefore && age === fromBefore.age && ageUnits === fromBefore.units);
      if (typedByCrew) return;
      await write.mutate('epcrs', id, [
        { op: 'set', path: ['patient', 'age'], value: derived.age },
        { op: 'set', path: ['patient', 'ageUnits'], value: derived.units },
      ]);
    })().catch((error: unknown) => console.warn('fieldsync: the age from the date of birth was not stored', error));
  }, [dob, disabled]);
  if (!derived) return null;
  const differs = epcr.patient?.age !== undefined && (epcr.patient.age !== derived.age || epcr.patient.ageUnits !== derived.units);
  return (
    <p class={differs ? 'hint bad' : 'hint'} data-testid="age-from-birth" style="grid-column:1/-1;margin:0">
      {differs ? `The date of birth gives ${derived.words} on the day of the call; the age below says otherwise. Check both.`
        : `Age from the date of birth: ${derived.words} on the day of the call.`}
    </p>
  );
}

/** A US state as its postal code (the export writes the ANSI code NEMSIS asks for) and a county as its FIPS code. */
export const STATE_FIELD = { pattern: /^[A-Z]{2}$/, patternHint: 'The two-letter postal code, e.g. PA.', maxLength: 2 } as const;
export const COUNTY_FIELD = { pattern: /^[0-9]{5}$/, patternHint: 'The 5-digit county (FIPS) code, e.g. 42101.', maxLength: 5, inputMode: 'numeric' } as const;

export function patientSection(kit: FormKit): JSX.Element {
  const { epcr, id, disabled, field, text, select, codes } = kit;
  return (
    <div class="grid">
      {text(['patient', 'lastName'], 'Last name', epcr.patient?.lastName)}
      {text(['patient', 'firstName'], 'First name', epcr.patient?.firstName)}
      {text(['patient', 'dateOfBirth'], 'Date of birth (YYYY-MM-DD)', epcr.patient?.dateOfBirth, {
        pattern: /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, patternHint: 'Write the date as YYYY-MM-DD, e.g. 1958-03-14.', maxLength: 10,
        validate: (value: string) => dateOfBirthProblem(value, callDay(epcr)),
      })}
      <NumberField {...field(['patient', 'age'], 'Age')} value={epcr.patient?.age} integer min={0} max={150} />
      {select(['patient', 'ageUnits'], 'Age in', epcr.patient?.ageUnits)}
      <AgeFromBirth epcr={epcr} id={id} disabled={disabled} />
      {select(['patient', 'sex'], 'Sex', epcr.patient?.sex)}
      {select(['patient', 'gender'], 'Gender (NEMSIS 3.5.1 deprecated; sex above is what counts)', epcr.patient?.gender)}
      {text(['patient', 'phone'], 'Phone', epcr.patient?.phone, { maxLength: 20, inputMode: 'tel' })}
      {text(['patient', 'address', 'street'], 'Street', epcr.patient?.address?.street)}
      {text(['patient', 'address', 'city'], 'City', epcr.patient?.address?.city)}
      {text(['patient', 'address', 'zip'], 'ZIP', epcr.patient?.address?.zip, { pattern: /^[0-9]{5}(-[0-9]{4})?$/, patternHint: '5 digits (or ZIP+4).', maxLength: 10, inputMode: 'numeric' })}
      {text(['patient', 'address', 'state'], 'State', epcr.patient?.address?.state, { ...STATE_FIELD })}
      {text(['patient', 'address', 'county'], 'County code', epcr.patient?.address?.county, { ...COUNTY_FIELD })}
      {codes(['patient', 'race'], 'Race', epcr.patient?.race)}
    </div>
  );
}
