/**
 * Vitals: every set in a table over time, latest first, and one set open for editing below it.
 * The GCS total is counted from its three parts; "Copy previous set" starts a new set (time: now)
 * with the last set's values, for the crew to change what changed.
 */
import type { JSX } from 'preact';
import type { Path } from '../../../worker/api.ts';
import { ActionError } from '../../../ui/action.tsx';
import { NumberField, SelectField, TimeField } from '../../../ui/components.tsx';
import { write } from '../../../ui/db.ts';
import { itemId } from '../../../ui/ids.ts';
import { clockOf, offsetDateTime } from '../../../ui/time.ts';
import { pickList } from '../codes.ts';
import { addRefusal, type FormKit, type Vital } from './kit.ts';
import { gcsTotal, latestFirst } from './vital-signs.ts';

const MEASURED: readonly (keyof Vital)[] = [
  'systolic', 'diastolic', 'heartRate', 'respiratoryRate', 'spo2', 'etco2', 'glucose', 'temperatureC', 'gcsEye', 'gcsVerbal', 'gcsMotor', 'pain', 'avpu',
];

const AVPU_WORD = new Map(pickList('vitals[].avpu'));
const cell = (value: number | string | undefined) => (value === undefined || value === '' ? '—' : String(value));

export interface VitalsState {
  /** The set open for editing (the latest one unless the crew picked another). */
  open: string | undefined;
  setOpen(id: string): void;
}

export function vitalsSection(kit: FormKit, state: VitalsState): JSX.Element {
  const { epcr, id, disabled, field, select, codes, serverErrors, localHints, focusItem, action } = kit;
  const vitals = epcr.vitals ?? [];
  const rows = latestFirst(vitals);
  const openId = vitals.some((v) => v.id === state.open) ? state.open : rows[0]?.vital.id;

  const add = async (from?: Vital) => {
    const vid = itemId('v');
    const copied = from ? Object.fromEntries(MEASURED.filter((key) => from[key] !== undefined).map((key) => [key, from[key]])) : {};
    await write.mutate('epcrs', id, [{ op: 'append', path: ['vitals'], value: { ...copied, id: vid, takenAt: offsetDateTime() } }]);
    state.setOpen(vid);
    focusItem(vid);
  };

  return (
    <>
      {serverErrors.get('vitals') && <p class="hint bad" data-testid="field-server-error">{serverErrors.get('vitals')}</p>}
      {!serverErrors.get('vitals') && localHints.get('vitals') && <p class="hint">{localHints.get('vitals')}</p>}
      {vitals.length === 0 ? <p class="empty">No vital signs yet.</p> : (
        <div style="overflow-x:auto;margin-bottom:12px">
          <table class="vitals-over-time" data-testid="vitals-table">
            <caption class="meta" style="text-align:left">Vital signs over time, latest first. Tap a row to edit that set.</caption>
            <thead>
              <tr>
                <th scope="col">Time</th><th scope="col">BP</th><th scope="col">HR</th><th scope="col">RR</th><th scope="col">SpO₂</th>
                <th scope="col">EtCO₂</th><th scope="col">Glucose</th><th scope="col">Temp</th><th scope="col">GCS</th><th scope="col">Pain</th>
                <th scope="col">AVPU</th><th scope="col"><span class="visually-hidden">Set</span></th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ vital: v, number }) => (
                <tr key={v.id} data-testid="vitals-row" data-id={v.id} class={v.id === openId ? 'selected' : undefined}>
                  <td>{clockOf(v.takenAt) || '—'}</td>
                  <td>{v.systolic !== undefined || v.diastolic !== undefined ? `${cell(v.systolic)}/${cell(v.diastolic)}` : '—'}</td>
                  <td>{cell(v.heartRate)}</td><td>{cell(v.respiratoryRate)}</td>
                  <td>{v.spo2 !== undefined ? `${v.spo2}%` : '—'}</td><td>{cell(v.etco2)}</td><td>{cell(v.glucose)}</td>
                  <td>{v.temperatureC !== undefined ? `${v.temperatureC} °C` : '—'}</td>
                  <td data-testid="vitals-row-gcs">{cell(gcsTotal(v))}</td><td>{cell(v.pain)}</td>
                  <td>{v.avpu ? AVPU_WORD.get(v.avpu) ?? v.avpu : '—'}</td>
                  <td><button onClick={() => state.setOpen(v.id)} aria-pressed={v.id === openId}>{disabled ? 'Show' : 'Edit'} set {number}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {vitals.map((v: Vital, n: number) => {
        const p = (key: string): Path => ['vitals', { id: v.id }, key];
        const total = gcsTotal(v);
        return (
          // Every set stays on the page (hidden unless open) so a value it refused keeps its message.
          <div class="card" style="margin-bottom:8px" key={v.id} data-item={v.id} data-testid="vital-set" hidden={v.id !== openId}>
            <div class="row" style="justify-content:space-between"><h3>Set {n + 1}{v.takenAt ? ` — ${clockOf(v.takenAt)}` : ''}</h3>
              {!disabled && <button onClick={() => void action.run(() => write.mutate('epcrs', id, [{ op: 'removeItem', path: ['vitals'], itemId: v.id }]), {}, `remove-${v.id}`)} aria-label={`Remove vital set ${n + 1}`}>Remove</button>}
            </div>
            <ActionError action={action} at={`remove-${v.id}`} />
            <div class="grid">
              <NumberField {...field(p('systolic'), 'Systolic BP')} value={v.systolic} integer min={0} max={400} unit="mmHg" />
              <NumberField {...field(p('diastolic'), 'Diastolic BP')} value={v.diastolic} integer min={0} max={300} unit="mmHg" />
              <NumberField {...field(p('heartRate'), 'Heart rate')} value={v.heartRate} integer min={0} max={400} unit="/min" />
              <NumberField {...field(p('respiratoryRate'), 'Respiratory rate')} value={v.respiratoryRate} integer min={0} max={100} unit="/min" />
              <NumberField {...field(p('spo2'), 'SpO₂')} value={v.spo2} integer min={0} max={100} unit="%" />
              <NumberField {...field(p('etco2'), 'EtCO₂')} value={v.etco2} integer min={0} max={200} unit="mmHg" />
              <NumberField {...field(p('glucose'), 'Glucose')} value={v.glucose} integer min={0} max={2000} unit="mg/dL" />
              <NumberField {...field(p('temperatureC'), 'Temperature')} value={v.temperatureC} min={10} max={50} unit="°C" />
              <NumberField {...field(p('gcsEye'), 'GCS eye')} value={v.gcsEye} integer min={1} max={4} />
              <NumberField {...field(p('gcsVerbal'), 'GCS verbal')} value={v.gcsVerbal} integer min={1} max={5} />
              <NumberField {...field(p('gcsMotor'), 'GCS motor')} value={v.gcsMotor} integer min={1} max={6} />
              <div class="field" data-testid="gcs-total" data-total={total ?? ''}>
                <span class="label">GCS total</span>
                <div class="computed">{total !== undefined ? <strong>{total}</strong> : <span class="meta">Counted when eye, verbal and motor are in.</span>}</div>
              </div>
              <NumberField {...field(p('pain'), 'Pain (0–10)')} value={v.pain} integer min={0} max={10} />
              <SelectField {...field(p('avpu'), 'AVPU')} value={v.avpu} options={pickList('vitals[].avpu')} />
              {codes(p('gcsQualifiers'), 'GCS qualifier', v.gcsQualifiers)}
              {codes(p('cardiacRhythm'), 'Cardiac rhythm (ECG)', v.cardiacRhythm)}
              {select(p('ecgType'), 'ECG type', v.ecgType)}
              {codes(p('ecgInterpretation'), 'ECG interpreted by', v.ecgInterpretation)}
              {select(p('strokeScaleType'), 'Stroke scale', v.strokeScaleType)}
              {select(p('strokeScaleResult'), 'Stroke scale result', v.strokeScaleResult)}
              {select(p('reperfusionChecklist'), 'Reperfusion checklist', v.reperfusionChecklist)}
              {select(p('priorToUnit'), 'Taken before this unit arrived', v.priorToUnit)}
              <TimeField {...field(p('takenAt'), 'Taken at')} value={v.takenAt} />
            </div>
          </div>
        );
      })}
      {!disabled && (
        <div class="row">
          <button class="primary big" data-testid="add-vitals" onClick={() => void action.run(() => add(), addRefusal(epcr, 'vitals', 'vital sets'), 'add-vitals')}>Add vital signs (time: now)</button>
          {rows[0] && <button class="big" data-testid="copy-vitals" onClick={() => void action.run(() => add(rows[0]!.vital), addRefusal(epcr, 'vitals', 'vital sets'), 'copy-vitals')}>Copy previous set (time: now)</button>}
        </div>
      )}
      <ActionError action={action} at="add-vitals" />
      <ActionError action={action} at="copy-vitals" />
    </>
  );
}
