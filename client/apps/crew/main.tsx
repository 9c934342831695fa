/**
 * Crew ePCR (tablet): the unit's assigned calls and their patient care reports, and the unit's
 * report history (every report on the tablet, searchable).
 */
import type { Epcr, Incident } from '../../../shared/schemas/index.ts';
import { ActionError, useAction } from '../../ui/action.tsx';
import { boot } from '../../ui/boot.tsx';
import { AppShell, Badge, go, markReady, route } from '../../ui/components.tsx';
import { priorityClass, priorityText } from '../../ui/dispatch-priority.ts';
import { useQuery, write } from '../../ui/db.ts';
import { uuid } from '../../ui/ids.ts';
import type { Session } from '../../session/identity.ts';
import { EpcrForm } from './epcr-form.tsx';
import { ReportHistory } from './history.tsx';
import { startReport } from './report-start.ts';
import { epcrStatusText, patientName } from './report-status.ts';
import { rememberList } from './return-to.ts';

const ACTIVE = new Set(['new', 'dispatched', 'active', 'transporting']);

/**
 * A call is current for the crew until its unit is back in service: dispatch closes it later
 * (the status stays `transporting` meanwhile), but the crew has finished with it.
 */
const isCurrent = (incident: Incident) => ACTIVE.has(incident.status) && !incident.timeline?.backInService;

function ReportLink({ view }: { view: { doc: Epcr; badge: Parameters<typeof Badge>[0]['badge'] } }) {
  const epcr = view.doc;
  const who = patientName(epcr) ?? 'Patient not named yet';
  return (
    <button class="card" onClick={() => go(`epcr/${epcr.id}`)} data-testid="epcr-link" data-id={epcr.id}>
      <div class="row" style="justify-content:space-between">
        <strong>{epcr.addendumOf ? 'Addendum — ' : ''}{who}</strong>
        <Badge badge={view.badge} />
      </div>
      <div class="meta">{epcrStatusText(epcr)}{epcr.vitals?.length ? ` · ${epcr.vitals.length} vital set${epcr.vitals.length === 1 ? '' : 's'}` : ''}</div>
    </button>
  );
}

function CallList({ session }: { session: Session }) {
  const unitId = session.user.unitId;
  rememberList('');
  const mine = unitId ? { assignedUnitId: unitId } : {};
  // Open calls, and the ten latest finished ones: a tablet may hold years of calls.
  const open = useQuery<Incident>('incidents', { selector: { ...mine, status: { $in: [...ACTIVE] } } });
  const finished = useQuery<Incident>('incidents', { selector: { ...mine, status: { $nin: [...ACTIVE] } }, sort: [{ incidentNumber: 'desc' }], limit: 10 });
  const incidents = open && finished ? [...open, ...finished] : undefined;
  const shown = (incidents ?? []).map((i) => i.doc.id);
  const reportsOfCalls = useQuery<Epcr>('epcrs', incidents ? { selector: { ...(unitId ? { unitId } : {}), incidentId: { $in: shown } } } : undefined, [shown.join()]);
  // Every report not locked yet, wherever it belongs: unfinished work is never hidden.
  const unlocked = useQuery<Epcr>('epcrs', { selector: { ...(unitId ? { unitId } : {}), lockedAt: { $exists: false } } });
  const action = useAction();
  if (!incidents || !reportsOfCalls || !unlocked) return <p>Loading…</p>;
  const epcrs = [...new Map([...reportsOfCalls, ...unlocked].map((v) => [v.doc.id, v])).values()];
  markReady();
  const calls = [...incidents].sort((a, b) => Number(isCurrent(b.doc)) - Number(isCurrent(a.doc)) || b.doc.incidentNumber.localeCompare(a.doc.incidentNumber));
  const currentCount = calls.filter((c) => isCurrent(c.doc)).length;
  const byIncident = new Map<string, typeof epcrs>();
  for (const view of epcrs) {
    const key = view.doc.incidentId ?? '';
    byIncident.set(key, [...(byIncident.get(key) ?? []), view]);
  }
  const known = new Set(shown);
  const loose = epcrs.filter((v) => !v.doc.incidentId || !known.has(v.doc.incidentId));
  return (
    <div class="split" style="grid-template-columns:minmax(320px,2fr) minmax(260px,1fr)">
      <section aria-labelledby="calls-title">
        <h2 id="calls-title">Calls for {unitId ? `unit ${unitId}` : 'your unit'}</h2>
        <p class="meta">{currentCount} open{calls.length > currentCount ? `, latest ${calls.length - currentCount} finished` : ''}.</p>
        {calls.length === 0 && <p class="empty">No calls assigned. New assignments appear here by themselves.</p>}
        <ul class="list" data-testid="call-list">
          {calls.map(({ doc: incident, badge }) => (
            <li key={incident.id} class="card" data-testid="call" data-id={incident.id} data-current={String(isCurrent(incident))}>
              <div class="row" style="justify-content:space-between">
                <h3>Call {incident.incidentNumber}</h3>
                <span class="row">{incident.priority && <span class={`tag ${priorityClass(incident.priority)}`}>{priorityText(incident.priority)}</span>}<Badge badge={badge} /></span>
              </div>
              <div>{incident.complaint ?? 'No complaint given'}</div>
              <div class="meta">{[incident.address?.street, incident.address?.city].filter(Boolean).join(', ') || 'No address'} · {isCurrent(incident) ? incident.status : incident.timeline?.backInService && ACTIVE.has(incident.status) ? 'finished (back in service)' : incident.status}</div>
              <ul class="list" style="margin-top:8px">
                {(byIncident.get(incident.id) ?? []).map((view) => <li key={view.doc.id}><ReportLink view={view} /></li>)}
              </ul>
              {!(byIncident.get(incident.id) ?? []).some((v) => !v.doc.addendumOf) && (
                <button class="primary" style="margin-top:8px" onClick={() => void action.run(() => startReport(session, incident).then((id) => go(`epcr/${id}`)), {}, incident.id)}>
                  Start report
                </button>
              )}
              <ActionError action={action} at={incident.id} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="other-title">
        <h2 id="other-title">Other reports</h2>
        <ul class="list">{loose.map((view) => <li key={view.doc.id}><ReportLink view={view} /></li>)}</ul>
        {loose.length === 0 && <p class="empty">None.</p>}
        <p class="meta">Locked reports and older calls' reports are in the <a href="#/history" data-testid="history-link">report history</a>.</p>
        <button style="margin-top:12px" onClick={() => {
          const id = uuid();
          void action.run(() => write.insert('epcrs', { id, tenantId: session.user.tenantId, status: 'draft', unitId: unitId ?? 'unknown' }).then(() => go(`epcr/${id}`)), {}, 'new');
        }}>New report without a call</button>
        <ActionError action={action} at="new" />
      </section>
    </div>
  );
}

function CrewApp({ session }: { session: Session }) {
  const [section, id] = route.value.split('/');
  return (
    <AppShell title="Crew ePCR" nav={[{ path: '', label: 'Calls and reports' }, { path: 'history', label: 'Report history' }]}>
      {section === 'epcr' && id ? <EpcrForm id={id} session={session} />
        : section === 'history' ? <ReportHistory session={session} /> : <CallList session={session} />}
    </AppShell>
  );
}

void boot({ roles: ['crew'], title: 'Crew ePCR', render: (session) => <CrewApp session={session} /> });
