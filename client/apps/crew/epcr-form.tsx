/**
 * The ePCR form, by NEMSIS section. There is no save button: every keystroke goes to the journal
 * and then to the local database (client/ui/autosave.ts). Finalizing asks the server to check
 * and lock the report; its problems come back as `finalizeErrors` and show next to their fields.
 */
import { useEffect, useState } from 'preact/hooks';
import { validateEpcrForFinalize } from '../../../server/hooks/epcr-validation.ts';
import type { Epcr, Incident } from '../../../shared/schemas/index.ts';
import type { Path } from '../../worker/api.ts';
import { flushAll } from '../../ui/autosave.ts';
import { Badge, go, markReady, NumberField, SelectField, TextField, TimeField } from '../../ui/components.tsx';
import { useDoc, write } from '../../ui/db.ts';
import { itemId, uuid } from '../../ui/ids.ts';
import type { Session } from '../../ui/session.ts';
import { clockOf, offsetDateTime } from '../../ui/time.ts';
import * as codes from './codes.ts';
import { ConflictsPanel } from './conflicts.tsx';

type Vital = NonNullable<Epcr['vitals']>[number];
type Medication = NonNullable<Epcr['medications']>[number];
type Procedure = NonNullable<Epcr['procedures']>[number];

const TIME_FIELDS: readonly (readonly [keyof NonNullable<Epcr['times']>, string])[] = [
  ['psapCall', 'Call received (PSAP)'], ['unitNotified', 'Unit notified'], ['unitEnRoute', 'En route'],
  ['unitOnScene', 'On scene'], ['atPatient', 'At patient'], ['unitLeftScene', 'Left scene'],
  ['atDestination', 'At destination'], ['transferOfCare', 'Transfer of care'], ['backInService', 'Back in service'],
  ['unitCanceled', 'Cancelled'],
];

const SECTIONS = [
  ['response', 'Call'], ['patient', 'Patient'], ['situation', 'Situation'], ['history', 'History'], ['vitals', 'Vitals'],
  ['treatment', 'Medications and procedures'], ['narrative', 'Narrative'], ['disposition', 'Disposition'], ['times', 'Times'], ['billing', 'Billing'],
] as const;

/** `vitals[v1].systolic` for `['vitals', {id:'v1'}, 'systolic']`, as the server names paths. */
function pathName(path: Path): string {
  return path.map((s, i) => (typeof s === 'string' ? (i === 0 ? s : `.${s}`) : `[${s.id}]`)).join('');
}

/** A list of short texts edited one per line (allergies, history, home medications). */
function LinesField(props: { label: string; docId: string; path: Path; value: string[] | undefined; disabled: boolean }) {
  return (
    <TextField label={props.label} collection="epcrs" docId={props.docId} path={props.path} multiline disabled={props.disabled}
      value={(props.value ?? []).join('\n')} hint="One per line." testId={pathName(props.path)} />
  );
}

export function EpcrForm({ id, session }: { id: string; session: Session }) {
  const view = useDoc<Epcr>('epcrs', id);
  const incidentView = useDoc<Incident>('incidents', view?.doc.incidentId);
  const [focusItem, setFocusItem] = useState<string>();
  useEffect(() => {
    if (!focusItem) return;
    const input = document.querySelector<HTMLInputElement>(`[data-item="${focusItem}"] input:not([type=datetime-local])`);
    if (input) {
      input.focus();
      setFocusItem(undefined);
    }
  });
  if (view === undefined) return <p>Loading…</p>;
  if (view === null) return <div class="card"><p>This report is not on this device.</p><button onClick={() => go('')}>Back to calls</button></div>;
  markReady();
  const epcr = view.doc;
  const incident = incidentView?.doc;
  const locked = epcr.lockedAt !== undefined;
  const checking = epcr.status === 'finalized' && !locked;
  const disabled = locked || checking;

  const serverErrors = new Map<string, string[]>();
  for (const e of epcr.finalizeErrors ?? []) serverErrors.set(e.path, [...(serverErrors.get(e.path) ?? []), e.message]);
  const missing = locked ? [] : validateEpcrForFinalize(epcr as never);
  const localHints = new Map<string, string>();
  for (const m of missing) if (!localHints.has(m.path)) localHints.set(m.path, m.message.replace(/ is required to finalize$/, ' is needed to finalize.'));

  const rendered = new Set<string>(['vitals']);
  const field = (path: Path, label: string) => {
    const name = pathName(path);
    rendered.add(name);
    const hint = localHints.get(name);
    return {
      label, collection: 'epcrs' as const, docId: id, path, disabled, testId: name,
      serverError: serverErrors.get(name)?.join(' '),
      ...(hint ? { hint } : {}),
    };
  };
  const text = (path: Path, label: string, value: string | undefined, extra: Record<string, unknown> = {}) =>
    <TextField {...field(path, label)} value={value} maxLength={200} {...extra} />;
  const select = (path: Path, label: string, value: string | undefined, options: readonly (readonly [string, string])[]) =>
    <SelectField {...field(path, label)} value={value} options={options} />;

  const addVitals = async () => {
    const vid = itemId('v');
    await write.mutate('epcrs', id, [{ op: 'append', path: ['vitals'], value: { id: vid, takenAt: offsetDateTime() } }]);
    setFocusItem(vid);
  };
  const addMedication = async () => {
    const mid = itemId('m');
    await write.mutate('epcrs', id, [{ op: 'append', path: ['medications'], value: { id: mid, givenAt: offsetDateTime(), medication: '' } }]);
    setFocusItem(mid);
  };
  const addProcedure = async () => {
    const pid = itemId('p');
    await write.mutate('epcrs', id, [{ op: 'append', path: ['procedures'], value: { id: pid, performedAt: offsetDateTime(), procedure: '' } }]);
    setFocusItem(pid);
  };
  const finalize = async () => {
    await flushAll();
    await write.mutate('epcrs', id, [{ op: 'set', path: ['status'], value: 'finalized' }]);
  };
  const reopen = () => write.mutate('epcrs', id, [{ op: 'set', path: ['status'], value: 'draft' }]);
  const addendum = async () => {
    const newId = uuid();
    await write.insert('epcrs', {
      id: newId, tenantId: epcr.tenantId, status: 'draft', unitId: epcr.unitId, addendumOf: epcr.id,
      ...(epcr.incidentId ? { incidentId: epcr.incidentId } : {}),
      ...(epcr.response ? { response: epcr.response } : {}),
    });
    go(`epcr/${newId}`);
  };
  const fillTimes = () => {
    const ops = TIME_FIELDS.flatMap(([key]) => {
      const cad = (incident?.timeline as Record<string, string> | undefined)?.[key];
      return cad && !epcr.times?.[key] ? [{ op: 'set' as const, path: ['times', key], value: cad }] : [];
    });
    if (ops.length > 0) void write.mutate('epcrs', id, ops);
  };
  const cadTimesMissing = TIME_FIELDS.filter(([key]) => (incident?.timeline as Record<string, string> | undefined)?.[key] && !epcr.times?.[key]).length;

  const sections = (
    <>
      {epcr.addendumOf && (
        <fieldset>
          <legend>Addendum</legend>
          {text(['addendumReason'], 'Reason for the addendum', epcr.addendumReason)}
        </fieldset>
      )}

      <fieldset id="sec-response">
        <legend>Call (response and dispatch)</legend>
        {!disabled && session.user.unitId && (!epcr.response?.callSign || !epcr.response?.vehicleNumber) && (
          <p><button onClick={() => void write.mutate('epcrs', id, [
            ...(!epcr.response?.callSign ? [{ op: 'set' as const, path: ['response', 'callSign'], value: session.user.unitId }] : []),
            ...(!epcr.response?.vehicleNumber ? [{ op: 'set' as const, path: ['response', 'vehicleNumber'], value: session.user.unitId }] : []),
          ])}>Fill call sign and vehicle: {session.user.unitId}</button></p>
        )}
        <div class="grid">
          {text(['response', 'incidentNumber'], 'Incident number', epcr.response?.incidentNumber)}
          {text(['response', 'callSign'], 'Call sign', epcr.response?.callSign)}
          {text(['response', 'vehicleNumber'], 'Vehicle number', epcr.response?.vehicleNumber)}
          {select(['response', 'serviceType'], 'Type of service', epcr.response?.serviceType, codes.SERVICE_TYPE)}
          {select(['response', 'unitCapability'], 'Unit capability', epcr.response?.unitCapability, codes.UNIT_CAPABILITY)}
          {select(['response', 'responseMode'], 'Response mode', epcr.response?.responseMode, codes.RESPONSE_MODE)}
          {select(['dispatch', 'reason'], 'Dispatch reason', epcr.dispatch?.reason, codes.DISPATCH_REASON)}
          {text(['dispatch', 'complaint'], 'Complaint given by dispatch', epcr.dispatch?.complaint)}
        </div>
      </fieldset>

      <fieldset id="sec-patient">
        <legend>Patient</legend>
        <div class="grid">
          {text(['patient', 'lastName'], 'Last name', epcr.patient?.lastName)}
          {text(['patient', 'firstName'], 'First name', epcr.patient?.firstName)}
          {text(['patient', 'dateOfBirth'], 'Date of birth (YYYY-MM-DD)', epcr.patient?.dateOfBirth, { pattern: /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, patternHint: 'Write the date as YYYY-MM-DD, e.g. 1958-03-14.', maxLength: 10 })}
          <NumberField {...field(['patient', 'age'], 'Age')} value={epcr.patient?.age} integer min={0} max={150} />
          {select(['patient', 'ageUnits'], 'Age in', epcr.patient?.ageUnits, codes.AGE_UNITS)}
          {select(['patient', 'sex'], 'Sex', epcr.patient?.sex, codes.SEX)}
          {text(['patient', 'phone'], 'Phone', epcr.patient?.phone, { maxLength: 20, inputMode: 'tel' })}
          {text(['patient', 'address', 'street'], 'Street', epcr.patient?.address?.street)}
          {text(['patient', 'address', 'city'], 'City', epcr.patient?.address?.city)}
          {text(['patient', 'address', 'zip'], 'ZIP', epcr.patient?.address?.zip, { pattern: /^[0-9]{5}(-[0-9]{4})?$/, patternHint: '5 digits (or ZIP+4).', maxLength: 10, inputMode: 'numeric' })}
        </div>
      </fieldset>

      <fieldset id="sec-situation">
        <legend>Situation</legend>
        <div class="grid">
          {text(['situation', 'chiefComplaint'], 'Chief complaint', epcr.situation?.chiefComplaint)}
          <TimeField {...field(['situation', 'onset'], 'Onset')} value={epcr.situation?.onset} />
          <TimeField {...field(['situation', 'lastKnownWell'], 'Last known well')} value={epcr.situation?.lastKnownWell} />
          {text(['situation', 'primaryImpression'], 'Primary impression (ICD-10)', epcr.situation?.primaryImpression, { maxLength: 20 })}
          {select(['situation', 'acuity'], 'Acuity', epcr.situation?.acuity, codes.ACUITY)}
          {select(['situation', 'possibleInjury'], 'Possible injury', epcr.situation?.possibleInjury, codes.YES_NO)}
        </div>
      </fieldset>

      <fieldset id="sec-history">
        <legend>History</legend>
        <div class="grid">
          <LinesField label="Allergies" docId={id} path={['history', 'allergies']} value={epcr.history?.allergies} disabled={disabled} />
          <LinesField label="Medical history" docId={id} path={['history', 'medicalHistory']} value={epcr.history?.medicalHistory} disabled={disabled} />
          <LinesField label="Current medications" docId={id} path={['history', 'currentMedications']} value={epcr.history?.currentMedications} disabled={disabled} />
          <TimeField {...field(['history', 'lastOralIntake'], 'Last oral intake')} value={epcr.history?.lastOralIntake} />
        </div>
      </fieldset>

      <fieldset id="sec-vitals">
        <legend>Vitals</legend>
        {serverErrors.get('vitals') && <p class="hint bad" data-testid="field-server-error">{serverErrors.get('vitals')!.join(' ')}</p>}
        {!serverErrors.get('vitals') && localHints.get('vitals') && <p class="hint">{localHints.get('vitals')}</p>}
        {(epcr.vitals ?? []).length === 0 && <p class="empty">No vital signs yet.</p>}
        {(epcr.vitals ?? []).map((v: Vital, n: number) => {
          const p = (key: string): Path => ['vitals', { id: v.id }, key];
          return (
            <div class="card" style="margin-bottom:8px" key={v.id} data-item={v.id} data-testid="vital-set">
              <div class="row" style="justify-content:space-between"><h3>Set {n + 1}</h3>
                {!disabled && <button onClick={() => void write.mutate('epcrs', id, [{ op: 'removeItem', path: ['vitals'], itemId: v.id }])} aria-label={`Remove vital set ${n + 1}`}>Remove</button>}
              </div>
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
                <NumberField {...field(p('pain'), 'Pain (0–10)')} value={v.pain} integer min={0} max={10} />
                <SelectField {...field(p('avpu'), 'AVPU')} value={v.avpu} options={codes.AVPU} />
                <TimeField {...field(p('takenAt'), 'Taken at')} value={v.takenAt} />
              </div>
            </div>
          );
        })}
        {!disabled && <button class="primary big" data-testid="add-vitals" onClick={() => void addVitals()}>Add vital signs (time: now)</button>}
      </fieldset>

      <fieldset id="sec-treatment">
        <legend>Medications and procedures</legend>
        {(epcr.medications ?? []).map((m: Medication, n: number) => {
          const p = (key: string): Path => ['medications', { id: m.id }, key];
          return (
            <div class="card" style="margin-bottom:8px" key={m.id} data-item={m.id} data-testid="medication">
              <div class="row" style="justify-content:space-between"><h3>Medication {n + 1}</h3>
                {!disabled && <button onClick={() => void write.mutate('epcrs', id, [{ op: 'removeItem', path: ['medications'], itemId: m.id }])}>Remove</button>}</div>
              <div class="grid">
                <TextField {...field(p('medication'), 'Medication')} value={m.medication} maxLength={200} required />
                <NumberField {...field(p('dose'), 'Dose')} value={m.dose} min={0} />
                <SelectField {...field(p('doseUnit'), 'Dose unit')} value={m.doseUnit} options={codes.MED_DOSE_UNIT} />
                <SelectField {...field(p('route'), 'Route')} value={m.route} options={codes.MED_ROUTE} />
                <SelectField {...field(p('response'), 'Response')} value={m.response} options={codes.RESPONSE_TO_TREATMENT} />
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
                {!disabled && <button onClick={() => void write.mutate('epcrs', id, [{ op: 'removeItem', path: ['procedures'], itemId: pr.id }])}>Remove</button>}</div>
              <div class="grid">
                <TextField {...field(p('procedure'), 'Procedure')} value={pr.procedure} maxLength={200} required />
                <NumberField {...field(p('attempts'), 'Attempts')} value={pr.attempts} integer min={0} max={50} />
                <SelectField {...field(p('successful'), 'Successful')} value={pr.successful} options={codes.YES_NO} />
                <SelectField {...field(p('response'), 'Response')} value={pr.response} options={codes.RESPONSE_TO_TREATMENT} />
                <TimeField {...field(p('performedAt'), 'Performed at')} value={pr.performedAt} />
              </div>
            </div>
          );
        })}
        {!disabled && (
          <div class="row">
            <button onClick={() => void addMedication()}>Add medication (time: now)</button>
            <button onClick={() => void addProcedure()}>Add procedure (time: now)</button>
          </div>
        )}
      </fieldset>

      <fieldset id="sec-narrative">
        <legend>Narrative</legend>
        <TextField {...field(['narrative', 'text'], 'Narrative')} value={epcr.narrative?.text} multiline maxLength={20000} />
      </fieldset>

      <fieldset id="sec-disposition">
        <legend>Disposition and destination</legend>
        <div class="grid">
          {select(['disposition', 'unitDisposition'], 'Unit disposition', epcr.disposition?.unitDisposition, codes.UNIT_DISPOSITION)}
          {select(['disposition', 'transportDisposition'], 'Transport', epcr.disposition?.transportDisposition, codes.TRANSPORT_DISPOSITION)}
          {text(['disposition', 'destinationName'], 'Destination', epcr.disposition?.destinationName)}
          {text(['disposition', 'destinationCode'], 'Destination code', epcr.disposition?.destinationCode)}
          {select(['disposition', 'destinationType'], 'Destination type', epcr.disposition?.destinationType, codes.DESTINATION_TYPE)}
          {select(['disposition', 'preArrivalAlert'], 'Pre-arrival alert', epcr.disposition?.preArrivalAlert, codes.PRE_ARRIVAL_ALERT)}
          <NumberField {...field(['disposition', 'loadedMiles'], 'Loaded miles')} value={epcr.disposition?.loadedMiles} min={0} max={10000} unit="mi" />
        </div>
      </fieldset>

      <fieldset id="sec-times">
        <legend>Times</legend>
        {cadTimesMissing > 0 && !disabled && (
          <p><button onClick={fillTimes}>Fill {cadTimesMissing} time{cadTimesMissing === 1 ? '' : 's'} from the call timeline</button></p>
        )}
        <div class="grid">
          {TIME_FIELDS.map(([key, label]) => {
            const cad = (incident?.timeline as Record<string, string> | undefined)?.[key];
            return <TimeField key={key} {...field(['times', key], label)} value={epcr.times?.[key]}
              {...(cad && cad !== epcr.times?.[key] ? { hint: `Call timeline: ${clockOf(cad)}` } : {})} />;
          })}
        </div>
      </fieldset>

      <fieldset id="sec-billing">
        <legend>Billing</legend>
        <div class="grid">
          {select(['payment', 'serviceLevel'], 'Service level', epcr.payment?.serviceLevel, codes.SERVICE_LEVEL)}
          {text(['payment', 'insuranceCompany'], 'Insurance', epcr.payment?.insuranceCompany)}
          {text(['payment', 'memberId'], 'Member id', epcr.payment?.memberId)}
          {text(['scene', 'address', 'zip'], 'Pickup (scene) ZIP', epcr.scene?.address?.zip, { pattern: /^[0-9]{5}(-[0-9]{4})?$/, patternHint: '5 digits (or ZIP+4).', maxLength: 10, inputMode: 'numeric' })}
        </div>
      </fieldset>
    </>
  );
  const unplaced = (epcr.finalizeErrors ?? []).filter((e) => !rendered.has(e.path));

  return (
    <article aria-labelledby="epcr-title" data-testid="epcr-form" data-id={id}>
      <div class="row" style="justify-content:space-between">
        <h2 id="epcr-title" style="margin:0">
          {epcr.addendumOf ? 'Addendum' : 'Patient care report'}{epcr.response?.incidentNumber ? ` — call ${epcr.response.incidentNumber}` : ''}
        </h2>
        <Badge badge={view.badge} />
      </div>
      <p class="meta" data-testid="epcr-status">
        {locked ? `Locked by the server at ${clockOf(epcr.lockedAt)}; it can no longer change. Corrections go in an addendum.`
          : checking ? 'Finalized: waiting for the server to check and lock it (it is checked as soon as this device is online).'
            : epcr.finalizeErrors?.length ? 'Returned by the server: fix the problems marked below, then finalize again. Every change is saved on this device as you type.'
              : 'Draft — every change is saved on this device as you type.'}
      </p>
      <div class="row" style="margin-bottom:12px">
        <button onClick={() => go('')}>Back to calls</button>
        {!locked && !checking && <button class="primary" data-testid="finalize" onClick={() => void finalize()}>Finalize report{missing.length ? ` (${missing.length} still missing)` : ''}</button>}
        {checking && <button onClick={() => void reopen()}>Back to draft</button>}
        {locked && <button class="primary" data-testid="addendum" onClick={() => void addendum()}>Write an addendum</button>}
      </div>

      {(epcr.finalizeErrors?.length ?? 0) > 0 && !locked && (
        <section class="finalize-errors" role="alert" data-testid="finalize-errors">
          <h3 style="margin:4px 0">The server returned this report: fix {epcr.finalizeErrors!.length} thing{epcr.finalizeErrors!.length === 1 ? '' : 's'}, then finalize again</h3>
          <p class="meta">Each problem is also shown next to its field.</p>
          {unplaced.length > 0 && <ul>{unplaced.map((e) => <li key={e.path + e.message}>{e.message}</li>)}</ul>}
        </section>
      )}

      <ConflictsPanel epcr={epcr} session={session} disabled={disabled} />

      <nav class="section-nav" aria-label="Report sections">
        {SECTIONS.map(([anchor, label]) => <a key={anchor} href={`#/epcr/${id}`} onClick={(e) => { e.preventDefault(); document.getElementById(`sec-${anchor}`)?.scrollIntoView(); }}>{label}</a>)}
      </nav>

      {sections}
      <p class="meta">Signed in as {session.user.userId} on {session.user.deviceId}.</p>
    </article>
  );
}
