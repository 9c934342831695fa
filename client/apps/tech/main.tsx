/**
 * Technician (phone): today's jobs in order, each job's details, navigation, checklist, parts
 * and materials used, time on site, status changes and reopening, all offline. While a job is en
 * route or on site (and only then) the phone reports its position, and says so.
 */
import type { Job, Ticket } from '../../../shared/schemas/index.ts';
import { ACTIVE_JOB_STATUSES, CHECKLIST_RESULTS } from '../../../shared/schemas/jobs.ts';
import { useEffect, useState } from 'preact/hooks';
import { ActionError, useAction, type Action } from '../../ui/action.tsx';
import { flushAll, invalidDrafts, journalReplayed, onJournalChange } from '../../ui/autosave.ts';
import { boot } from '../../ui/boot.tsx';
import { AppShell, Badge, go, markReady, NumberField, route, SelectField, TextField } from '../../ui/components.tsx';
import { itemId } from '../../ui/ids.ts';
import { pathName, recordField } from '../../ui/record-field.ts';
import { useDoc, useQuery, write } from '../../ui/db.ts';
import type { Session } from '../../session/identity.ts';
import { clockOf, offsetDateTime } from '../../ui/time.ts';
import { AttachmentList, JOB_PHOTOS, PhotoCapture, SignatureCapture, type AttachmentItem } from '../../ui/attachments/capture.tsx';
import { gpsRecorder, gpsState, stopGpsRecorder } from '../mdt/gps.ts';
import { MapTools } from '../../ui/map-tools.tsx';

type JobStatus = NonNullable<Job['status']>;
const STATUS_TEXT: Record<string, string> = {
  unassigned: 'Unassigned', assigned: 'Assigned', en_route: 'En route', on_site: 'On site', left_site: 'Left site', completed: 'Completed', offline: 'Offline',
};
const ORDER: Record<string, number> = { on_site: 0, en_route: 1, left_site: 2, assigned: 3, offline: 4, unassigned: 5, completed: 6 };
const ACTIVE: ReadonlySet<string> = new Set(ACTIVE_JOB_STATUSES);
const RESULT_TEXT: Record<(typeof CHECKLIST_RESULTS)[number], string> = { done: 'Done', not_done: 'Not done', not_applicable: 'Not applicable' };
const CHECKLIST_OPTIONS = CHECKLIST_RESULTS.map((r) => [r, RESULT_TEXT[r]] as const);

/** A navigation link for the site: `geo:` opens the phone's maps app; the web link works everywhere. */
export function navigationLinks(job: Pick<Job, 'serviceAddress' | 'location'>): { geo?: string; web?: string } {
  const a = job.serviceAddress;
  const text = [a?.street, a?.city, a?.state, a?.zip].filter(Boolean).join(', ');
  const loc = job.location;
  if (!loc && !text) return {};
  const destination = loc ? `${loc.lat},${loc.lng}` : text;
  return {
    geo: loc ? `geo:${loc.lat},${loc.lng}?q=${encodeURIComponent(`${loc.lat},${loc.lng}${text ? `(${text})` : ''}`)}` : `geo:0,0?q=${encodeURIComponent(text)}`,
    web: `https://www.google.com/maps/dir/?api=1&destination=${encodeURIComponent(destination)}`,
  };
}

/** Whether an offset date-time is on today's date where the phone is. */
function isToday(at: string | undefined): boolean {
  if (!at) return false;
  const d = new Date(at);
  const now = new Date();
  return d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
}

/** Minutes on site over the visits: each arrival to its departure (an open visit counts to now). */
export function minutesOnSite(visits: Job['visits'], now = Date.now()): number {
  let ms = 0;
  for (const v of visits ?? []) {
    const from = Date.parse(v.arrivedAt);
    const to = v.departedAt ? Date.parse(v.departedAt) : now;
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) ms += to - from;
  }
  return Math.round(ms / 60_000);
}

function address(job: Job): string {
  const a = job.serviceAddress;
  return [a?.street, a?.apartment, a?.city, a?.zip].filter(Boolean).join(', ') || 'No address';
}

function JobList({ session }: { session: Session }) {
  const jobs = useQuery<Job>('jobs', session.user.technicianId ? { selector: { assigneeId: session.user.technicianId } } : {});
  if (!jobs) return <p>Loading…</p>;
  markReady();
  // Today's work in the order it is done: the job in hand, then the ones waiting (oldest assignment
  // first); below, what was completed today. Older completed jobs are not shown.
  const open = jobs.filter((j) => j.doc.status !== 'completed')
    .sort((a, b) => (ORDER[a.doc.status] ?? 9) - (ORDER[b.doc.status] ?? 9) || (a.doc.statusAt ?? '').localeCompare(b.doc.statusAt ?? ''));
  const doneToday = jobs.filter((j) => j.doc.status === 'completed' && isToday(j.doc.statusAt));
  const sorted = [...open, ...doneToday];
  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Today</h2>
      <p class="meta" data-testid="day-summary">{open.length} to do · {doneToday.length} done today</p>
      {sorted.length === 0 && <p class="empty">No jobs assigned. New jobs appear here by themselves.</p>}
      <ol class="list" data-testid="job-list" style="padding-left:0;list-style:none">
        {sorted.map(({ doc: job, badge }, index) => (
          <li key={job.id} data-testid="day-entry" data-order={index + 1}>
            <button class="card" onClick={() => go(`job/${job.id}`)} data-testid="job" data-id={job.id} data-status={job.status}>
              <div class="row" style="justify-content:space-between">
                <strong>{job.customer?.name ?? 'Customer'} — {job.kind ?? 'job'}</strong>
                <Badge badge={badge} />
              </div>
              <div>{job.status !== 'completed' ? `${index + 1}. ` : ''}{address(job)}</div>
              <div class="meta">{STATUS_TEXT[job.status] ?? job.status}{job.statusAt ? ` since ${clockOf(job.statusAt)}` : ''}{job.orderNumber ? ` · order ${job.orderNumber}` : ''}</div>
            </button>
          </li>
        ))}
      </ol>
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
  const [reason, setReason] = useState('');
  const [reasonProblem, setReasonProblem] = useState<string>();
  if (view === undefined) return <p>Loading…</p>;
  if (view === null) return <div class="card"><p>This job is not on this phone.</p><button onClick={() => go('')}>Back</button></div>;
  markReady();
  const job = view.doc;
  const done = job.status === 'completed';
  const openVisit = (job.visits ?? []).find((v) => !v.departedAt);
  const now = offsetDateTime;
  const statusOps = (status: JobStatus, at: string) => [{ op: 'set' as const, path: ['status'], value: status }, { op: 'set' as const, path: ['statusAt'], value: at }];
  // The arrival and departure times are the phone's clock with its offset (as statusAt); the
  // visits are kept in the order they happened on the phone, and the server orders the writes.
  const departOps = (at: string) => (openVisit ? [{ op: 'set' as const, path: ['visits', { id: openVisit.id }, 'departedAt'], value: at }] : []);
  const setStatus = async (status: JobStatus) => {
    await flushAll();
    const at = now();
    await write.mutate('jobs', id, statusOps(status, at));
  };
  const arrive = async () => {
    await flushAll();
    const at = now();
    await write.mutate('jobs', id, [...statusOps('on_site', at), ...(openVisit ? [] : [{ op: 'append' as const, path: ['visits'], value: { id: itemId('v'), arrivedAt: at } }])]);
  };
  const leave = async () => {
    await flushAll();
    const at = now();
    await write.mutate('jobs', id, [...statusOps('left_site', at), ...departOps(at)]);
  };
  const complete = async () => {
    const at = now();
    await write.mutate('jobs', id, [...statusOps('completed', at), ...departOps(at)]);
  };
  const reopen = async () => {
    const text = reason.trim();
    if (!text) return setReasonProblem('Say why the job is reopened (the office and the ticket see it).');
    if (text.length > 500) return setReasonProblem(`At most 500 characters; this has ${text.length}. Shorten it (nothing was cut).`);
    setReasonProblem(undefined);
    const at = now();
    const ok = await action.run(() => write.mutate('jobs', id, [...statusOps('assigned', at), { op: 'set', path: ['reopenReason'], value: text }, { op: 'set', path: ['reopenedAt'], value: at }]), {}, 'reopen');
    if (ok) setReason('');
  };
  const addPart = () => void action.run(() => write.mutate('jobs', id, [{ op: 'append', path: ['parts'], value: { id: itemId('p'), quantity: 1 } }]), {}, 'parts');
  const removePart = (partId: string) => void action.run(() => write.mutate('jobs', id, [{ op: 'removeItem', path: ['parts'], itemId: partId }]), {}, 'parts');
  const links = navigationLinks(job);
  const onSite = minutesOnSite(job.visits);
  return (
    <article aria-labelledby="job-title" data-testid="job-detail" data-id={id}>
      <div class="row" style="justify-content:space-between">
        <h2 id="job-title" style="margin:0">{job.customer?.name ?? 'Customer'}</h2>
        <Badge badge={view.badge} />
      </div>
      <p data-testid="job-status" data-status={job.status}><strong>{STATUS_TEXT[job.status] ?? job.status}</strong>{job.statusAt ? ` since ${clockOf(job.statusAt)}` : ''}</p>
      <dl class="kv card">
        <dt>Address</dt><dd>{address(job)}</dd>
        {(links.geo || links.web) && <><dt>Navigate</dt><dd>
          {links.geo && <a href={links.geo} data-testid="navigate-geo">Open in maps app</a>}
          {links.web && <>{' · '}<a href={links.web} target="_blank" rel="noopener noreferrer" data-testid="navigate-web">Directions (web)</a></>}
        </dd></>}
        {job.customer?.phone && <><dt>Phone</dt><dd><a href={`tel:${job.customer.phone}`}>{job.customer.phone}</a></dd></>}
        {job.orderNumber && <><dt>Order</dt><dd>{job.orderNumber}</dd></>}
        <dt>Kind</dt><dd>{job.kind ?? '—'}</dd>
        <dt>Equipment</dt><dd>{(job.equipmentSerials ?? []).length ? <ul style="margin:0;padding-left:18px">{job.equipmentSerials!.map((s) => <li key={s}><code>{s}</code></li>)}</ul> : '—'}</dd>
        <dt>Time on site</dt><dd data-testid="time-on-site" data-minutes={onSite}>
          {(job.visits ?? []).length === 0 ? 'not arrived yet' : <>
            {onSite} min
            <ul style="margin:0;padding-left:18px">{job.visits!.map((v) => <li key={v.id} data-testid="visit">arrived {clockOf(v.arrivedAt)}{v.departedAt ? `, left ${clockOf(v.departedAt)}` : ', on site now'}</li>)}</ul>
          </>}
        </dd>
      </dl>
      {job.reopenReason && <p class="card" data-testid="reopen-note">Reopened{job.reopenedAt ? ` at ${clockOf(job.reopenedAt)}` : ''}: {job.reopenReason}</p>}
      {(job.ticketNotes || ticket?.doc.notes) && (
        <section class="card" style="margin-top:12px"><h3>Ticket notes</h3><p style="white-space:pre-wrap;margin:0">{job.ticketNotes ?? ticket?.doc.notes}</p></section>
      )}
      <div class="status-buttons" role="group" aria-label="Job status" style="margin:16px 0">
        <button class="big" aria-pressed={job.status === 'en_route'} disabled={done} data-testid="job-en_route" {...recordField({ collection: 'jobs', docId: id, path: 'status' }, 'action', { value: 'en_route' })} onClick={() => void action.run(() => setStatus('en_route'), {}, 'status')}>En route</button>
        <button class="big" aria-pressed={job.status === 'on_site'} disabled={done} data-testid="job-on_site" {...recordField({ collection: 'jobs', docId: id, path: 'status' }, 'action', { value: 'on_site' })} onClick={() => void action.run(arrive, {}, 'status')}>Arrived on site</button>
        <button class="big" aria-pressed={job.status === 'left_site'} disabled={done} data-testid="job-left_site" {...recordField({ collection: 'jobs', docId: id, path: 'status' }, 'action', { value: 'left_site' })} onClick={() => void action.run(leave, {}, 'status')}>Left site (back later)</button>
      </div>
      <ActionError action={action} at="status" />
      {(job.checklist ?? []).length > 0 && (
        <section class="card" aria-labelledby="checklist-title" data-testid="checklist" style="margin-bottom:12px">
          <h3 id="checklist-title">Checklist</h3>
          {job.checklist!.map((item) => (
            <SelectField key={item.id} label={item.label} collection="jobs" docId={id} path={['checklist', { id: item.id }, 'result']} value={item.result}
              options={CHECKLIST_OPTIONS} disabled={done} testId={`checklist-${item.id}`} />
          ))}
        </section>
      )}
      <section class="card" aria-labelledby="parts-title" data-testid="parts" style="margin-bottom:12px">
        <h3 id="parts-title">Parts and materials used</h3>
        {(job.parts ?? []).length === 0 && <p class="empty">None recorded.</p>}
        {(job.parts ?? []).map((part, n) => (
          <fieldset key={part.id} data-testid="part" data-id={part.id} style="border:0;padding:0;margin:0 0 8px">
            <legend class="meta">Part {n + 1}</legend>
            <TextField label="Part or material" collection="jobs" docId={id} path={['parts', { id: part.id }, 'name']} value={part.name} maxLength={200} disabled={done} testId="part-name" />
            <TextField label="Serial number" collection="jobs" docId={id} path={['parts', { id: part.id }, 'serial']} value={part.serial} maxLength={64} disabled={done} testId="part-serial"
              hint="As printed on the part; leave empty for materials without one." />
            <NumberField label="Quantity" collection="jobs" docId={id} path={['parts', { id: part.id }, 'quantity']} value={part.quantity} min={1} max={10000} integer disabled={done} testId="part-quantity" />
            {!done && <button type="button" onClick={() => removePart(part.id)}>Remove part {n + 1}</button>}
          </fieldset>
        ))}
        {!done && <button type="button" data-testid="add-part" onClick={addPart}>Add part or material</button>}
        <ActionError action={action} at="parts" />
      </section>
      <TextField label="Completion notes" collection="jobs" docId={id} path={['notes']} value={job.notes} multiline maxLength={5000} disabled={done} testId="job-notes"
        hint="What was done; saved on the phone as you type." />
      <section aria-labelledby="job-attachments-title" data-testid="job-attachments">
        <h3 id="job-attachments-title">Photos and the customer's signature</h3>
        <PhotoCapture collection="jobs" docId={id} purposes={JOB_PHOTOS} nemsis={false} disabled={done} />
        <SignatureCapture collection="jobs" docId={id} nemsis={false} disabled={done} />
        <AttachmentList collection="jobs" docId={id} items={(job as { attachments?: AttachmentItem[] }).attachments} locked={done} />
      </section>
      {!done
        ? <CompleteJob id={id} action={action} complete={complete} />
        : (
          <>
            <p class="card" style="background:var(--info-bg)" data-testid="job-completed">Completed{job.statusAt ? ` at ${clockOf(job.statusAt)}` : ''}.</p>
            <section class="card" aria-labelledby="reopen-title">
              <h3 id="reopen-title">Reopen this job</h3>
              <div class="field">
                <label for="reopen-reason">Why is it reopened?</label>
                <textarea id="reopen-reason" rows={2} value={reason} data-testid="reopen-reason"
                  onInput={(e) => { setReason(e.currentTarget.value); setReasonProblem(undefined); }}
                  aria-invalid={reasonProblem ? true : undefined} aria-describedby={reasonProblem ? 'reopen-reason-problem' : undefined}
                  {...recordField({ collection: 'jobs', docId: id, path: 'reopenReason' }, 'text', { maxLength: 500, required: true })} />
                {reasonProblem && <div class="hint bad" id="reopen-reason-problem" role="alert">{reasonProblem}</div>}
              </div>
              <button class="big" data-testid="job-reopen" disabled={action.busy} onClick={() => void reopen()}>Reopen job</button>
              <ActionError action={action} at="reopen" />
            </section>
          </>
        )}
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
    return onJournalChange(() => setDrafts(invalidDrafts('jobs', id)), { collection: 'jobs', id });
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

/**
 * The phone reports its position while one of the technician's jobs is en route or on site, and
 * only then (assignment and the office's map use the last one); the screen says which it is.
 * Positions go where the MDT's go: gps_points, as `sourceType: technician`.
 */
function PositionSharing({ session }: { session: Session }) {
  const technicianId = session.user.technicianId;
  const jobs = useQuery<Job>('jobs', technicianId ? { selector: { assigneeId: technicianId } } : undefined, [technicianId]);
  const active = (jobs ?? []).filter((j) => ACTIVE.has(j.doc.status));
  const sharing = Boolean(technicianId) && active.length > 0;
  useEffect(() => {
    if (!sharing || !technicianId) return;
    const recorder = gpsRecorder({ tenantId: session.user.tenantId, sourceType: 'technician', sourceId: technicianId, userId: session.user.userId, deviceId: session.user.deviceId });
    const detach = recorder.attach({ bulkInsert: (docs) => write.bulkInsert('gps_points', docs) });
    return () => {
      detach();
      stopGpsRecorder();
    };
  }, [sharing, technicianId]);
  const gps = gpsState.value;
  if (!jobs) return null;
  return (
    <p class={sharing ? 'banner' : 'meta'} role="status" data-testid="position-sharing" data-state={sharing ? 'on' : 'off'} data-recorded={gps.recorded} style="margin:0 0 12px">
      {sharing
        ? <>Your location is shared with the office while job {active[0]!.doc.orderNumber ?? active[0]!.doc.customer?.name ?? ''} is {STATUS_TEXT[active[0]!.doc.status]?.toLowerCase()}{gps.message ? ` (${gps.message})` : ''}. It stops when no job is en route or on site.</>
        : 'Your location is not shared: it is only while a job is en route or on site.'}
    </p>
  );
}

function TechApp({ session }: { session: Session }) {
  const [section, id] = route.value.split('/');
  return (
    <AppShell title="Jobs" nav={[]}>
      <PositionSharing session={session} />
      {section === 'job' && id ? <JobDetail id={id} /> : <JobList session={session} />}
    </AppShell>
  );
}

void boot({ roles: ['technician'], title: 'Technician', phone: true, render: (session) => <TechApp session={session} /> });
