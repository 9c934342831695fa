/**
 * Technician (phone): assigned jobs, their details and status changes, all offline.
 */
import type { Job, Ticket } from '../../../shared/schemas/index.ts';
import { useEffect, useState } from 'preact/hooks';
import { ActionError, useAction, type Action } from '../../ui/action.tsx';
import { flushAll, invalidDrafts, journalReplayed, onJournalChange } from '../../ui/autosave.ts';
import { boot } from '../../ui/boot.tsx';
import { AppShell, Badge, go, markReady, route, TextField } from '../../ui/components.tsx';
import { pathName, recordField } from '../../ui/record-field.ts';
import { useDoc, useQuery, write } from '../../ui/db.ts';
import type { Session } from '../../session/identity.ts';
import { clockOf, offsetDateTime } from '../../ui/time.ts';
import { MapTools } from '../../ui/map-tools.tsx';

type JobStatus = NonNullable<Job['status']>;
const STATUS_TEXT: Record<string, string> = {
  unassigned: 'Unassigned', assigned: 'Assigned', en_route: 'En route', on_site: 'On site', completed: 'Completed', offline: 'Offline',
};
const ORDER: Record<string, number> = { on_site: 0, en_route: 1, assigned: 2, offline: 3, unassigned: 4, completed: 5 };

function address(job: Job): string {
  const a = job.serviceAddress;
  return [a?.street, a?.apartment, a?.city, a?.zip].filter(Boolean).join(', ') || 'No address';
}

function JobList({ session }: { session: Session }) {
  const jobs = useQuery<Job>('jobs', session.user.technicianId ? { selector: { assigneeId: session.user.technicianId } } : {});
  if (!jobs) return <p>Loading…</p>;
  markReady();
  const sorted = [...jobs].sort((a, b) => (ORDER[a.doc.status] ?? 9) - (ORDER[b.doc.status] ?? 9));
  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">My jobs</h2>
      {sorted.length === 0 && <p class="empty">No jobs assigned. New jobs appear here by themselves.</p>}
      <ul class="list" data-testid="job-list">
        {sorted.map(({ doc: job, badge }) => (
          <li key={job.id}>
            <button class="card" onClick={() => go(`job/${job.id}`)} data-testid="job" data-id={job.id} data-status={job.status}>
              <div class="row" style="justify-content:space-between">
                <strong>{job.customer?.name ?? 'Customer'} — {job.kind ?? 'job'}</strong>
                <Badge badge={badge} />
              </div>
              <div>{address(job)}</div>
              <div class="meta">{STATUS_TEXT[job.status] ?? job.status}{job.statusAt ? ` since ${clockOf(job.statusAt)}` : ''}{job.orderNumber ? ` · order ${job.orderNumber}` : ''}</div>
            </button>
          </li>
        ))}
      </ul>
      <h2 id="jobs-map-title">Map</h2>
      <MapTools testId="tech-map" label={`Map of ${sorted.filter(({ doc }) => doc.location).length} jobs`}
        markers={sorted.filter(({ doc }) => doc.location).map(({ doc }) => ({ id: doc.id, lat: doc.location!.lat, lng: doc.location!.lng, label: `${doc.customer?.name ?? 'Job'} (${STATUS_TEXT[doc.status] ?? doc.status})`, kind: 'job' as const, status: doc.status }))} />
    </section>
  );
}

function JobDetail({ id }: { id: string }) {
  const view = useDoc<Job>('jobs', id);
  const ticket = useDoc<Ticket>('tickets', view?.doc.ticketId);
  const action = useAction();
  if (view === undefined) return <p>Loading…</p>;
  if (view === null) return <div class="card"><p>This job is not on this phone.</p><button onClick={() => go('')}>Back</button></div>;
  markReady();
  const job = view.doc;
  const done = job.status === 'completed';
  const setStatus = async (status: JobStatus) => {
    await flushAll();
    await write.mutate('jobs', id, [{ op: 'set', path: ['status'], value: status }, { op: 'set', path: ['statusAt'], value: offsetDateTime() }]);
  };
  return (
    <article aria-labelledby="job-title" data-testid="job-detail" data-id={id}>
      <div class="row" style="justify-content:space-between">
        <h2 id="job-title" style="margin:0">{job.customer?.name ?? 'Customer'}</h2>
        <Badge badge={view.badge} />
      </div>
      <p data-testid="job-status" data-status={job.status}><strong>{STATUS_TEXT[job.status] ?? job.status}</strong>{job.statusAt ? ` since ${clockOf(job.statusAt)}` : ''}</p>
      <dl class="kv card">
        <dt>Address</dt><dd>{address(job)}</dd>
        {job.customer?.phone && <><dt>Phone</dt><dd><a href={`tel:${job.customer.phone}`}>{job.customer.phone}</a></dd></>}
        {job.orderNumber && <><dt>Order</dt><dd>{job.orderNumber}</dd></>}
        <dt>Kind</dt><dd>{job.kind ?? '—'}</dd>
        <dt>Equipment</dt><dd>{(job.equipmentSerials ?? []).length ? <ul style="margin:0;padding-left:18px">{job.equipmentSerials!.map((s) => <li key={s}><code>{s}</code></li>)}</ul> : '—'}</dd>
      </dl>
      {(job.ticketNotes || ticket?.doc.notes) && (
        <section class="card" style="margin-top:12px"><h3>Ticket notes</h3><p style="white-space:pre-wrap;margin:0">{job.ticketNotes ?? ticket?.doc.notes}</p></section>
      )}
      <div class="status-buttons" role="group" aria-label="Job status" style="margin:16px 0">
        <button class="big" aria-pressed={job.status === 'en_route'} disabled={done} data-testid="job-en_route" {...recordField({ collection: 'jobs', docId: id, path: 'status' }, 'action', { value: 'en_route' })} onClick={() => void action.run(() => setStatus('en_route'), {}, 'status')}>En route</button>
        <button class="big" aria-pressed={job.status === 'on_site'} disabled={done} data-testid="job-on_site" {...recordField({ collection: 'jobs', docId: id, path: 'status' }, 'action', { value: 'on_site' })} onClick={() => void action.run(() => setStatus('on_site'), {}, 'status')}>On site</button>
      </div>
      <ActionError action={action} at="status" />
      <TextField label="Completion notes" collection="jobs" docId={id} path={['notes']} value={job.notes} multiline maxLength={5000} disabled={done} testId="job-notes"
        hint="What was done; saved on the phone as you type." />
      {!done
        ? <CompleteJob id={id} action={action} complete={() => setStatus('completed')} />
        : <p class="card" style="background:var(--info-bg)" data-testid="job-completed">Completed{job.statusAt ? ` at ${clockOf(job.statusAt)}` : ''}.</p>}
      <ActionError action={action} at="complete" />
      <p><button onClick={() => go('')}>Back to jobs</button></p>
    </article>
  );
}

/**
 * "Complete job": refused on the phone while a field of the job holds a draft the form (or the
 * database) refused, naming each field, as the ePCR's Finalize is: otherwise the job would end
 * with the previous text while the screen shows another. Waits for the journal read back at the
 * last open and writes everything typed first.
 */
function CompleteJob({ id, action, complete }: { id: string; action: Action; complete: () => Promise<void> }) {
  const [drafts, setDrafts] = useState(() => invalidDrafts('jobs', id));
  const [refused, setRefused] = useState(false);
  useEffect(() => {
    setDrafts(invalidDrafts('jobs', id));
    return onJournalChange(() => setDrafts(invalidDrafts('jobs', id)));
  }, [id]);
  const press = async () => {
    setRefused(false);
    await action.run(async () => {
      await journalReplayed();
      await flushAll();
      const stuck = invalidDrafts('jobs', id);
      setDrafts(stuck);
      if (stuck.length > 0) return setRefused(true);
      await complete();
    }, {}, 'complete');
  };
  const one = drafts.length === 1;
  return (
    <>
      {drafts.length > 0 && (
        <div class="hint bad" role={refused ? 'alert' : undefined} data-testid="complete-blocked" data-refused={refused ? 'true' : undefined}>
          <strong>
            {refused ? 'Not completed: ' : ''}{one ? 'a field holds a value that is' : `${drafts.length} fields hold values that are`} not saved.
            Fix or discard {one ? 'it' : 'them'} before completing the job:
          </strong>
          <ul style="margin:4px 0">
            {drafts.map((d) => <li key={pathName(d.path)} data-testid="complete-blocker">{d.label ?? pathName(d.path)}: {d.problem ?? 'not saved'}</li>)}
          </ul>
        </div>
      )}
      <button class="primary big" style="width:100%" data-testid="job-complete" disabled={action.busy}
        {...recordField({ collection: 'jobs', docId: id, path: 'status' }, 'action', { value: 'completed' })} onClick={() => void press()}>Complete job</button>
    </>
  );
}

function TechApp({ session }: { session: Session }) {
  const [section, id] = route.value.split('/');
  return (
    <AppShell title="Jobs" nav={[]}>
      {section === 'job' && id ? <JobDetail id={id} /> : <JobList session={session} />}
    </AppShell>
  );
}

void boot({ roles: ['technician'], title: 'Technician', phone: true, render: (session) => <TechApp session={session} /> });
