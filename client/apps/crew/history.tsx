/**
 * Report history: every report of this unit on the tablet (open, finalized, locked, addenda),
 * newest first, searchable by incident number, patient name and date. Patient data is encrypted
 * on the device and cannot be queried, so the search runs over the decrypted list here.
 */
import { useState } from 'preact/hooks';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { Badge, go, markReady } from '../../ui/components.tsx';
import { useQuery } from '../../ui/db.ts';
import { notARecordField } from '../../ui/record-field.ts';
import type { Session } from '../../session/identity.ts';
import { rememberList } from './return-to.ts';
import { epcrStatusText, patientName, reportDate, reportState, type ReportState } from './report-status.ts';

/** Rows drawn at first (a tablet may hold years of reports); more on request. */
const PAGE = 50;

const STATE_WORDS: Record<ReportState, string> = { open: 'Open', finalized: 'Finalized', locked: 'Locked' };

function matches(epcr: Epcr, words: string[], date: string, state: ReportState | ''): boolean {
  if (state && reportState(epcr) !== state) return false;
  if (date && reportDate(epcr) !== date) return false;
  const haystack = [epcr.response?.incidentNumber, epcr.patient?.lastName, epcr.patient?.firstName].filter(Boolean).join(' ').toLowerCase();
  return words.every((w) => haystack.includes(w));
}

export function ReportHistory({ session }: { session: Session }) {
  const unitId = session.user.unitId;
  const reports = useQuery<Epcr>('epcrs', { selector: unitId ? { unitId } : {} });
  const [query, setQuery] = useState('');
  const [date, setDate] = useState('');
  const [state, setState] = useState<ReportState | ''>('');
  const [limit, setLimit] = useState(PAGE);
  rememberList('history');
  if (!reports) return <p>Loading…</p>;
  markReady();
  const words = query.toLowerCase().replace(/,/g, ' ').split(/\s+/).filter(Boolean);
  const shown = reports
    .filter((v) => matches(v.doc, words, date, state))
    .sort((a, b) => (reportDate(b.doc) ?? '').localeCompare(reportDate(a.doc) ?? '') || (b.doc.response?.incidentNumber ?? '').localeCompare(a.doc.response?.incidentNumber ?? ''));
  return (
    <section aria-labelledby="history-title" data-testid="report-history">
      <h2 id="history-title">Report history{unitId ? ` — unit ${unitId}` : ''}</h2>
      <div class="grid" role="search">
        <div class="field wide">
          <label for="history-search">Search by incident number or patient name</label>
          <input id="history-search" type="search" value={query} data-testid="history-search" {...notARecordField('searches the report history')} onInput={(e) => setQuery(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="history-date">Date</label>
          <input id="history-date" type="date" value={date} data-testid="history-date" {...notARecordField('filters the report history by date')} onInput={(e) => setDate(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="history-state">State</label>
          <select id="history-state" value={state} data-testid="history-state" {...notARecordField('filters the report history by state')} onChange={(e) => setState(e.currentTarget.value as ReportState | '')}>
            <option value="">All</option><option value="open">Open</option><option value="finalized">Finalized</option><option value="locked">Locked</option>
          </select>
        </div>
      </div>
      <p class="meta" data-testid="history-count">{shown.length} of {reports.length} report{reports.length === 1 ? '' : 's'} on this tablet.</p>
      {shown.length === 0 && <p class="empty">{reports.length === 0 ? 'No reports on this tablet yet.' : 'No report matches. Clear the search or the date to see all.'}</p>}
      <ul class="list" data-testid="history-list">
        {shown.slice(0, limit).map(({ doc: epcr, badge }) => (
          <li key={epcr.id}>
            <button class="card" data-testid="history-report" data-id={epcr.id} data-state={reportState(epcr)} onClick={() => go(`epcr/${epcr.id}`)}>
              <div class="row" style="justify-content:space-between">
                <strong>{epcr.addendumOf ? 'Addendum — ' : ''}{patientName(epcr) ?? 'Patient not named yet'}</strong>
                <span class="row"><span class={`tag state-${reportState(epcr)}`}>{STATE_WORDS[reportState(epcr)]}</span><Badge badge={badge} /></span>
              </div>
              <div class="meta">
                {[epcr.response?.incidentNumber ? `Call ${epcr.response.incidentNumber}` : 'No call', reportDate(epcr), epcrStatusText(epcr)].filter(Boolean).join(' · ')}
              </div>
            </button>
          </li>
        ))}
      </ul>
      {shown.length > limit && (
        <button style="margin-top:12px" onClick={() => setLimit(limit + PAGE)}>Show {Math.min(PAGE, shown.length - limit)} more (of {shown.length - limit} not shown)</button>
      )}
    </section>
  );
}
