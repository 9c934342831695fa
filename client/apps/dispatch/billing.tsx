/**
 * The biller's screen of the dispatch console: the billing worklist. A biller may pull billing
 * records, claims and finalized reports (shared/access/rules.ts), not units or incidents, so the
 * dispatch board has nothing to show them. Here: every billing record with its claim state,
 * filtered by state, and one record opened with its claims and the report it bills.
 */
import type { BillingRecord, Claim, Epcr } from '../../../shared/schemas/index.ts';
import { AppShell, Badge, go, markReady, route } from '../../ui/components.tsx';
import { useDoc, useQuery } from '../../ui/db.ts';
import { notARecordField } from '../../ui/record-field.ts';
import type { DocView } from '../../worker/api.ts';
import type { Session } from '../../session/identity.ts';
import { clockOf } from '../../ui/time.ts';
import { mayEditSettings } from '../../../shared/access/rules.ts';
import { BillingSettings } from './billing-settings.tsx';

/** Where a record stands in billing: its newest claim's state, or its own while no claim exists. */
const STATE_TEXT: Record<string, string> = {
  'billing:draft': 'Draft (not ready)',
  'billing:ready': 'Ready to claim',
  'billing:claimed': 'Claimed',
  'billing:void': 'Void',
  'claim:draft': 'Claim drafted',
  'claim:submitted': 'Claim submitted',
  'claim:accepted': 'Claim accepted',
  'claim:rejected': 'Claim rejected',
  'claim:void': 'Claim voided',
};
/** Worklist order: what needs the biller first. */
const STATE_ORDER = ['claim:rejected', 'billing:ready', 'billing:draft', 'claim:draft', 'claim:submitted', 'billing:claimed', 'claim:accepted', 'claim:void', 'billing:void'];

const CLAIM_KIND: Record<string, string> = { '1': 'original', '7': 'replacement', '8': 'void' };

/** The claim that says where the record stands now: the newest, latest correction last. */
function currentClaim(claims: Claim[]): Claim | undefined {
  return [...claims].sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? '') || Number(a.frequencyCode) - Number(b.frequencyCode)).at(-1);
}

function stateOf(record: BillingRecord, claims: Claim[]): string {
  const claim = currentClaim(claims);
  return claim ? `claim:${claim.status}` : `billing:${record.status}`;
}

const stateText = (state: string) => STATE_TEXT[state] ?? state.replace(':', ' ');

function patientOf(epcr: Epcr | undefined): string | undefined {
  const p = epcr?.patient;
  const name = [p?.lastName, p?.firstName].filter(Boolean).join(', ');
  return name || undefined;
}

function Worklist() {
  const records = useQuery<BillingRecord>('billing_records', {});
  const claims = useQuery<Claim>('claims', {});
  const epcrs = useQuery<Epcr>('epcrs', {});
  const filter = new URLSearchParams(route.value.split('?')[1] ?? '').get('state') ?? '';
  if (!records || !claims || !epcrs) return <p>Loading…</p>;
  markReady();
  const claimsOf = new Map<string, Claim[]>();
  for (const { doc } of claims) claimsOf.set(doc.billingRecordId, [...(claimsOf.get(doc.billingRecordId) ?? []), doc]);
  const epcrOf = new Map(epcrs.map(({ doc }) => [doc.id, doc]));
  const rows = records.map((view) => ({ view, state: stateOf(view.doc, claimsOf.get(view.doc.id) ?? []) }));
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  const shown = rows.filter((r) => !filter || r.state === filter)
    .sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || a.view.doc.id.localeCompare(b.view.doc.id));
  return (
    <section aria-labelledby="worklist-title" data-testid="billing-worklist">
      <div class="row" style="justify-content:space-between;align-items:end">
        <h2 id="worklist-title">Billing worklist ({shown.length}{filter ? ` of ${rows.length}` : ''})</h2>
        <div class="field" style="min-width:260px"><label for="billing-state">State</label>
          <select id="billing-state" data-testid="billing-filter" value={filter} {...notARecordField('filters the worklist by billing state')}
            onChange={(e) => go(e.currentTarget.value ? `?state=${encodeURIComponent(e.currentTarget.value)}` : '')}>
            <option value="">All states ({rows.length})</option>
            {STATE_ORDER.map((s) => <option key={s} value={s}>{stateText(s)} ({counts.get(s) ?? 0})</option>)}
          </select></div>
      </div>
      <table data-testid="billing-table">
        <thead><tr><th scope="col">Incident / report</th><th scope="col">Patient</th><th scope="col">Service</th><th scope="col">Payer</th><th scope="col">State</th><th scope="col" /></tr></thead>
        <tbody>
          {shown.map(({ view, state }) => {
            const record = view.doc;
            const epcr = record.epcrId ? epcrOf.get(record.epcrId) : undefined;
            return (
              <tr key={record.id} data-testid="billing-row" data-id={record.id} data-state={state}>
                <th scope="row">{epcr?.response?.incidentNumber ?? <span class="meta">report {record.epcrId.slice(0, 8)}</span>}</th>
                <td>{patientOf(epcr) ?? <span class="meta">not on this device</span>}</td>
                <td>{[record.serviceLevel, record.hcpcsBase].filter(Boolean).join(' · ') || '—'}{record.loadedMiles !== undefined ? <div class="meta">{record.loadedMiles} loaded miles</div> : null}</td>
                <td>{record.payer ?? '—'}</td>
                <td data-testid="billing-state"><strong>{stateText(state)}</strong> <Badge badge={view.badge} /></td>
                <td><button data-testid="open-billing" onClick={() => go(`billing/${record.id}`)}>Open</button></td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {shown.length === 0 && <p class="empty">{rows.length === 0 ? 'No billing records yet. They appear when a transport is completed or a report is finalized.' : 'None in this state.'}</p>}
    </section>
  );
}

function ClaimCard({ view }: { view: DocView<Claim> }) {
  const claim = view.doc;
  return (
    <li class="card" data-testid="claim" data-status={claim.status}>
      <div class="row" style="justify-content:space-between">
        <strong>Claim {claim.id.slice(0, 8)} ({CLAIM_KIND[claim.frequencyCode] ?? claim.frequencyCode}): {stateText(`claim:${claim.status}`)}</strong>
        <Badge badge={view.badge} />
      </div>
      <dl class="kv">
        {claim.submittedAt && <><dt>Submitted</dt><dd>{clockOf(claim.submittedAt)} ({claim.submittedAt.slice(0, 10)})</dd></>}
        {claim.payerResponse && <><dt>Payer's answer</dt><dd data-testid="payer-response">{claim.payerResponse}</dd></>}
        {claim.correctionOf && <><dt>Corrects</dt><dd>claim {claim.correctionOf.slice(0, 8)}</dd></>}
        <dt>Lines</dt>
        <dd>{(claim.lines ?? []).length ? (
          <ul style="margin:0;padding-left:18px">{claim.lines!.map((l, i) => (
            <li key={i}><code>{l.code}{l.modifier ? `-${l.modifier}` : ''}</code> × {l.units}{l.chargeCents !== undefined ? `, $${(l.chargeCents / 100).toFixed(2)}` : ''}</li>
          ))}</ul>
        ) : '—'}</dd>
      </dl>
    </li>
  );
}

function BillingDetail({ id }: { id: string }) {
  const view = useDoc<BillingRecord>('billing_records', id);
  const claims = useQuery<Claim>('claims', { selector: { billingRecordId: id } }, [id]);
  const epcr = useDoc<Epcr>('epcrs', view?.doc.epcrId);
  if (view === undefined || claims === undefined) return <p>Loading…</p>;
  if (view === null) return <div class="card"><p>This billing record is not on this device.</p><button onClick={() => go('')}>Back to the worklist</button></div>;
  markReady();
  const record = view.doc;
  const state = stateOf(record, claims.map((c) => c.doc));
  const report = epcr?.doc;
  const drop = record.dropoffAddress;
  return (
    <article aria-labelledby="billing-title" data-testid="billing-detail" data-id={id} data-state={state}>
      <div class="row" style="justify-content:space-between">
        <h2 id="billing-title" style="margin:0">Billing {report?.response?.incidentNumber ? `for incident ${report.response.incidentNumber}` : `record ${id.slice(0, 8)}`}</h2>
        <Badge badge={view.badge} />
      </div>
      <p data-testid="billing-detail-state"><strong>{stateText(state)}</strong>{state.startsWith('claim:') ? ` (billing record: ${stateText(`billing:${record.status}`)})` : ''}</p>
      <dl class="kv card">
        <dt>Patient</dt><dd>{patientOf(report) ?? 'report not on this device (finalized reports only)'}</dd>
        <dt>Report</dt><dd>{report ? `${report.status}${report.lockedAt ? `, locked ${report.lockedAt.slice(0, 10)}` : ''}` : record.epcrId}</dd>
        <dt>Service level</dt><dd>{record.serviceLevel ?? '—'}</dd>
        <dt>HCPCS</dt><dd>{[record.hcpcsBase, record.hcpcsMileage].filter(Boolean).join(', ') || '—'}{record.modifier ? ` (modifier ${record.modifier})` : ''}</dd>
        <dt>Loaded miles</dt><dd>{record.loadedMiles ?? '—'}</dd>
        <dt>Pick-up ZIP</dt><dd>{record.pickupZip ?? '—'}</dd>
        <dt>Destination</dt><dd>{[drop?.street, drop?.city, drop?.zip].filter(Boolean).join(', ') || '—'}</dd>
        <dt>Payer</dt><dd>{record.payer ?? '—'}</dd>
        <dt>Diagnoses (ICD-10)</dt><dd>{(record.icd10 ?? []).join(', ') || '—'}</dd>
      </dl>
      <h3>Claims ({claims.length})</h3>
      {claims.length === 0 && <p class="empty">No claim yet.</p>}
      <ul class="list" data-testid="claim-list">{claims.map((c) => <ClaimCard key={c.doc.id} view={c} />)}</ul>
      <p><button onClick={() => history.length > 1 ? history.back() : go('')}>Back to the worklist</button></p>
    </article>
  );
}

/** The dispatch console as a biller sees it. */
export function BillingApp({ session }: { session: Session }) {
  const [section, id] = route.value.split('?')[0]!.split('/');
  // The settings screen for the roles that may edit billing settings (shared/access/rules.ts).
  const settings = mayEditSettings(session.user.role, 'billing');
  return (
    <AppShell title="Billing" nav={[{ path: '', label: 'Worklist' }, ...(settings ? [{ path: 'billing-settings', label: 'Billing settings' }] : [])]}>
      {section === 'billing' && id ? <BillingDetail id={id} /> : section === 'billing-settings' && settings ? <BillingSettings /> : <Worklist />}
    </AppShell>
  );
}
