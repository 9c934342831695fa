/**
 * MDT (mobile data terminal in the vehicle): unit status, the current assignment with
 * acknowledge and transport completed, GPS batched into gps_points (also while the app is
 * locked, gps.ts), and a small offline map. Every status press is also kept as a status event
 * of its own (status.ts), so statuses pressed out of coverage all arrive, each with its time.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { Incident, Unit, UnitStatusEvent } from '../../../shared/schemas/index.ts';
import { ActionError, useAction } from '../../ui/action.tsx';
import { boot } from '../../ui/boot.tsx';
import { AppShell, Badge, markReady } from '../../ui/components.tsx';
import { priorityClass, priorityText } from '../../ui/dispatch-priority.ts';
import { database, useQuery, write } from '../../ui/db.ts';
import { OfflineMap, type MapMarker } from '../../ui/map.tsx';
import { MapTools } from '../../ui/map-tools.tsx';
import { recordField } from '../../ui/record-field.ts';
import { clock } from '../../ui/runtime.ts';
import type { Session } from '../../session/identity.ts';
import { ago, clockOf, epochOf, offsetDateTime } from '../../ui/time.ts';
import { gpsRecorder, gpsState } from './gps.ts';
import { completeTransport, currentAssignment, recordStatus, unitOps, type UnitStatus } from './status.ts';

const STATUS_BUTTONS: readonly (readonly [UnitStatus, string])[] = [
  ['dispatched', 'Dispatched'], ['en_route', 'En route'], ['on_scene', 'On scene'],
  ['transporting', 'Transporting'], ['at_destination', 'At destination'], ['available', 'Available'],
];
const STATUS_TEXT: Record<string, string> = Object.fromEntries([...STATUS_BUTTONS, ['acknowledged', 'Acknowledged'], ['out_of_service', 'Out of service'], ['staged', 'Staged'], ['at_home', 'At station'], ['cancelled', 'Cancelled']]);

/**
 * Dispatch's notes to the crew on the current call, newest first: those not marked read are
 * marked new, and one press marks them all read (the unit's `readNoteIds`, which dispatch sees
 * in the call's timeline with the server's time).
 */
function CrewNotes({ incident, unit, onRead }: { incident: Incident; unit: Unit | undefined; onRead: (ids: string[]) => void }) {
  const notes = incident.dispatchNotes ?? [];
  if (notes.length === 0) return null;
  const read = new Set(unit?.currentIncidentId === incident.id ? unit.readNoteIds ?? [] : []);
  const unread = notes.filter((n) => !read.has(n.id));
  // What the press writes: every note of the call read (kept with those read before, in order).
  const allRead = [...new Set([...read, ...notes.map((n) => n.id)])].slice(-200);
  return (
    <section aria-labelledby="notes-title" data-testid="crew-notes" data-unread={unread.length} style="margin-top:8px">
      <h3 id="notes-title">Notes from dispatch{unread.length > 0 ? ` (${unread.length} new)` : ''}</h3>
      <ul class="plain">{[...notes].reverse().map((n) => (
        <li key={n.id} data-testid="crew-note" data-read={read.has(n.id) ? 'true' : 'false'}>
          {!read.has(n.id) && <span class="tag p1">New</span>} {n.text}{n.at ? <span class="meta"> · {clockOf(n.at)}</span> : null}
        </li>
      ))}</ul>
      {unread.length > 0 && unit && (
        <button class="big" data-testid="mark-notes-read"
          {...recordField({ collection: 'units', docId: unit.id, path: 'readNoteIds' }, 'action', { value: JSON.stringify(allRead) })}
          onClick={() => onRead(allRead)}>Mark notes read</button>
      )}
    </section>
  );
}

function Mdt({ session }: { session: Session }) {
  const callSign = session.user.unitId;
  const units = useQuery<Unit>('units', callSign ? { selector: { callSign } } : undefined, [callSign]);
  const unitView = units?.[0];
  const unit = unitView?.doc;
  const unitIdRef = useRef<string | undefined>(undefined);
  const action = useAction();
  unitIdRef.current = unit?.id;
  const incidents = useQuery<Incident>('incidents', callSign ? { selector: { assignedUnitId: callSign } } : undefined, [callSign]);
  const track = useQuery<{ id: string; lat: number; lng: number; recordedAt: string }>('gps_points',
    callSign ? { selector: { sourceType: 'unit', sourceId: callSign }, sort: [{ recordedAt: 'desc' }], limit: 300 } : undefined, [callSign]);

  const recentStatuses = useQuery<UnitStatusEvent>('unit_status_events',
    callSign ? { selector: { unitId: callSign }, sort: [{ recordedAt: 'desc' }], limit: 6 } : undefined, [callSign]);

  // The recorder belongs to the page and keeps recording while the app is locked; this screen
  // only lends it the database while it is shown.
  useEffect(() => {
    if (!callSign) return;
    const recorder = gpsRecorder({ tenantId: session.user.tenantId, sourceType: 'unit', sourceId: callSign, userId: session.user.userId, deviceId: session.user.deviceId });
    return recorder.attach({
      bulkInsert: (docs) => write.bulkInsert('gps_points', docs),
      onFlushed: (last) => void unitOps(session, unitIdRef.current, [
        { op: 'set', path: ['lastPosition'], value: { lat: last.lat, lng: last.lng } },
        { op: 'set', path: ['lastPositionAt'], value: offsetDateTime(new Date(last.at)) },
      ]).catch(() => {}),
    });
  }, [callSign]);

  if (!callSign) return <div class="card"><p>This account has no unit. Sign in with a crew account that belongs to a unit to use the MDT.</p></div>;
  if (!units || !incidents) return <p>Loading…</p>;
  markReady();
  const assignment = currentAssignment(unit, incidents.map((i) => i.doc));
  const ended = assignment && (assignment.status === 'closed' || assignment.status === 'cancelled');
  const gps = gpsState.value;
  const now = clock.value;
  const pendingPoints = database().status.value?.pending['gps_points'] ?? 0;
  const markers: MapMarker[] = [];
  const here = gps.last ?? (unit?.lastPosition ? { ...unit.lastPosition } : undefined);
  if (here) markers.push({ id: 'self', lat: here.lat, lng: here.lng, label: callSign, kind: 'self' });
  if (assignment?.location) markers.push({ id: 'dest', lat: assignment.location.lat, lng: assignment.location.lng, label: `Call ${assignment.incidentNumber}`, kind: 'dest' });
  const trackPoints = (track ?? []).map((t) => t.doc).reverse();

  return (
    <div class="split" style="grid-template-columns:minmax(300px,1fr) minmax(300px,1fr)">
      <div>
        <section aria-labelledby="unit-title" class="card" style="margin-bottom:16px">
          <div class="row" style="justify-content:space-between">
            <h2 id="unit-title">Unit {callSign}</h2>
            {unitView && <Badge badge={unitView.badge} />}
          </div>
          <p data-testid="unit-status" data-status={unit?.status ?? ''}>
            Status: <strong>{unit ? STATUS_TEXT[unit.status] ?? unit.status : 'not registered yet'}</strong>
            {unit?.statusAt ? ` since ${clockOf(unit.statusAt)}` : ''}
          </p>
          <div class="status-buttons" role="group" aria-label="Set unit status">
            {STATUS_BUTTONS.map(([status, label]) => (
              <button key={status} class="big" aria-pressed={unit?.status === status} data-testid={`status-${status}`}
                {...recordField({ collection: 'units', docId: unit?.id, path: 'status' }, 'action', { value: status })}
                onClick={() => void action.run(() => recordStatus(session, unit, status, assignment), {}, 'status')}>
                {label}
              </button>
            ))}
          </div>
          <ActionError action={action} at="status" />
          {recentStatuses && recentStatuses.length > 0 && (
            <details data-testid="status-log" style="margin-top:8px">
              <summary>Statuses recorded on this MDT ({recentStatuses.length === 6 ? 'last 6' : recentStatuses.length})</summary>
              <ul class="meta">{recentStatuses.map(({ doc }) => <li key={doc.id}>{STATUS_TEXT[doc.status] ?? doc.status} at {clockOf(doc.recordedAt)}</li>)}</ul>
            </details>
          )}
        </section>
        <section aria-labelledby="assignment-title" class="card" data-testid="assignment" data-incident={assignment?.id ?? ''}>
          <h2 id="assignment-title">Current assignment</h2>
          {assignment ? (
            <>
              <p style="font-size:1.3rem;margin:4px 0"><strong>Call {assignment.incidentNumber}</strong>
                {assignment.priority && <> <span class={`tag ${priorityClass(assignment.priority)}`}>{priorityText(assignment.priority)}</span></>}</p>
              <p style="margin:4px 0">{assignment.complaint ?? 'No complaint given'}</p>
              <p style="margin:4px 0">{[assignment.address?.street, assignment.address?.apartment, assignment.address?.city].filter(Boolean).join(', ') || 'No address'}
                {assignment.address?.crossStreet ? ` (at ${assignment.address.crossStreet})` : ''}</p>
              {ended ? (
                <div class="banner warn" role="status" data-testid="assignment-ended" data-status={assignment.status}>
                  <p><strong>{assignment.status === 'cancelled' ? 'Cancelled by dispatch' : 'Closed by dispatch'}</strong>
                    {assignment.closedAt ? ` at ${clockOf(assignment.closedAt)}` : ''}{assignment.closeReason ? `: ${assignment.closeReason}` : ''}.</p>
                  <p>Press Available when the unit is clear.</p>
                </div>
              ) : (
                <>
                  {unit?.assignmentAcknowledgedAt && unit.currentIncidentId === assignment.id
                    ? <p data-testid="acknowledged">Acknowledged at {clockOf(unit.assignmentAcknowledgedAt)}</p>
                    : <button class="primary big" data-testid="acknowledge"
                      {...recordField({ collection: 'units', docId: unit?.id, path: 'assignmentAcknowledgedAt' }, 'action')}
                      onClick={() => void action.run(() => unitOps(session, unit?.id, [{ op: 'set', path: ['assignmentAcknowledgedAt'], value: offsetDateTime() }]), {}, 'acknowledge')}>Acknowledge assignment</button>}
                  <ActionError action={action} at="acknowledge" />
                  <CrewNotes incident={assignment} unit={unit} onRead={(ids) => void action.run(() => unitOps(session, unit?.id, [{ op: 'set', path: ['readNoteIds'], value: ids }]), {}, 'notes')} />
                  <ActionError action={action} at="notes" />
                  {assignment.transportCompleted
                    ? <p data-testid="transport-completed">Transport completed. Press Available when the unit is back in service.</p>
                    : <button class="big" style="margin-top:8px" data-testid="complete-transport"
                      {...recordField({ collection: 'incidents', docId: assignment.id, path: 'transportCompleted' }, 'action', { value: 'true' })}
                      onClick={() => void action.run(() => completeTransport(assignment), {}, 'transport')}>Transport completed</button>}
                  <ActionError action={action} at="transport" />
                </>
              )}
            </>
          ) : <p class="empty">No assignment. New calls appear here by themselves.</p>}
        </section>
      </div>
      <section aria-labelledby="map-title">
        <h2 id="map-title">Map</h2>
        <p data-testid="gps-state" data-recorded={gps.recorded}>
          GPS: {gps.state === 'on' ? `fix ${ago(gps.last?.at, now)}${gps.last?.accuracyM !== undefined ? `, ±${Math.round(gps.last.accuracyM)} m` : ''}` : gps.message ?? gps.state}
          {' · '}{gps.recorded} points recorded{pendingPoints ? `, ${pendingPoints} waiting to sync` : ''}
        </p>
        <MapTools testId="mdt-map" label={`Map of unit ${callSign}${assignment ? ` and call ${assignment.incidentNumber}` : ''}`} markers={markers} track={trackPoints}
          route={here && assignment?.location && !ended ? { from: here, to: assignment.location } : undefined} here={here} />
        {unit?.lastPositionAt && <p class="meta">Last position sent {ago(epochOf(unit.lastPositionAt), now)}.</p>}
      </section>
    </div>
  );
}

void boot({
  roles: ['crew'],
  title: 'MDT',
  render: (session) => <AppShell title={`MDT — ${session.user.unitId ?? 'no unit'}`} nav={[]}><Mdt session={session} /></AppShell>,
});
