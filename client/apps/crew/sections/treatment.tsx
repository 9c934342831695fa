/** Medications given and procedures done (eMedications, eProcedures), each with its time. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { invalidDrafts } from '../../../ui/autosave.ts';
import { pathName } from '../../../ui/record-field.ts';
import type { Path } from '../../../worker/api.ts';
import { ActionError } from '../../../ui/action.tsx';
import { NumberField, SelectField, TextField, TimeField } from '../../../ui/components.tsx';
import { VocabularySuggestionList } from '../favourite-suggestions.tsx';
import { write } from '../../../ui/db.ts';
import { itemId } from '../../../ui/ids.ts';
import { offsetDateTime } from '../../../ui/time.ts';
import { pertinentNegativeList, pickList, PROCEDURE_ATTEMPTS, vocabularyPick } from '../codes.ts';
import { addRefusal, type FormKit, type Medication, type Procedure } from './kit.ts';

/**
 * How many of the latest medications show their fields; earlier ones show a line and open on
 * "Edit" (or by themselves when one of their fields has a problem or an unsaved draft). Each
 * shows two NEMSIS lists of 27 and 38 codes: 500 open cards were 35,000 options to draw.
 */
const OPEN_MEDICATIONS = 10;

function needsAttention(kit: FormKit, list: string, itemId: string): boolean {
  const prefix = `${list}[${itemId}].`;
  const at = (names: Iterable<string>) => [...names].some((name) => name.startsWith(prefix));
  return at(kit.serverErrors.keys()) || at(kit.localHints.keys()) || invalidDrafts('epcrs', kit.id).some((draft) => pathName(draft.path).startsWith(prefix));
}

function MedicationCard({ kit, m, n, open }: { kit: FormKit; m: Medication; n: number; open: boolean }) {
  const { id, disabled, field, action } = kit;
  const [opened, setOpened] = useState(false);
  const p = (key: string): Path => ['medications', { id: m.id }, key];
  const shown = open || opened;
  return (
    <div class="card" style="margin-bottom:8px" data-item={m.id} data-testid="medication">
      <div class="row" style="justify-content:space-between"><h3>Medication {n + 1}</h3>
        {!shown && <span class="meta" style="flex:1;margin-left:8px">{[MEDICATION.describe(m.medication) ?? m.medication, m.medicationText].filter(Boolean).join(' · ') || '—'}</span>}
        {!shown && <button onClick={() => setOpened(true)}>{disabled ? 'Show' : 'Edit'} medication {n + 1}</button>}
        {!disabled && <button onClick={() => void action.run(() => write.mutate('epcrs', id, [{ op: 'removeItem', path: ['medications'], itemId: m.id }]), {}, `remove-${m.id}`)}>Remove</button>}</div>
      <ActionError action={action} at={`remove-${m.id}`} />
      {shown && (
        <div class="grid">
          <TextField {...field(p('medication'), 'Medication (RxNorm code)')} value={m.medication} maxLength={20} required {...MEDICATION} />
          <TextField {...field(p('medicationText'), 'Medication in your words (if no code fits)')} value={m.medicationText} maxLength={200} />
          <NumberField {...field(p('dose'), 'Dose')} value={m.dose} min={0} />
          <SelectField {...field(p('doseUnit'), 'Dose unit')} value={m.doseUnit} options={pickList('medications[].doseUnit')} />
          <SelectField {...field(p('route'), 'Route')} value={m.route} options={pickList('medications[].route')} />
          <SelectField {...field(p('response'), 'Response')} value={m.response} options={pickList('medications[].response')} />
          <SelectField {...field(p('complication'), 'Complication')} value={m.complication} options={pickList('medications[].complication')} />
          <SelectField {...field(p('performerRole'), 'Given by')} value={m.performerRole} options={pickList('medications[].performerRole')} />
          <SelectField {...field(p('priorToUnit'), 'Given before this unit arrived')} value={m.priorToUnit} options={pickList('medications[].priorToUnit')} />
          <SelectField {...field(p('pertinentNegative'), 'Not given because (pertinent negative)')} value={m.pertinentNegative} options={pertinentNegativeList(p('pertinentNegative'))} />
          <TimeField {...field(p('givenAt'), 'Given at')} value={m.givenAt} />
        </div>
      )}
    </div>
  );
}

/** NEMSIS's medication and procedure lists to search; the code is stored, its label shown. */
const { list: MEDICATION_LIST, ...MEDICATION } = vocabularyPick('medications[].medication');
const { list: PROCEDURE_LIST, ...PROCEDURE } = vocabularyPick('procedures[].procedure');

export function treatmentSection(kit: FormKit): JSX.Element {
  const { epcr, id, disabled, field, focusItem, action } = kit;
  const addMedication = async () => {
    const mid = itemId('m');
    await write.mutate('epcrs', id, [{ op: 'append', path: ['medications'], value: { id: mid, givenAt: offsetDateTime(), medication: '' } }]);
    focusItem(mid);
  };
  const addProcedure = async () => {
    const pid = itemId('p');
    await write.mutate('epcrs', id, [{ op: 'append', path: ['procedures'], value: { id: pid, performedAt: offsetDateTime(), procedure: '' } }]);
    focusItem(pid);
  };
  return (
    <>
      <VocabularySuggestionList {...MEDICATION_LIST} />
      <VocabularySuggestionList {...PROCEDURE_LIST} />
      <div class="grid">{kit.codes(['protocols', 'used'], 'Protocols used', epcr.protocols?.used)}</div>
      {(epcr.medications ?? []).length === 0 && (epcr.procedures ?? []).length === 0 && <p class="empty">No medications or procedures yet.</p>}
      {(epcr.medications ?? []).map((m: Medication, n: number, all: Medication[]) => (
        <MedicationCard key={m.id} kit={kit} m={m} n={n} open={n >= all.length - OPEN_MEDICATIONS || needsAttention(kit, 'medications', m.id)} />
      ))}
      {(epcr.procedures ?? []).map((pr: Procedure, n: number) => {
        const p = (key: string): Path => ['procedures', { id: pr.id }, key];
        return (
          <div class="card" style="margin-bottom:8px" key={pr.id} data-item={pr.id} data-testid="procedure">
            <div class="row" style="justify-content:space-between"><h3>Procedure {n + 1}</h3>
              {!disabled && <button onClick={() => void action.run(() => write.mutate('epcrs', id, [{ op: 'removeItem', path: ['procedures'], itemId: pr.id }]), {}, `remove-${pr.id}`)}>Remove</button>}</div>
            <ActionError action={action} at={`remove-${pr.id}`} />
            <div class="grid">
              <TextField {...field(p('procedure'), 'Procedure (SNOMED CT code)')} value={pr.procedure} maxLength={20} required {...PROCEDURE} />
              <TextField {...field(p('procedureText'), 'Procedure in your words (if no code fits)')} value={pr.procedureText} maxLength={200} />
              <NumberField {...field(p('attempts'), 'Attempts')} value={pr.attempts} integer min={PROCEDURE_ATTEMPTS.min} max={PROCEDURE_ATTEMPTS.max} />
              <SelectField {...field(p('successful'), 'Successful')} value={pr.successful} options={pickList('procedures[].successful')} />
              <SelectField {...field(p('response'), 'Response')} value={pr.response} options={pickList('procedures[].response')} />
              {kit.codes(p('complications'), 'Complications', pr.complications)}
              <SelectField {...field(p('performerRole'), 'Done by')} value={pr.performerRole} options={pickList('procedures[].performerRole')} />
              <SelectField {...field(p('priorToUnit'), 'Done before this unit arrived')} value={pr.priorToUnit} options={pickList('procedures[].priorToUnit')} />
              <SelectField {...field(p('pertinentNegative'), 'Not done because (pertinent negative)')} value={pr.pertinentNegative} options={pertinentNegativeList(p('pertinentNegative'))} />
              <TimeField {...field(p('performedAt'), 'Performed at')} value={pr.performedAt} />
            </div>
          </div>
        );
      })}
      {!disabled && (
        <div class="row">
          <button onClick={() => void action.run(addMedication, addRefusal(epcr, 'medications', 'medications'), 'add-medication')}>Add medication (time: now)</button>
          <button onClick={() => void action.run(addProcedure, addRefusal(epcr, 'procedures', 'procedures'), 'add-procedure')}>Add procedure (time: now)</button>
        </div>
      )}
      <ActionError action={action} at="add-medication" />
      <ActionError action={action} at="add-procedure" />
    </>
  );
}
