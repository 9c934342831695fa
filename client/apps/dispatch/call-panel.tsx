/**
 * The selected call, beside the board: the recommended unit (nearest free unit of the needed
 * capability, with its distance; one click assigns it), the call's edit form, the notes dispatch
 * sends the crew (and whether the crew read them), and the call's timeline as the server recorded
 * it (statuses, acknowledgement, unit statuses, notes, edits; server times, with the MDT's own
 * clock where it reported one).
 */
import { useState } from 'preact/hooks';
import { DISPATCH_NOTE_MAX } from '../../../shared/schemas/incidents.ts';
import type { Incident } from '../../../shared/schemas/index.ts';
import { ActionError, useAction } from '../../ui/action.tsx';
import { dispatchPriorityOptions } from '../../ui/dispatch-priority.ts';
import { write } from '../../ui/db.ts';
import { uuid } from '../../ui/ids.ts';
import { recordField } from '../../ui/record-field.ts';
import type { Session } from '../../session/identity.ts';
import { offsetDateTime } from '../../ui/time.ts';
import { capabilityOptions, distanceText, recommendUnits, type UnitPosition } from './call-board.ts';
import { NEW_INCIDENT_MAX, NEW_INCIDENT_PATHS, newIncidentProblems, ZIP, type NewIncidentForm } from './incident-form.ts';

type HistoryEntry = NonNullable<Incident['history']>[number];
type Ops = Parameters<typeof write.mutate>[2];

const STATUS_WORDS: Record<string, string> = {
  new: 'New', dispatched: 'Dispatched', active: 'Active', transporting: 'Transporting', closed: 'Closed', cancelled: 'Cancelled',
  acknowledged: 'Acknowledged', en_route: 'En route', staged: 'Staged', on_scene: 'On scene', at_destination: 'At destination',
  available: 'Available', at_home: 'At station', out_of_service: 'Out of service',
};
const ACK_WORDS: Record<string, string> = { acknowledge: 'the MDT\'s Acknowledge button' };

/** How an acknowledgement was given, in words. */
export function acknowledgedVia(via: string): string {
  return ACK_WORDS[via] ?? `status ${STATUS_WORDS[via] ?? via}`;
}

/** A server time as this console's wall clock (HH:MM:SS). */
export function timeOfDay(at: string | number | undefined): string {
  if (at === undefined) return '';
  const t = typeof at === 'number' ? at : Date.parse(at);
  return Number.isNaN(t) ? '' : new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

const deviceClock = (at: string | undefined) => (at ? ` (MDT clock ${at.slice(11, 19)})` : '');

function entryText(e: HistoryEntry, notes: readonly NonNullable<Incident['dispatchNotes']>[number][]): string {
  switch (e.kind) {
    case 'received': return 'Call received';
    case 'assigned': return `${e.unitId} assigned`;
    case 'status': return `Status ${STATUS_WORDS[e.status ?? ''] ?? e.status}${e.text ? `: ${e.text}` : ''}`;
    case 'acknowledged': return `${e.unitId} acknowledged, by ${acknowledgedVia(e.via ?? 'acknowledge')}${deviceClock(e.deviceAt)}`;
    case 'unit-status': return `${e.unitId}: ${STATUS_WORDS[e.status ?? ''] ?? e.status}${deviceClock(e.deviceAt)}`;
    case 'note': return `Note to the crew: ${e.text ?? ''}`;
    case 'notes-read': return `${e.unitId} read the note "${notes.find((n) => n.id === e.noteId)?.text.slice(0, 60) ?? e.noteId}"`;
    case 'edited': return `Edited: ${e.text ?? ''}`;
    default: return e.kind;
  }
}

export function CallPanel({ incident, units, session, assign }: {
  incident: Incident; units: readonly UnitPosition[]; session: Session; assign: (incident: Incident, callSign: string) => Promise<void>;
}) {
  const assigning = useAction();
  const recommendations = recommendUnits(incident, units).slice(0, 3);
  const needed = incident.requiredCapability ? capabilityOptions().find(([c]) => c === incident.requiredCapability)?.[1] ?? incident.requiredCapability : undefined;
  const history = incident.history ?? [];
  const notes = incident.dispatchNotes ?? [];
  const readBy = (noteId: string) => history.filter((e) => e.kind === 'notes-read' && e.noteId === noteId);
  return (
    <section class="card" aria-labelledby="call-panel-title" data-testid="call-panel" data-incident={incident.incidentNumber} style="margin-top:16px">
      <h2 id="call-panel-title">Call {incident.incidentNumber}</h2>

      <section aria-labelledby="recommend-title" data-testid="recommendation">
        <h3 id="recommend-title">Recommended unit{needed ? ` (needs ${needed})` : ''}</h3>
        {!incident.location && <p class="meta">The call has no location: units are not ranked by distance.</p>}
        {recommendations.length === 0 ? <p class="empty" data-testid="no-recommendation">No free unit{needed ? ` with ${needed}` : ''}.</p> : (
          <ol class="plain">
            {recommendations.map((r, i) => (
              <li key={r.callSign} data-testid="recommended-unit" data-unit={r.callSign} data-distance-m={r.distanceM === undefined ? '' : String(Math.round(r.distanceM))}>
                <strong>{r.callSign}</strong> {i === 0 && <span class="tag">nearest</span>} {distanceText(r.distanceM)}
                {r.capability && <span class="meta"> · {capabilityOptions().find(([c]) => c === r.capability)?.[1] ?? r.capability}</span>}
                {' '}{incident.assignedUnitId === r.callSign ? <span class="meta">assigned</span> : (
                  <button class={i === 0 ? 'primary' : ''} data-testid="assign-recommended" disabled={assigning.busy}
                    onClick={() => void assigning.run(() => assign(incident, r.callSign))}>Assign {r.callSign}</button>
                )}
              </li>
            ))}
          </ol>
        )}
        <ActionError action={assigning} testId="assign-recommended-error" />
      </section>

      <EditCall incident={incident} />

      <section aria-labelledby="notes-title" data-testid="dispatch-notes">
        <h3 id="notes-title">Notes to the crew</h3>
        {notes.length === 0 ? <p class="empty">No notes yet.</p> : (
          <ul class="plain">{notes.map((n) => {
            const read = readBy(n.id);
            return (
              <li key={n.id} data-testid="dispatch-note" data-read={read.length > 0 ? 'true' : 'false'}>
                {n.text} <span class="meta">{n.by ? `— ${n.by}` : ''}{read.length > 0 ? ` · read by ${read.map((e) => `${e.unitId} at ${timeOfDay(e.at)}`).join(', ')}` : ' · not read yet'}</span>
              </li>
            );
          })}</ul>
        )}
        <NoteForm incident={incident} session={session} />
      </section>

      <section aria-labelledby="timeline-title" data-testid="call-timeline">
        <h3 id="timeline-title">Timeline</h3>
        <p class="meta">Times are the server's, when it recorded each change.</p>
        {history.length === 0 ? <p class="empty">Nothing recorded yet.</p> : (
          <ol class="plain">{history.map((e) => (
            <li key={e.id} data-testid="timeline-entry" data-kind={e.kind}><time dateTime={e.at}>{timeOfDay(e.at)}</time> {entryText(e, notes)}{e.by && e.kind !== 'unit-status' && e.kind !== 'notes-read' && e.kind !== 'acknowledged' ? <span class="meta"> — {e.by}</span> : null}</li>
          ))}</ol>
        )}
      </section>
    </section>
  );
}

function NoteForm({ incident, session }: { incident: Incident; session: Session }) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const sending = useAction();
  const id = `note-${incident.id}`;
  const send = async (event: Event) => {
    event.preventDefault();
    const typed = text.trim();
    // Refused, never cut: the note stored is the one typed.
    if (!typed) return setProblem('Write the note first.');
    if (typed.length > DISPATCH_NOTE_MAX) return setProblem(`At most ${DISPATCH_NOTE_MAX} characters; this has ${typed.length}. Shorten it (nothing was cut).`);
    setProblem(undefined);
    const note = { id: uuid(), text: typed, by: (session.user.displayName ?? session.user.userId).slice(0, 200), at: offsetDateTime() };
    if (await sending.run(() => write.mutate('incidents', incident.id, [{ op: 'append', path: ['dispatchNotes'], value: note }]))) setText('');
  };
  return (
    <form onSubmit={(e) => void send(e)} data-testid="note-form" noValidate>
      <div class="field"><label for={id}>New note to the crew of {incident.assignedUnitId ?? 'the call'}</label>
        <textarea id={id} rows={2} value={text} onInput={(e) => { setText(e.currentTarget.value); if (problem) setProblem(undefined); }}
          aria-invalid={problem ? true : undefined} aria-describedby={problem ? `${id}-problem` : undefined}
          {...recordField({ collection: 'incidents', docId: incident.id, path: 'dispatchNotes' }, 'text', { maxLength: DISPATCH_NOTE_MAX, required: true })} />
        {problem && <div class="hint bad" id={`${id}-problem`} role="alert">{problem}</div>}</div>
      <ActionError action={sending} testId="note-error" />
      <button type="submit" data-testid="send-note" disabled={sending.busy}>Send note</button>
    </form>
  );
}

type EditForm = Omit<NewIncidentForm, 'unit'>;
const EDIT_KEYS = ['complaint', 'priority', 'capability', 'street', 'city', 'zip', 'lat', 'lng'] as const;

function formOf(incident: Incident): EditForm {
  return {
    incidentNumber: incident.incidentNumber, complaint: incident.complaint ?? '', priority: incident.priority ?? '', capability: incident.requiredCapability ?? '',
    street: incident.address?.street ?? '', city: incident.address?.city ?? '', zip: incident.address?.zip ?? '',
    lat: incident.location ? String(incident.location.lat) : '', lng: incident.location ? String(incident.location.lng) : '',
  };
}

/**
 * The ops that make the call hold the form's values: only fields the dispatcher touched and that
 * differ from the call as it is now, so a field another console changed meanwhile is not written back.
 */
export function editOps(incident: Incident, form: EditForm, touched: ReadonlySet<keyof EditForm>): Ops {
  const was = formOf(incident);
  const ops: Ops = [];
  const text = (key: keyof EditForm, path: string[]) => {
    if (!touched.has(key) || form[key].trim() === was[key].trim()) return;
    ops.push(form[key].trim() ? { op: 'set', path, value: form[key].trim() } : { op: 'unset', path });
  };
  text('complaint', ['complaint']);
  text('priority', ['priority']);
  text('capability', ['requiredCapability']);
  text('street', ['address', 'street']);
  text('city', ['address', 'city']);
  text('zip', ['address', 'zip']);
  if ((touched.has('lat') || touched.has('lng')) && (form.lat.trim() !== was.lat || form.lng.trim() !== was.lng)) {
    ops.push(form.lat.trim() === '' ? { op: 'unset', path: ['location'] } : { op: 'set', path: ['location'], value: { lat: Number(form.lat), lng: Number(form.lng) } });
  }
  return ops;
}

function EditCall({ incident }: { incident: Incident }) {
  const [form, setForm] = useState<EditForm>(() => formOf(incident));
  const [problems, setProblems] = useState<Partial<Record<keyof EditForm, string>>>({});
  const [saved, setSaved] = useState(false);
  const [touched, setTouched] = useState<ReadonlySet<keyof EditForm>>(new Set());
  const saving = useAction();
  // A field not touched shows the call as it is now (another console may have changed it).
  const current = formOf(incident);
  const shown: EditForm = { ...current, ...Object.fromEntries([...touched].map((key) => [key, form[key]])) };
  const set = (key: keyof EditForm) => (e: Event) => {
    setForm({ ...shown, [key]: (e.currentTarget as HTMLInputElement).value });
    setTouched(new Set([...touched, key]));
    setSaved(false);
    if (problems[key]) setProblems({ ...problems, [key]: undefined });
  };
  const save = async (event: Event) => {
    event.preventDefault();
    const found = newIncidentProblems({ ...shown, unit: '' });
    setProblems(found);
    if (Object.values(found).some(Boolean)) {
      const first = EDIT_KEYS.find((k) => found[k]);
      if (first) document.getElementById(`edit-${incident.id}-${first}`)?.focus();
      return;
    }
    const ops = editOps(incident, shown, touched);
    if (ops.length === 0) return setSaved(true);
    if (await saving.run(() => write.mutate('incidents', incident.id, ops))) {
      setSaved(true);
      // Saved: the fields show the call again (with what was just written), and follow later changes.
      setTouched(new Set());
    }
  };
  const declared = (key: keyof EditForm, kind: 'text' | 'number' | 'select', extra: { min?: number; max?: number; pattern?: RegExp } = {}) =>
    recordField({ collection: 'incidents', docId: incident.id, path: NEW_INCIDENT_PATHS[key] }, kind, { maxLength: NEW_INCIDENT_MAX[key], ...extra });
  const field = (key: keyof EditForm, label: string, kind: 'text' | 'number' = 'text', extra: { min?: number; max?: number; pattern?: RegExp } = {}) => {
    const id = `edit-${incident.id}-${key}`;
    return (
      <div class="field"><label for={id}>{label}</label>
        <input id={id} value={shown[key]} onInput={set(key)} inputMode={kind === 'number' ? 'decimal' : undefined}
          aria-invalid={problems[key] ? true : undefined} aria-describedby={problems[key] ? `${id}-problem` : undefined} {...declared(key, kind, extra)} />
        {problems[key] && <div class="hint bad" id={`${id}-problem`} role="alert">{problems[key]}</div>}</div>
    );
  };
  const select = (key: 'priority' | 'capability', label: string, options: readonly (readonly [string, string])[], empty: string) => (
    <div class="field"><label for={`edit-${incident.id}-${key}`}>{label}</label>
      <select id={`edit-${incident.id}-${key}`} value={shown[key]} onChange={set(key)} {...declared(key, 'select')}>
        <option value="">{empty}</option>
        {/* A CAD's own priority text stays choosable as it came. */}
        {shown[key] && !options.some(([c]) => c === shown[key]) && <option value={shown[key]}>{shown[key]}</option>}
        {options.map(([code, text]) => <option key={code} value={code}>{text}</option>)}
      </select></div>
  );
  return (
    <details data-testid="edit-call">
      <summary>Edit the call</summary>
      <form onSubmit={(e) => void save(e)} noValidate data-testid="edit-call-form">
        <div class="grid">
          {field('complaint', 'Complaint')}
          {select('priority', 'Priority', dispatchPriorityOptions(), '— none —')}
          {select('capability', 'Unit capability needed', capabilityOptions(), '— any unit —')}
          {field('street', 'Street')}
          {field('city', 'City')}
          {field('zip', 'ZIP', 'text', { pattern: ZIP })}
          {field('lat', 'Latitude', 'number', { min: -90, max: 90 })}
          {field('lng', 'Longitude', 'number', { min: -180, max: 180 })}
        </div>
        <ActionError action={saving} testId="edit-call-error" />
        <div class="row"><button class="primary" type="submit" data-testid="save-call" disabled={saving.busy}>Save changes</button>
          {saved && <span role="status" data-testid="call-saved">Saved.</span>}</div>
      </form>
    </details>
  );
}
