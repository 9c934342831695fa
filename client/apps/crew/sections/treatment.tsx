/** Medications given and procedures done (eMedications, eProcedures), each with its time. */
import type { JSX } from 'preact';
import type { Path } from '../../../worker/api.ts';
import { ActionError } from '../../../ui/action.tsx';
import { NumberField, SelectField, SuggestionList, TextField, TimeField } from '../../../ui/components.tsx';
import { write } from '../../../ui/db.ts';
import { itemId } from '../../../ui/ids.ts';
import { offsetDateTime } from '../../../ui/time.ts';
import { pickList, PROCEDURE_ATTEMPTS, vocabularyPick } from '../codes.ts';
import { addRefusal, type FormKit, type Medication, type Procedure } from './kit.ts';

/** NEMSIS's medication and procedure lists to search; the code is stored, its label shown. */
const { list: MEDICATION_LIST, ...MEDICATION } = vocabularyPick('medications[].medication');
const { list: PROCEDURE_LIST, ...PROCEDURE } = vocabularyPick('procedures[].procedure');

export function treatmentSection({ epcr, id, disabled, field, focusItem, action }: FormKit): JSX.Element {
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
      <SuggestionList {...MEDICATION_LIST} />
      <SuggestionList {...PROCEDURE_LIST} />
      {(epcr.medications ?? []).length === 0 && (epcr.procedures ?? []).length === 0 && <p class="empty">No medications or procedures yet.</p>}
      {(epcr.medications ?? []).map((m: Medication, n: number) => {
        const p = (key: string): Path => ['medications', { id: m.id }, key];
        return (
          <div class="card" style="margin-bottom:8px" key={m.id} data-item={m.id} data-testid="medication">
            <div class="row" style="justify-content:space-between"><h3>Medication {n + 1}</h3>
              {!disabled && <button onClick={() => void action.run(() => write.mutate('epcrs', id, [{ op: 'removeItem', path: ['medications'], itemId: m.id }]), {}, `remove-${m.id}`)}>Remove</button>}</div>
            <ActionError action={action} at={`remove-${m.id}`} />
            <div class="grid">
              <TextField {...field(p('medication'), 'Medication (RxNorm code)')} value={m.medication} maxLength={20} required {...MEDICATION} />
              <TextField {...field(p('medicationText'), 'Medication in your words (if no code fits)')} value={m.medicationText} maxLength={200} />
              <NumberField {...field(p('dose'), 'Dose')} value={m.dose} min={0} />
              <SelectField {...field(p('doseUnit'), 'Dose unit')} value={m.doseUnit} options={pickList('medications[].doseUnit')} />
              <SelectField {...field(p('route'), 'Route')} value={m.route} options={pickList('medications[].route')} />
              <SelectField {...field(p('response'), 'Response')} value={m.response} options={pickList('medications[].response')} />
              <TimeField {...field(p('givenAt'), 'Given at')} value={m.givenAt} />
            </div>
          </div>
        );
      })}
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
