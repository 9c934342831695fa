/**
 * The biller's screen for the agency's billing settings (what every 837P claim is made from: the
 * billing provider's NPI, taxonomy, tax id and address, submitter and clearinghouse, payers, fee
 * schedule, test or production, unsigned claims). Read and saved through `AGENCY.billingSettings`
 * (admin and biller, shared/access/rules.ts SETTINGS_EDITORS): the server checks every value and
 * a refused one is shown at its field, in the server's words; nothing is saved until all pass.
 * Online only: these are the agency's settings, not a record the device keeps.
 */
import { useEffect, useState } from 'preact/hooks';
import { AGENCY, ApiClient, readApiError } from '../../../shared/protocol/index.ts';
import { markReady } from '../../ui/components.tsx';
import { notARecordField } from '../../ui/record-field.ts';
import { getAccessToken } from '../../session/session.ts';

interface Payer { name: string; payerId: string; filingIndicator: string }
interface Fee { code: string; dollars: string }
interface Form {
  name: string; npi: string; taxonomy: string; taxId: string;
  street: string; city: string; state: string; zip: string;
  submitterId: string; submitterName: string; contactName: string; phone: string;
  receiverId: string; receiverName: string;
  usage: 'P' | 'T'; unsignedClaims: 'hold' | 'send';
  payers: Payer[]; fees: Fee[];
  cityNames: Record<string, string>;
}

const api = new ApiClient({ token: getAccessToken });

const EMPTY: Form = {
  name: '', npi: '', taxonomy: '', taxId: '', street: '', city: '', state: '', zip: '',
  submitterId: '', submitterName: '', contactName: '', phone: '', receiverId: '', receiverName: '',
  usage: 'P', unsignedClaims: 'hold', payers: [{ name: '', payerId: '', filingIndicator: '' }], fees: [{ code: '', dollars: '' }], cityNames: {},
};

type Saved = Record<string, unknown>;
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function formOf(billing: Saved | null): Form {
  if (!billing) return EMPTY;
  const a = rec(billing['address']); const s = rec(billing['submitter']); const r = rec(billing['receiver']);
  const payers = Array.isArray(billing['payers']) ? (billing['payers'] as unknown[]).map((p) => ({ name: str(rec(p)['name']), payerId: str(rec(p)['payerId']), filingIndicator: str(rec(p)['filingIndicator']) })) : [];
  const fees = Object.entries(rec(billing['feeSchedule'])).map(([code, cents]) => ({ code, dollars: typeof cents === 'number' ? (cents / 100).toFixed(2) : '' }));
  return {
    name: str(billing['name']), npi: str(billing['npi']), taxonomy: str(billing['taxonomy']), taxId: str(billing['taxId']),
    street: str(a['street']), city: str(a['city']), state: str(a['state']), zip: str(a['zip']),
    submitterId: str(s['id']), submitterName: str(s['name']), contactName: str(s['contactName']), phone: str(s['phone']),
    receiverId: str(r['id']), receiverName: str(r['name']),
    usage: billing['usage'] === 'T' ? 'T' : 'P', unsignedClaims: billing['unsignedClaims'] === 'send' ? 'send' : 'hold',
    payers: payers.length ? payers : EMPTY.payers, fees: fees.length ? fees : EMPTY.fees,
    cityNames: Object.fromEntries(Object.entries(rec(billing['cityNames'])).map(([k, v]) => [k, str(v)])),
  };
}

/** A fee typed in dollars ("850", "850.00", "$1,250.5") as cents; NaN when it is no amount (the server names it). */
function cents(dollars: string): number {
  const plain = dollars.replace(/[$,\s]/g, '');
  return /^\d+(\.\d{1,2})?$/.test(plain) ? Math.round(Number(plain) * 100) : Number.NaN;
}

function bodyOf(form: Form): Saved {
  return {
    ...(form.name.trim() ? { name: form.name } : {}),
    npi: form.npi, taxonomy: form.taxonomy, taxId: form.taxId,
    address: { street: form.street, city: form.city, state: form.state, zip: form.zip },
    submitter: { id: form.submitterId, name: form.submitterName, contactName: form.contactName, phone: form.phone },
    receiver: { id: form.receiverId, name: form.receiverName },
    payers: form.payers.filter((p) => p.name || p.payerId || p.filingIndicator),
    // A fee that is no amount goes as text, so the server's refusal names it at its field.
    feeSchedule: Object.fromEntries(form.fees.filter((f) => f.code || f.dollars).map((f) => [f.code.trim().toUpperCase(), Number.isNaN(cents(f.dollars)) ? f.dollars : cents(f.dollars)])),
    cityNames: form.cityNames, usage: form.usage, unsignedClaims: form.unsignedClaims,
  };
}

/** The form field a server problem is about: `billing.address.zip` → `address.zip`, `billing.feeSchedule.A0427` → `fees`. */
function fieldOfProblem(message: string, path: string | undefined): string {
  const p = path ?? /^billing\.([A-Za-z0-9_.[\]]+)/.exec(message)?.[1] ?? '';
  if (p.startsWith('feeSchedule') || message.startsWith('billing.feeSchedule')) return 'fees';
  const payer = /^payers\[(\d+)\]\.(\w+)/.exec(p);
  if (payer) return `payers.${payer[1]}.${payer[2]}`;
  if (p === 'payers') return 'payers';
  return p;
}

export function BillingSettings() {
  const [form, setForm] = useState<Form>();
  const [loadError, setLoadError] = useState<string>();
  const [problems, setProblems] = useState<{ field: string; message: string }[]>([]);
  const [state, setState] = useState<'idle' | 'saving' | 'saved'>('idle');
  const [savedAt, setSavedAt] = useState<string>();

  useEffect(() => {
    void (async () => {
      try {
        const response = await api.send(AGENCY.billingSettings);
        if (!response.ok) throw await readApiError(response);
        const body = await response.json() as { billing: Saved | null; updatedAt?: string };
        setForm(formOf(body.billing));
        setSavedAt(body.updatedAt);
      } catch (error) {
        setLoadError((error as Error).message);
      }
    })();
  }, []);
  if (loadError) return <div class="card" role="alert" data-testid="billing-settings-error"><p>The billing settings could not be read: {loadError}</p></div>;
  if (!form) return <p>Loading…</p>;
  markReady();

  const set = (patch: Partial<Form>) => { setForm({ ...form, ...patch }); setState('idle'); };
  const problemAt = (field: string) => problems.filter((p) => p.field === field).map((p) => p.message).join(' ');
  const save = async () => {
    // Two rows of one code would keep only one charge, silently: said here, nothing sent.
    const codes = form.fees.map((f) => f.code.trim().toUpperCase()).filter(Boolean);
    const twice = codes.find((code, i) => codes.indexOf(code) !== i);
    if (twice) {
      setProblems([{ field: 'fees', message: `HCPCS ${twice} is listed twice in the fee schedule: keep one row for it.` }]);
      return;
    }
    setState('saving');
    try {
      const response = await api.send(AGENCY.putBillingSettings, { json: bodyOf(form) });
      if (!response.ok) {
        const error = await readApiError(response);
        const details = error.details?.length ? error.details : [{ message: error.message }];
        setProblems(details.map((d) => ({ field: fieldOfProblem(d.message, (d as { path?: string }).path), message: d.message })));
        setState('idle');
        return;
      }
      const body = await response.json() as { billing: Saved | null; updatedAt?: string };
      setForm(formOf(body.billing));
      setSavedAt(body.updatedAt);
      setProblems([]);
      setState('saved');
    } catch (error) {
      setProblems([{ field: '', message: `Not saved: ${(error as Error).message} (the billing settings need the server: try again when online).` }]);
      setState('idle');
    }
  };

  const text = (field: string, label: string, value: string, onInput: (v: string) => void, hint?: string) => {
    const problem = problemAt(field);
    const id = `bs-${field.replace(/[^A-Za-z0-9]/g, '-')}`;
    return (
      <div class="field" data-field={field}>
        <label for={id}>{label}</label>
        <input id={id} data-testid={`setting-${field}`} value={value} aria-invalid={problem ? 'true' : undefined}
          {...notARecordField('an agency billing setting, saved with Save billing settings')} onInput={(e) => onInput(e.currentTarget.value)} />
        {hint && <small class="meta">{hint}</small>}
        {problem && <div class="hint bad" role="alert" data-testid="setting-problem">{problem}</div>}
      </div>
    );
  };
  const unplaced = problems.filter((p) => !p.field || !document.querySelector(`[data-field="${CSS.escape(p.field)}"]`));

  return (
    <section aria-labelledby="billing-settings-title" data-testid="billing-settings">
      <h2 id="billing-settings-title">Billing settings</h2>
      <p class="meta">Every claim (X12 837P) is made from these when it is submitted.{savedAt ? ` Last saved ${savedAt.slice(0, 16).replace('T', ' ')} UTC.` : ''}</p>
      <fieldset><legend>Billing provider</legend>
        {text('name', 'Billing provider name', form.name, (v) => set({ name: v }), 'the agency\'s name when empty')}
        {text('npi', 'NPI', form.npi, (v) => set({ npi: v }), '10 digits')}
        {text('taxonomy', 'Taxonomy code', form.taxonomy, (v) => set({ taxonomy: v }), 'e.g. 3416L0300X ambulance, land')}
        {text('taxId', 'Tax id (EIN)', form.taxId, (v) => set({ taxId: v }))}
        {text('address.street', 'Street', form.street, (v) => set({ street: v }))}
        {text('address.city', 'City', form.city, (v) => set({ city: v }))}
        {text('address.state', 'State', form.state, (v) => set({ state: v }), 'two letters, e.g. PA')}
        {text('address.zip', 'ZIP', form.zip, (v) => set({ zip: v }), 'ZIP+4 preferred')}
      </fieldset>
      <fieldset><legend>Submitter and clearinghouse</legend>
        {text('submitter.id', 'Submitter id', form.submitterId, (v) => set({ submitterId: v }))}
        {text('submitter.name', 'Submitter name', form.submitterName, (v) => set({ submitterName: v }))}
        {text('submitter.contactName', 'Contact name', form.contactName, (v) => set({ contactName: v }))}
        {text('submitter.phone', 'Contact phone', form.phone, (v) => set({ phone: v }))}
        {text('receiver.id', 'Clearinghouse receiver id', form.receiverId, (v) => set({ receiverId: v }))}
        {text('receiver.name', 'Clearinghouse name', form.receiverName, (v) => set({ receiverName: v }))}
        <div class="field" data-field="usage"><label for="bs-usage">Claims are</label>
          <select id="bs-usage" data-testid="setting-usage" value={form.usage} {...notARecordField('an agency billing setting')} onChange={(e) => set({ usage: e.currentTarget.value === 'T' ? 'T' : 'P' })}>
            <option value="P">Production (P)</option><option value="T">Test with the clearinghouse (T)</option>
          </select>{problemAt('usage') && <div class="hint bad" data-testid="setting-problem">{problemAt('usage')}</div>}</div>
        <div class="field" data-field="unsignedClaims"><label for="bs-unsigned">A transport with no signature</label>
          <select id="bs-unsigned" data-testid="setting-unsignedClaims" value={form.unsignedClaims} {...notARecordField('an agency billing setting')} onChange={(e) => set({ unsignedClaims: e.currentTarget.value === 'send' ? 'send' : 'hold' })}>
            <option value="hold">is held for a biller to release</option><option value="send">is sent marked "no signature"</option>
          </select></div>
      </fieldset>
      <fieldset data-field="payers"><legend>Payers</legend>
        {form.payers.map((p, i) => (
          <div class="row" key={i} data-testid="payer-row">
            {text(`payers.${i}.name`, `Payer ${i + 1} name`, p.name, (v) => set({ payers: form.payers.map((q, j) => (j === i ? { ...q, name: v } : q)) }))}
            {text(`payers.${i}.payerId`, `Payer ${i + 1} id`, p.payerId, (v) => set({ payers: form.payers.map((q, j) => (j === i ? { ...q, payerId: v } : q)) }))}
            {text(`payers.${i}.filingIndicator`, `Payer ${i + 1} filing code`, p.filingIndicator, (v) => set({ payers: form.payers.map((q, j) => (j === i ? { ...q, filingIndicator: v } : q)) }), 'MB Medicare B, MC Medicaid, CI commercial…')}
            <button type="button" onClick={() => set({ payers: form.payers.filter((_, j) => j !== i) })}>Remove</button>
          </div>
        ))}
        <button type="button" data-testid="add-payer" onClick={() => set({ payers: [...form.payers, { name: '', payerId: '', filingIndicator: '' }] })}>Add a payer</button>
        {problemAt('payers') && <div class="hint bad" data-testid="setting-problem">{problemAt('payers')}</div>}
      </fieldset>
      <fieldset data-field="fees"><legend>Fee schedule</legend>
        {form.fees.map((f, i) => (
          <div class="row" key={i} data-testid="fee-row">
            {text(`fees.${i}.code`, `Fee ${i + 1} HCPCS code`, f.code, (v) => set({ fees: form.fees.map((q, j) => (j === i ? { ...q, code: v } : q)) }))}
            {text(`fees.${i}.dollars`, `Fee ${i + 1} charge ($)`, f.dollars, (v) => set({ fees: form.fees.map((q, j) => (j === i ? { ...q, dollars: v } : q)) }), 'per transport; per loaded mile for mileage codes')}
            <button type="button" onClick={() => set({ fees: form.fees.filter((_, j) => j !== i) })}>Remove</button>
          </div>
        ))}
        <button type="button" data-testid="add-fee" onClick={() => set({ fees: [...form.fees, { code: '', dollars: '' }] })}>Add a fee</button>
        {problemAt('fees') && <div class="hint bad" role="alert" data-testid="setting-problem">{problemAt('fees')}</div>}
      </fieldset>
      {unplaced.length > 0 && <ul class="hint bad" data-testid="settings-problems">{unplaced.map((p) => <li key={p.message}>{p.message}</li>)}</ul>}
      <div class="row">
        <button class="primary" data-testid="save-billing-settings" disabled={state === 'saving'} onClick={() => void save()}>{state === 'saving' ? 'Saving…' : 'Save billing settings'}</button>
        {state === 'saved' && <span data-testid="billing-settings-saved">Saved.</span>}
        {problems.length > 0 && <span class="hint bad" data-testid="billing-settings-refused">Not saved: {problems.length} value{problems.length === 1 ? '' : 's'} to fix, marked at {problems.length === 1 ? 'its field' : 'their fields'}.</span>}
      </div>
    </section>
  );
}
