/**
 * MDT (mobile data terminal in the vehicle): unit status, the current assignment with
 * acknowledge, GPS batched into gps_points, and a small offline map.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { Incident, Unit } from '../../../shared/schemas/index.ts';
import { boot } from '../../ui/boot.tsx';
import { AppShell, Badge, markReady } from '../../ui/components.tsx';
import { database, useQuery, write } from '../../ui/db.ts';
import { unitIdFor } from '../../ui/ids.ts';
import { OfflineMap, type MapMarker } from '../../ui/map.tsx';
import { recordField } from '../../ui/record-field.ts';
import { clock } from '../../ui/runtime.ts';
import type { Session } from '../../ui/session.ts';
import { ago, clockOf, epochOf, offsetDateTime } from '../../ui/time.ts';
import { gpsState, startGps } from './gps.ts';

type UnitStatus = NonNullable<Unit['status']>;
const STATUS_BUTTONS: readonly (readonly [UnitStatus, string])[] = [
  ['dispatched', 'Dispatched'], ['en_route', 'En route'], ['on_scene', 'On scene'],
  ['transporting', 'Transporting'], ['at_destination', 'At destination'], ['available', 'Available'],
];
const STATUS_TEXT: Record<string, string> = Object.fromEntries([...STATUS_BUTTONS, ['acknowledged', 'Acknowledged'], ['out_of_service', 'Out of service'], ['staged', 'Staged'], ['at_home', 'At station'], ['cancelled', 'Cancelled']]);

/**
 * Changes this unit's document. A unit the device does not have yet (a new MDT before dispatch
 * or CAD registered it) is made with the id CAD would give it, so the two are one unit.
 */
async function unitOps(session: Session, existingId: string | undefined, ops: Parameters<typeof write.mutate>[2]) {
  if (existingId) return write.mutate('units', existingId, ops);
  const callSign = session.user.unitId!;
  const id = await unitIdFor(session.user.tenantId, callSign);
  return write.upsert('units', { id, tenantId: session.user.tenantId, callSign, status: 'available', statusAt: offsetDateTime() }, ops);
}

function Mdt({ session }: { session: Session }) {
  const callSign = session.user.unitId;
  const units = useQuery<Unit>('units', callSign ? { selector: { callSign } } : undefined, [callSign]);
  const unitView = units?.[0];
  const unit = unitView?.doc;
  const unitIdRef = useRef<string | undefined>(undefined);
  unitIdRef.current = unit?.id;
  const incidents = useQuery<Incident>('incidents', callSign ? { selector: { assignedUnitId: callSign } } : undefined, [callSign]);
  const track = useQuery<{ id: string; lat: number; lng: number; recordedAt: string }>('gps_points',
    callSign ? { selector: { sourceType: 'unit', sourceId: callSign }, sort: [{ recordedAt: 'desc' }], limit: 300 } : undefined, [callSign]);

  useEffect(() => {
    if (!callSign) return;
    return startGps({
      tenantId: session.user.tenantId, sourceType: 'unit', sourceId: callSign,
      onFlushed: (last) => void unitOps(session, unitIdRef.current, [
        { op: 'set', path: ['lastPosition'], value: { lat: last.lat, lng: last.lng } },
        { op: 'set', path: ['lastPositionAt'], value: offsetDateTime(new Date(last.at)) },
      ]).catch(() => {}),
    });
  }, [callSign]);

  if (!callSign) return <div class="card"><p>This account has no unit. Sign in with a crew account that belongs to a unit to use the MDT.</p></div>;
  if (!units || !incidents) return <p>Loading…</p>;
  markReady();
  const assignment = incidents.find((i) => i.doc.id === unit?.currentIncidentId)?.doc
    ?? incidents.map((i) => i.doc).find((i) => ['dispatched', 'active', 'transporting'].includes(i.status));
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
                onClick={() => void unitOps(session, unit?.id, [{ op: 'set', path: ['status'], value: status }, { op: 'set', path: ['statusAt'], value: offsetDateTime() }])}>
                {label}
              </button>
            ))}
          </div>
        </section>
        <section aria-labelledby="assignment-title" class="card" data-testid="assignment">
          <h2 id="assignment-title">Current assignment</h2>
          {assignment ? (
            <>
              <p style="font-size:1.3rem;margin:4px 0"><strong>Call {assignment.incidentNumber}</strong>
                {assignment.priority && <> <span class={`tag ${assignment.priority.toLowerCase()}`}>{assignment.priority}</span></>}</p>
              <p style="margin:4px 0">{assignment.complaint ?? 'No complaint given'}</p>
              <p style="margin:4px 0">{[assignment.address?.street, assignment.address?.apartment, assignment.address?.city].filter(Boolean).join(', ') || 'No address'}
                {assignment.address?.crossStreet ? ` (at ${assignment.address.crossStreet})` : ''}</p>
              {unit?.assignmentAcknowledgedAt && unit.currentIncidentId === assignment.id
                ? <p data-testid="acknowledged">Acknowledged at {clockOf(unit.assignmentAcknowledgedAt)}</p>
                : <button class="primary big" data-testid="acknowledge"
                  {...recordField({ collection: 'units', docId: unit?.id, path: 'assignmentAcknowledgedAt' }, 'action')}
                  onClick={() => void unitOps(session, unit?.id, [{ op: 'set', path: ['assignmentAcknowledgedAt'], value: offsetDateTime() }])}>Acknowledge assignment</button>}
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
        <OfflineMap testId="mdt-map" label={`Map of unit ${callSign}${assignment ? ` and call ${assignment.incidentNumber}` : ''}`} markers={markers} track={trackPoints} />
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
