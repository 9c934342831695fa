/**
 * Dispatch console (desktop): live units on a map and in a list, incidents (create, assign a
 * unit), ePCR progress per incident (status only), billing and claim state, and for admins the
 * dead letters and CAD bridge health. Data the role may pull comes through replication; the
 * `/live` feed adds positions and changes as they happen, without reload.
 */
import { batch, computed, signal } from '@preact/signals';
import { memo } from 'preact/compat';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ADMIN, ApiClient, SOCKET_BRIDGE, type Endpoint } from '../../../shared/protocol/index.ts';
import type { BillingRecord, Claim, Epcr, Incident, Job, Unit } from '../../../shared/schemas/index.ts';
import { ActionError, useAction, WriteRefusedError } from '../../ui/action.tsx';
import { boot } from '../../ui/boot.tsx';
import { BillingApp } from './billing.tsx';
import { AppShell, Badge, go, markReady, route } from '../../ui/components.tsx';
import { DEFAULT_DISPATCH_PRIORITY, dispatchPriorityOptions, priorityClass, priorityText } from '../../ui/dispatch-priority.ts';
import { database, useQuery, write } from '../../ui/db.ts';
import { deviceIds } from '../../ui/ids.ts';
import { IncidentActions } from './incident-actions.tsx';
import { NEW_INCIDENT_MAX, NEW_INCIDENT_PATHS, newIncidentProblems, ZIP, type NewIncidentForm } from './incident-form.ts';
import { acknowledgementAlert, callTimes, capabilityOptions, elapsed, sortIncidents, type UnitPosition } from './call-board.ts';
import { CallPanel, acknowledgedVia, timeOfDay } from './call-panel.tsx';
import { beep, beepsPlayed, soundReady, unlockSoundOnGesture } from './alert-sound.ts';
import { dispatchSettings, serverClockError, serverNow, serverOffsetMs, startServerClock } from './server-clock.ts';
import { coalesceLive, connectLive, liveConnected, liveError, type LiveEvent } from '../../ui/live.ts';
import { OfflineMap, type MapMarker } from '../../ui/map.tsx';
import { AddressSuggestions, addressAt, useAddressSuggestions } from '../../ui/address-search.tsx';
import { fieldMarkers, onTechnicianPosition } from '../../ui/field-layer.ts';
import { recordField, type FieldConstraints } from '../../ui/record-field.ts';
import { countRender } from '../../ui/render-count.ts';
import { clock, online } from '../../ui/runtime.ts';
import { getAccessToken } from '../../session/session.ts';
import type { Session } from '../../session/identity.ts';
import { ago, clockOf, epochOf, offsetDateTime } from '../../ui/time.ts';

// ---- live state (this session) --------------------------------------------------------------
interface LiveUnit { status?: string; statusAt?: string; lat?: number; lng?: number; positionAt?: number }
const liveUnits = signal<Record<string, LiveUnit>>({});
const liveEpcrs = signal<Record<string, Record<string, unknown>>>({});
const liveBilling = signal<Record<string, Record<string, unknown>>>({});
const liveClaims = signal<Record<string, Record<string, unknown>>>({});
const hookFailures = signal<Record<string, unknown>[]>([]);
/** Each unit's recent positions from the live feed (the map draws the selected call's unit's track). */
const liveTrails = signal<Record<string, { lat: number; lng: number }[]>>({});
const TRAIL_POINTS = 60;

/**
 * Applies one batch of live events (client/ui/live.ts coalesceLive: one per animation frame) with
 * one change per signal, so the board renders once per batch, not once per event.
 */
function onLiveBatch(events: readonly LiveEvent[]): void {
  let units: Record<string, LiveUnit> | undefined;
  let trails: Record<string, { lat: number; lng: number }[]> | undefined;
  let epcrs: Record<string, Record<string, unknown>> | undefined;
  let billing: Record<string, Record<string, unknown>> | undefined;
  let claims: Record<string, Record<string, unknown>> | undefined;
  let failures: Record<string, unknown>[] | undefined;
  for (const { name, payload } of events) {
    const id = String(payload['id'] ?? '');
    switch (name) {
      case 'unit:status': {
        units ??= { ...liveUnits.value };
        const key = String(payload['callSign']);
        units[key] = { ...units[key], status: String(payload['status']), statusAt: payload['statusAt'] as string };
        break;
      }
      case 'unit:position': {
        units ??= { ...liveUnits.value };
        const key = String(payload['sourceId']);
        const at = epochOf(payload['recordedAt'] as string) ?? Number(payload['committedAt'] ?? Date.now());
        const known = units[key];
        if (known?.positionAt && known.positionAt > at) break;
        const point = { lat: Number(payload['lat']), lng: Number(payload['lng']) };
        units[key] = { ...known, ...point, positionAt: at };
        trails ??= { ...liveTrails.value };
        trails[key] = [...(trails[key] ?? []), point].slice(-TRAIL_POINTS);
        break;
      }
      case 'technician:position': onTechnicianPosition(payload); break;
      case 'epcr:progress': (epcrs ??= { ...liveEpcrs.value })[id] = payload; break;
      case 'billing:changed': (billing ??= { ...liveBilling.value })[id] = payload; break;
      case 'claim:changed': (claims ??= { ...liveClaims.value })[id] = payload; break;
      case 'hook:failed': failures = [payload, ...(failures ?? hookFailures.value)].slice(0, 50); break;
      default: break;
    }
  }
  batch(() => {
    if (units) liveUnits.value = units;
    if (trails) liveTrails.value = trails;
    if (epcrs) liveEpcrs.value = epcrs;
    if (billing) liveBilling.value = billing;
    if (claims) liveClaims.value = claims;
    if (failures) hookFailures.value = failures;
  });
}

const UNIT_STATUS_TEXT: Record<string, string> = {
  out_of_service: 'Out of service', available: 'Available', dispatched: 'Dispatched', acknowledged: 'Acknowledged', en_route: 'En route',
  staged: 'Staged', on_scene: 'On scene', transporting: 'Transporting', at_destination: 'At destination', at_home: 'At station', cancelled: 'Cancelled',
};
const STALE_MS = 5 * 60_000;

interface UnitRow extends UnitPosition { id: string; callSign: string; status: string; statusAt?: string | undefined; lat?: number | undefined; lng?: number | undefined; positionAt?: number | undefined; incidentId?: string | undefined; acknowledged?: boolean }

function unitRows(units: Unit[]): UnitRow[] {
  const live = liveUnits.value;
  return units.map((u) => {
    const l = live[u.callSign] ?? {};
    const docAt = epochOf(u.lastPositionAt);
    const useLive = l.positionAt !== undefined && (docAt === undefined || l.positionAt >= docAt);
    const statusFromLive = l.statusAt !== undefined && (u.statusAt === undefined || (epochOf(l.statusAt) ?? 0) >= (epochOf(u.statusAt) ?? 0));
    return {
      id: u.id, callSign: u.callSign,
      status: statusFromLive ? l.status ?? u.status : u.status,
      statusAt: statusFromLive ? l.statusAt : u.statusAt,
      lat: useLive ? l.lat : u.lastPosition?.lat, lng: useLive ? l.lng : u.lastPosition?.lng,
      positionAt: useLive ? l.positionAt : docAt,
      incidentId: u.currentIncidentId, currentIncidentId: u.currentIncidentId, capability: u.capability, acknowledged: u.assignmentAcknowledgedAt !== undefined,
    };
  }).sort((a, b) => a.callSign.localeCompare(b.callSign));
}

function epcrProgressText(epcr: Partial<Epcr> & Record<string, unknown>): string {
  if (epcr['_deleted']) return 'deleted';
  if (epcr.lockedAt) return `finalized and locked ${clockOf(epcr.lockedAt as string)}`;
  const errors = Number(epcr['finalizeErrorCount'] ?? (Array.isArray(epcr.finalizeErrors) ? epcr.finalizeErrors.length : 0));
  if (epcr.status === 'finalized') return 'finalized, being checked';
  if (errors > 0) return `returned to the crew (${errors} to fix)`;
  return epcr.times?.atDestination ? 'draft (at destination)' : epcr.times?.unitOnScene ? 'draft (on scene)' : 'draft';
}

// ---- the board -----------------------------------------------------------------------------------
/**
 * A one-second tick for the call timers (the shared clock signal ticks every 15 s). Only what
 * shows a running time reads it (Elapsed's text, the alert banner): the board and its rows do
 * not, so with 200 open calls a second costs a few text nodes, not 200 rows.
 */
const tick = signal(Date.now());
function useSecondTicks(): void {
  useEffect(() => {
    const timer = setInterval(() => (tick.value = Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
}

/** A running timer's text, bound to the tick: the text node changes each second, no component renders. */
function Elapsed({ from, testId }: { from: number | undefined; testId: string }) {
  const text = useMemo(() => computed(() => elapsed(from, serverNow(tick.value))), [from]);
  return <span data-testid={testId}>{text}</span>;
}

/** How often the sound repeats while calls stay unacknowledged (a newly alerting call sounds at once). */
const ALERT_REPEAT_MS = 30_000;

/**
 * The unacknowledged-call alert: a flashing banner naming the calls, and a beep when a call starts
 * alerting and every ALERT_REPEAT_MS while any does. Stops by itself once each call is acknowledged.
 */
function AckAlert({ calls }: { calls: readonly Incident[] }) {
  // This banner reads the tick itself (it repeats the sound), so the board around it need not.
  const now = tick.value;
  const last = useRef<{ ids: string[]; at: number }>({ ids: [], at: 0 });
  const ids = calls.map((c) => c.id).sort();
  useEffect(() => {
    if (ids.length === 0) {
      last.current = { ids: [], at: 0 };
      return;
    }
    const fresh = ids.some((id) => !last.current.ids.includes(id));
    if (fresh || now - last.current.at >= ALERT_REPEAT_MS) {
      beep();
      last.current = { ids, at: now };
    }
  }, [ids.join(), now]);
  if (calls.length === 0) return null;
  const threshold = dispatchSettings.value?.unacknowledgedAlertSeconds;
  return (
    <div class="banner bad alert-flash" role="alert" data-testid="ack-alert" data-calls={calls.map((c) => c.incidentNumber).join(' ')} data-beeps={beepsPlayed.value}>
      <strong>Not acknowledged{threshold !== undefined ? ` after ${threshold} s` : ''}:</strong> {calls.map((c) => `${c.incidentNumber} (${c.assignedUnitId ?? ''})`).join(', ')}.
      {' '}{soundReady.value ? '' : 'Click anywhere on the page to let the alert sound.'}
    </div>
  );
}

/**
 * The collections this console syncs, as one string: the sync status changes often (counts,
 * times), the list of collections hardly ever, and the board renders only when the string does.
 */
const syncedCollections = computed(() => Object.keys(database().status.value?.pending ?? {}).sort().join(','));

/** One unit's row; memo compares its (flat) props, so a batch re-renders only the units it changed. */
const UnitTableRow = memo(function UnitTableRow(r: UnitRow & { callNumber: string | undefined; now: number }) {
  // test/e2e/dispatch-render.test.ts: a burst of positions renders each changed row once, not every row per event.
  countRender('dispatch-unit-row', () => r.callSign);
  return (
    <tr data-testid="unit-row" data-unit={r.callSign} data-status={r.status}>
      <th scope="row">{r.callSign}{r.capability && <div class="meta" data-testid="unit-capability">{capabilityOptions().find(([c]) => c === r.capability)?.[1] ?? r.capability}</div>}</th>
      <td><strong>{UNIT_STATUS_TEXT[r.status] ?? r.status}</strong><div class="meta">{r.statusAt ? `since ${clockOf(r.statusAt)}` : ''}</div></td>
      <td data-testid="unit-position">{r.lat !== undefined ? <>{r.lat.toFixed(4)}, {r.lng!.toFixed(4)}<div class="meta">{ago(r.positionAt, r.now)}{r.positionAt !== undefined && r.now - r.positionAt > STALE_MS ? ' (old)' : ''}</div></> : <span class="meta">unknown</span>}</td>
      <td>{r.callNumber !== undefined ? <>{r.callNumber}<div class="meta">{r.acknowledged ? 'acknowledged' : 'not acknowledged'}</div></> : '—'}</td>
    </tr>
  );
});

/** The units an assign list offers ("call sign TAB status" per line); memo keeps the lists as they are while only positions move. */
const UnitOptions = memo(function UnitOptions({ choices }: { choices: string }) {
  return <>{choices ? choices.split('\n').map((line) => {
    const [callSign = '', status = ''] = line.split('\t');
    return <option key={callSign} value={callSign}>{callSign} ({UNIT_STATUS_TEXT[status] ?? status})</option>;
  }) : null}</>;
});

function Board({ session }: { session: Session }) {
  countRender('dispatch-board', () => '');
  const units = useQuery<Unit>('units', {});
  // Open incidents only: a console stays open for years of calls.
  const incidents = useQuery<Incident>('incidents', { selector: { status: { $nin: ['closed', 'cancelled'] } } });
  const openIds = (incidents ?? []).map((i) => i.doc.id);
  const epcrs = useQuery<Epcr>('epcrs', incidents ? { selector: { incidentId: { $in: openIds } } } : undefined, [openIds.join()]);
  const collections = new Set(syncedCollections.value.split(','));
  const billing = useQuery<BillingRecord>('billing_records', collections.has('billing_records') ? {} : undefined);
  const claims = useQuery<Claim>('claims', collections.has('claims') ? {} : undefined);
  // Field service on the same map, for the roles that read jobs (admin, office).
  const jobs = useQuery<Job>('jobs', collections.has('jobs') ? { selector: { status: { $ne: 'completed' } } } : undefined);
  const [selected, setSelected] = useState<string>();
  const assigning = useAction();
  const now = clock.value;
  useSecondTicks();
  // Renders the board again when a call crosses the alert threshold (below), and only then.
  const [, setAlertCrossings] = useState(0);
  const assignRef = useRef<(incident: Incident, callSign: string) => Promise<void>>(async () => {});
  const assigningRef = useRef(assigning);
  assigningRef.current = assigning;
  // Stable across renders, so a row's memo is not broken by a new function each time.
  const onAssign = useCallback((incident: Incident, callSign: string) => void assigningRef.current.run(() => assignRef.current(incident, callSign)), []);
  const serverTime = serverNow();
  const threshold = dispatchSettings.value?.unacknowledgedAlertSeconds;
  const nextCrossing = threshold === undefined ? undefined : Math.min(Infinity, ...(incidents ?? [])
    .map((i) => acknowledgementAlert(i.doc, serverTime, threshold)).filter((a) => !a.alerting && a.alertAt !== undefined).map((a) => a.alertAt!));
  useEffect(() => {
    if (nextCrossing === undefined || !Number.isFinite(nextCrossing)) return;
    const timer = setTimeout(() => setAlertCrossings((n) => n + 1), Math.max(0, nextCrossing - serverNow()) + 20);
    return () => clearTimeout(timer);
  }, [nextCrossing]);
  if (!units || !incidents || !epcrs) return <p>Loading…</p>;
  markReady();
  const rows = unitRows(units.map((u) => u.doc));
  const incidentNumbers = new Map(incidents.map((i) => [i.doc.id, i.doc.incidentNumber]));
  // One string for every assign list: the 200 lists of 500 units render again only when a unit's status changes.
  const unitChoices = rows.map((r) => `${r.callSign}\t${r.status}`).join('\n');
  // Most urgent first, then the longest waiting (call-board.ts); times are the server's.
  const active = sortIncidents(incidents.map((i) => i.doc).filter((i) => !['closed', 'cancelled'].includes(i.status)));
  const alertOf = (incident: Incident) => (threshold === undefined ? { alerting: false } : acknowledgementAlert(incident, serverTime, threshold));
  const alerting = active.filter((i) => alertOf(i).alerting);
  const selectedCall = active.find((i) => i.id === selected);

  const epcrByIncident = new Map<string, (Partial<Epcr> & Record<string, unknown>)[]>();
  const epcrIncident = new Map<string, string>();
  for (const { doc } of epcrs) {
    const merged = { ...doc, ...(liveEpcrs.value[doc.id] ?? {}) } as Partial<Epcr> & Record<string, unknown>;
    if (doc.incidentId) {
      epcrByIncident.set(doc.incidentId, [...(epcrByIncident.get(doc.incidentId) ?? []), merged]);
      epcrIncident.set(doc.id, doc.incidentId);
    }
  }
  for (const [id, payload] of Object.entries(liveEpcrs.value)) {
    const incidentId = payload['incidentId'] as string | undefined;
    if (incidentId && !epcrIncident.has(id)) {
      epcrByIncident.set(incidentId, [...(epcrByIncident.get(incidentId) ?? []), payload as never]);
      epcrIncident.set(id, incidentId);
    }
  }
  const billingRows = [...(billing ?? []).map((b) => b.doc as Record<string, unknown>), ...Object.values(liveBilling.value)];
  const claimRows = [...(claims ?? []).map((c) => c.doc as Record<string, unknown>), ...Object.values(liveClaims.value)];
  const billingFor = (incidentId: string) => {
    const out = new Map<string, string>();
    for (const b of billingRows) if (b['incidentId'] === incidentId || epcrIncident.get(String(b['epcrId'])) === incidentId) out.set(`billing ${String(b['id']).slice(0, 8)}`, String(b['status']));
    for (const c of claimRows) if (epcrIncident.get(String(c['epcrId'])) === incidentId) out.set(`claim ${String(c['id']).slice(0, 8)}`, String(c['status']));
    return [...out];
  };

  const markers: MapMarker[] = [
    ...rows.filter((r) => r.lat !== undefined && r.lng !== undefined).map((r) => ({
      id: r.callSign, lat: r.lat!, lng: r.lng!, label: `${r.callSign} ${UNIT_STATUS_TEXT[r.status] ?? r.status}`, kind: 'unit' as const, status: r.status,
      stale: r.positionAt === undefined || now - r.positionAt > STALE_MS,
    })),
    ...active.filter((i) => i.location).map((i) => ({ id: i.id, lat: i.location!.lat, lng: i.location!.lng, label: i.incidentNumber, kind: 'incident' as const, status: i.status })),
    ...fieldMarkers((jobs ?? []).map((j) => j.doc), now),
  ];
  // The selected call (selectedCall, above): its unit's track and, with a router, the route from the unit to the call.
  const selectedUnit = selectedCall?.assignedUnitId ? rows.find((r) => r.callSign === selectedCall.assignedUnitId) : undefined;
  const selectedRoute = selectedCall?.location && selectedUnit?.lat !== undefined ? { from: { lat: selectedUnit.lat, lng: selectedUnit.lng! }, to: selectedCall.location } : undefined;

  const assign = assignRef.current = async (incident: Incident, callSign: string) => {
    const unit = units.find((u) => u.doc.callSign === callSign)?.doc;
    const at = offsetDateTime();
    await write.mutate('incidents', incident.id, [
      { op: 'set', path: ['assignedUnitId'], value: callSign },
      { op: 'set', path: ['status'], value: incident.status === 'new' ? 'dispatched' : incident.status },
      { op: 'set', path: ['timeline', 'unitNotified'], value: at },
    ]);
    if (unit) {
      await write.mutate('units', unit.id, [
        { op: 'set', path: ['status'], value: 'dispatched' }, { op: 'set', path: ['statusAt'], value: at },
        { op: 'set', path: ['currentIncidentId'], value: incident.id }, { op: 'unset', path: ['assignmentAcknowledgedAt'] },
        { op: 'unset', path: ['readNoteIds'] },
      ]);
    }
  };

  return (
    <>
      <div class="split" style="grid-template-columns:minmax(360px,1fr) minmax(360px,1.3fr)">
        <section aria-labelledby="units-title">
          <h2 id="units-title">Units</h2>
          <table data-testid="unit-table">
            <thead><tr><th scope="col">Unit</th><th scope="col">Status</th><th scope="col">Position</th><th scope="col">Call</th></tr></thead>
            <tbody>
              {rows.map((r) => {
                const call = r.incidentId ? incidentNumbers.get(r.incidentId) : undefined;
                return <UnitTableRow key={r.id} {...r} callNumber={call} now={now} />;
              })}
            </tbody>
          </table>
          {rows.length === 0 && <p class="empty">No units yet. Units appear when their MDT signs in or CAD reports them.</p>}
        </section>
        <section aria-labelledby="map-title">
          <h2 id="map-title">Map</h2>
          <OfflineMap testId="dispatch-map" label={`Map of ${markers.filter((m) => m.kind === 'unit').length} units and ${active.length} open incidents`} markers={markers}
            track={selectedUnit ? liveTrails.value[selectedUnit.callSign] : undefined} route={selectedRoute} />
          <p class="meta">Live feed: {liveConnected.value ? 'connected' : online.value ? `reconnecting${liveError.value ? ` (${liveError.value})` : ''}` : 'offline'}.</p>
        </section>
      </div>

      <section aria-labelledby="incidents-title" style="margin-top:16px">
        <AckAlert calls={alerting} />
        <div class="row" style="justify-content:space-between">
          <h2 id="incidents-title">Open incidents ({active.length})</h2>
          <button class="primary" onClick={() => go('new')} data-testid="new-incident">New incident</button>
        </div>
        <ActionError action={assigning} testId="assign-error" />
        <table data-testid="incident-table">
          <thead><tr><th scope="col">Incident</th><th scope="col">Where</th><th scope="col">Timers</th><th scope="col">Unit</th><th scope="col">ePCR</th><th scope="col">Billing / claim</th><th scope="col">Close or cancel</th></tr></thead>
          <tbody>
            {active.map((incident) => {
              const reports = (epcrByIncident.get(incident.id) ?? []).map((e) => [String(e.id), `${String(e.unitId ?? '')}: ${epcrProgressText(e)}`]);
              return (
                <IncidentRow key={incident.id} incident={incident} badge={incidents.find((i) => i.doc.id === incident.id)!.badge}
                  reports={JSON.stringify(reports)} money={JSON.stringify(billingFor(incident.id))} alerting={alertOf(incident).alerting}
                  selected={selected === incident.id} onSelect={setSelected} unitChoices={unitChoices} onAssign={onAssign} session={session} />
              );
            })}
          </tbody>
        </table>
        {active.length === 0 && <p class="empty">No open incidents.</p>}
        <p class="meta" data-testid="server-clock" data-offset-ms={serverOffsetMs.value === undefined ? '' : String(Math.round(serverOffsetMs.value))}>
          {serverOffsetMs.value === undefined
            ? `Timers use this console's clock until the server answers${serverClockError.value ? ` (${serverClockError.value})` : ''}.`
            : `Timers count in the server's time (this console's clock is ${Math.abs(serverOffsetMs.value / 1000).toFixed(1)} s ${serverOffsetMs.value > 0 ? 'behind' : 'ahead'}).`}
          {threshold !== undefined ? ` A call not acknowledged ${threshold} s after its assignment alerts.` : ''}
        </p>
        {selectedCall && <CallPanel key={selectedCall.id} incident={selectedCall} units={rows} session={session} assign={assign} />}
      </section>
    </>
  );
}

/**
 * One open call's row. Memo compares its props, which are the call's document, text and stable
 * callbacks, so the row renders again when its call, its reports or billing, its alert or the
 * unit list change, never for a timer: the timers are Elapsed text bound to the tick.
 */
const IncidentRow = memo(function IncidentRow({ incident, badge, reports, money, alerting, selected, onSelect, unitChoices, onAssign, session }: {
  incident: Incident; badge: Parameters<typeof Badge>[0]['badge']; reports: string; money: string; alerting: boolean; selected: boolean;
  onSelect: (update: (current: string | undefined) => string | undefined) => void; unitChoices: string;
  onAssign: (incident: Incident, callSign: string) => void; session: Session;
}) {
  countRender('dispatch-incident-row', () => incident.incidentNumber);
  const times = callTimes(incident);
  const reportLines = JSON.parse(reports) as [string, string][];
  const moneyLines = JSON.parse(money) as [string, string][];
  return (
    <tr data-testid="incident-row" data-incident={incident.incidentNumber} data-alert={alerting ? 'true' : 'false'}
      class={[selected ? 'selected' : '', alerting ? 'alert alert-flash' : ''].join(' ').trim()}>
      <td>
        <button class="link" data-testid="select-incident" aria-expanded={selected}
          onClick={() => onSelect((current) => (current === incident.id ? undefined : incident.id))}><strong>{incident.incidentNumber}</strong></button> {incident.priority && <span class={`tag ${priorityClass(incident.priority)}`}>{priorityText(incident.priority)}</span>}
        <div>{incident.complaint ?? ''}</div>
        <div class="meta">{incident.status} <Badge badge={badge} /></div>
      </td>
      <td>{[incident.address?.street, incident.address?.city].filter(Boolean).join(', ') || '—'}</td>
      <td data-testid="call-timers">
        <div>Received <Elapsed from={times.received} testId="timer-received" /></div>
        {times.dispatched !== undefined && <div>Dispatched <Elapsed from={times.dispatched} testId="timer-dispatched" /></div>}
        {times.dispatched !== undefined && (times.acknowledged
          ? <div class="meta" data-testid="acknowledged-state" data-acknowledged="true" data-via={times.acknowledged.via}>Acknowledged {timeOfDay(times.acknowledged.at)} by {acknowledgedVia(times.acknowledged.via)}</div>
          : <div class={alerting ? 'bad' : 'meta'} data-testid="acknowledged-state" data-acknowledged="false">Not acknowledged</div>)}
        {times.onScene !== undefined && <div>On scene <Elapsed from={times.onScene} testId="timer-on-scene" /></div>}
      </td>
      <td>
        <label class="visually-hidden" for={`assign-${incident.id}`}>Assign a unit to {incident.incidentNumber}</label>
        <select id={`assign-${incident.id}`} data-testid="assign-unit" value={incident.assignedUnitId ?? ''}
          {...recordField({ collection: 'incidents', docId: incident.id, path: 'assignedUnitId' }, 'select')}
          onFocus={() => onSelect(() => incident.id)}
          onChange={(e) => { const v = e.currentTarget.value; if (v) onAssign(incident, v); }}>
          <option value="">— assign —</option>
          <UnitOptions choices={unitChoices} />
        </select>
      </td>
      <td data-testid="epcr-progress">{reportLines.length ? reportLines.map(([id, text]) => <div key={id}>{text}</div>) : <span class="meta">no report yet</span>}</td>
      <td data-testid="billing-state">{moneyLines.length ? moneyLines.map(([k, v]) => <div key={k}>{k}: {v}</div>) : <span class="meta">—</span>}</td>
      <td><IncidentActions incident={incident} session={session} /></td>
    </tr>
  );
});

// ---- new incident -----------------------------------------------------------------------------
function NewIncident({ session }: { session: Session }) {
  const units = useQuery<Unit>('units', {});
  const t = offsetDateTime();
  const stamp = `${t.slice(2, 4)}${t.slice(5, 7)}${t.slice(8, 10)}-${t.slice(11, 13)}${t.slice(14, 16)}${t.slice(17, 19)}`;
  const [form, setForm] = useState<NewIncidentForm>({ incidentNumber: `D${stamp}`, complaint: '', priority: DEFAULT_DISPATCH_PRIORITY, street: '', city: '', zip: '', lat: '', lng: '', capability: '', unit: '' });
  // Problems found at the last "Create incident", by field; a field's goes when it is edited.
  const [problems, setProblems] = useState<Partial<Record<keyof NewIncidentForm, string>>>({});
  const create = useAction();
  // The incident with the number typed, if one is on this device (CAD's may have an id of another recipe).
  const sameNumber = useQuery<Incident>('incidents', form.incidentNumber.trim() ? { selector: { incidentNumber: form.incidentNumber.trim() }, limit: 1 } : undefined, [form.incidentNumber.trim()]);
  const set = (key: keyof NewIncidentForm) => (e: Event) => {
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
    if (problems[key]) setProblems({ ...problems, [key]: undefined });
    if (key === 'street') setPicked(undefined);
  };
  // Address search: suggestions for the street as typed; a pick gives the point (and the city and
  // ZIP where none was typed), never a new street text: the incident keeps what was typed.
  const [picked, setPicked] = useState<string>();
  const [nearby, setNearby] = useState<string>();
  const suggestions = useAddressSuggestions(picked ? '' : `${form.street} ${form.city}`.trim());
  const fill = (hit: { lat: number; lng: number; city?: string | undefined; zip?: string | undefined; street?: string | undefined }, withPoint: boolean, withStreet: boolean) => setForm((f) => ({
    ...f,
    ...(withPoint ? { lat: String(hit.lat), lng: String(hit.lng) } : {}),
    street: f.street.trim() || !withStreet ? f.street : hit.street ?? '',
    city: f.city.trim() ? f.city : hit.city ?? '',
    zip: f.zip.trim() ? f.zip : hit.zip && ZIP.test(hit.zip) ? hit.zip : '',
  }));
  const pickPoint = async (point: { lat: number; lng: number }) => {
    setForm((f) => ({ ...f, lat: String(point.lat), lng: String(point.lng) }));
    setProblems((p) => ({ ...p, lat: undefined, lng: undefined }));
    setNearby(undefined);
    const hit = await addressAt(point);
    if (hit) {
      setNearby(hit.label);
      fill(hit, false, true);
    }
  };
  // The point typed so far, when it is one (the map shows it); anything else is the form's to refuse.
  const typedLat = form.lat.trim() === '' ? NaN : Number(form.lat);
  const typedLng = form.lng.trim() === '' ? NaN : Number(form.lng);
  const formPoint = Math.abs(typedLat) <= 90 && Math.abs(typedLng) <= 180 ? { lat: typedLat, lng: typedLng } : undefined;
  const unitNear = units?.find((u) => u.doc.lastPosition)?.doc.lastPosition;
  const submit = async (event: Event) => {
    event.preventDefault();
    create.clear();
    const found = newIncidentProblems(form);
    setProblems(found);
    if (Object.values(found).some(Boolean)) {
      // The first field with a problem gets the focus, so a keyboard or screen reader lands on it.
      const first = (Object.keys(NEW_INCIDENT_PATHS) as (keyof NewIncidentForm)[]).find((k) => found[k]);
      if (first) document.getElementById(`ni-${first}`)?.focus();
      return;
    }
    const lat = form.lat.trim() === '' ? undefined : Number(form.lat);
    const lng = form.lng.trim() === '' ? undefined : Number(form.lng);
    const at = offsetDateTime();
    const number = form.incidentNumber.trim();
    const id = await deviceIds.incidentIdFor(session.user.tenantId, number);
    const address = Object.fromEntries(Object.entries({ street: form.street.trim(), city: form.city.trim(), zip: form.zip.trim() }).filter(([, v]) => v));
    // One incident per number: its id is derived from it, so a second one would be the same record.
    const duplicate = `Incident number ${number} already exists; nothing was created. Use another number, or find ${number} on the board to change it.`;
    const created = await create.run(async () => {
      if (sameNumber?.some((i) => i.doc.incidentNumber === number)) throw new WriteRefusedError('duplicate', duplicate);
      await write.insert('incidents', {
        id, tenantId: session.user.tenantId, incidentNumber: number, status: form.unit ? 'dispatched' : 'new',
        ...(form.complaint.trim() ? { complaint: form.complaint.trim() } : {}),
        ...(form.priority ? { priority: form.priority } : {}),
        ...(form.capability ? { requiredCapability: form.capability } : {}),
        ...(Object.keys(address).length ? { address } : {}),
        ...(lat !== undefined ? { location: { lat, lng } } : {}),
        ...(form.unit ? { assignedUnitId: form.unit } : {}),
        timeline: { psapCall: at, ...(form.unit ? { unitNotified: at } : {}) },
      });
    }, { duplicate });
    if (!created) return;
    const unit = units?.find((u) => u.doc.callSign === form.unit)?.doc;
    if (unit) {
      const assigned = await create.run(() => write.mutate('units', unit.id, [
        { op: 'set', path: ['status'], value: 'dispatched' }, { op: 'set', path: ['statusAt'], value: at },
        { op: 'set', path: ['currentIncidentId'], value: id }, { op: 'unset', path: ['assignmentAcknowledgedAt'] },
      ]), { missing: `Incident ${number} was created, but unit ${unit.callSign} is no longer on this device, so it was not marked dispatched. Assign a unit from the board.` });
      if (!assigned) return;
    }
    go('');
  };
  // What each input writes into the new incident (the round-trip suite reads these declarations).
  const declared = (key: keyof NewIncidentForm, kind: 'text' | 'number' | 'select', constraints: FieldConstraints = {}) =>
    recordField({ collection: 'incidents', path: NEW_INCIDENT_PATHS[key] }, kind, constraints);
  // No maxlength attribute: the browser would stop typing silently; the form says what is too long instead.
  const field = (key: keyof NewIncidentForm, label: string, extra: Record<string, unknown> = {}, constraints: FieldConstraints = {}) => (
    <div class="field"><label for={`ni-${key}`}>{label}</label><input id={`ni-${key}`} name={key} value={form[key]} onInput={set(key)} {...extra}
      aria-invalid={problems[key] ? true : undefined} aria-describedby={problems[key] ? `ni-${key}-problem` : undefined}
      {...declared(key, constraints.min !== undefined ? 'number' : 'text', { maxLength: NEW_INCIDENT_MAX[key], ...constraints })} />
      {problems[key] && <div class="hint bad" id={`ni-${key}-problem`} role="alert" data-testid="new-incident-problem">{problems[key]}</div>}</div>
  );
  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="ni-title" style="max-width:720px" data-testid="new-incident-form" noValidate>
      <h2 id="ni-title">New incident</h2>
      <div class="grid">
        {field('incidentNumber', 'Incident number', { required: true }, { required: true })}
        <div class="field"><label for="ni-priority">Priority</label>
          <select id="ni-priority" value={form.priority} onChange={set('priority')} {...declared('priority', 'select')}>{dispatchPriorityOptions().map(([code, label]) => <option key={code} value={code}>{label}</option>)}</select></div>
        {field('complaint', 'Complaint')}
        <div>
          {field('street', 'Street', { autoComplete: 'off', 'aria-describedby': suggestions.hits.length ? 'ni-street-suggestions' : undefined })}
          <AddressSuggestions id="ni-street-suggestions" hits={suggestions.hits} problem={suggestions.problem} onPick={(hit) => { setPicked(hit.label); fill(hit, true, false); }} />
          {picked && <div class="hint" data-testid="address-picked">Location from: {picked}</div>}
        </div>
        {field('city', 'City')}
        {field('zip', 'ZIP', { inputMode: 'numeric' }, { pattern: ZIP })}
        {field('lat', 'Latitude', { inputMode: 'decimal' }, { min: -90, max: 90 })}
        {field('lng', 'Longitude', { inputMode: 'decimal' }, { min: -180, max: 180 })}
        <div class="field"><label for="ni-capability">Unit capability needed</label>
          <select id="ni-capability" value={form.capability} onChange={set('capability')} {...declared('capability', 'select')}>
            <option value="">— any unit —</option>
            {capabilityOptions().map(([code, label]) => <option key={code} value={code}>{label}</option>)}
          </select></div>
        <div class="field"><label for="ni-unit">Assign unit</label>
          <select id="ni-unit" value={form.unit} onChange={set('unit')} {...declared('unit', 'select')}>
            <option value="">— later —</option>
            {(units ?? []).map((u) => <option key={u.doc.id} value={u.doc.callSign}>{u.doc.callSign} ({UNIT_STATUS_TEXT[u.doc.status] ?? u.doc.status})</option>)}
          </select></div>
      </div>
      <div class="field">
        <span id="ni-map-label">Location on the map: click to set it{nearby ? '' : ' (with a geocoder, the address there is looked up)'}</span>
        <OfflineMap testId="new-incident-map" label="Click the map to set the incident's location" onPick={(point) => void pickPoint(point)} center={formPoint ?? unitNear}
          markers={formPoint ? [{ id: 'new-incident', lat: formPoint.lat, lng: formPoint.lng, label: form.incidentNumber || 'New incident', kind: 'incident', status: 'new' }] : []} />
        {nearby && <div class="hint" data-testid="address-nearby">Address there: {nearby}</div>}
      </div>
      <ActionError action={create} testId="new-incident-error" />
      <div class="row"><button class="primary big" type="submit" disabled={create.busy}>Create incident</button><button type="button" onClick={() => go('')}>Cancel</button></div>
    </form>
  );
}

// ---- system (CAD bridge, dead letters) ----------------------------------------------------------
const api = new ApiClient({ token: getAccessToken });

function usePoll<T>(endpoint: Endpoint | undefined, everyMs: number): { data?: T; error?: string; at?: number } {
  const [state, setState] = useState<{ data?: T; error?: string; at?: number }>({});
  useEffect(() => {
    if (!endpoint) return;
    let stopped = false;
    const run = () => {
      if (!navigator.onLine) return setState((s) => ({ ...s, error: 'offline' }));
      api.json<T>(endpoint).then((data) => !stopped && setState({ data, at: Date.now() }), (e: Error) => !stopped && setState((s) => ({ ...s, error: e.message })));
    };
    run();
    const timer = setInterval(run, everyMs);
    return () => { stopped = true; clearInterval(timer); };
  }, [endpoint]);
  return state;
}

interface DeadLetter { id: number; kind: string; queue?: string; causationId: string; attempts: number; lastError: string | null; createdAt: string }

function System({ session }: { session: Session }) {
  const admin = session.user.role === 'admin';
  const health = usePoll<Record<string, unknown>>(SOCKET_BRIDGE.health, 15_000);
  const dead = usePoll<{ deadLetters: DeadLetter[] }>(admin ? ADMIN.deadLetters : undefined, 15_000);
  const [retried, setRetried] = useState<Record<number, string>>({});
  const retry = async (id: number) => {
    const response = await api.send(ADMIN.retryDeadLetter, { params: { id } });
    const body = await response.json().catch(() => ({})) as { message?: string; error?: { message?: string } };
    setRetried({ ...retried, [id]: response.ok ? body.message ?? 'queued again' : body.error?.message ?? `failed (${response.status})` });
  };
  return (
    <>
      <section class="card" aria-labelledby="cad-title" data-testid="cad-health">
        <h2 id="cad-title">CAD bridge</h2>
        {health.data ? (
          <dl class="kv">
            <dt>State</dt><dd><strong>{String(health.data['state'] ?? (health.data['connected'] ? 'connected' : 'disconnected'))}</strong></dd>
            <dt>Connected</dt><dd>{health.data['connected'] ? 'yes' : 'no'}</dd>
            <dt>Queued to CAD</dt><dd>{String(health.data['queued_outbound'] ?? 0)}</dd>
            <dt>Last event</dt><dd>{health.data['last_event_at'] ? String(health.data['last_event_at']) : 'none'}</dd>
            <dt>Attempts</dt><dd>{String(health.data['connection_attempts'] ?? 0)}</dd>
            {health.data['last_error'] ? <><dt>Last error</dt><dd>{String(health.data['last_error'])}</dd></> : null}
          </dl>
        ) : <p>{health.error ? `Not available: ${health.error}` : 'Loading…'}</p>}
      </section>
      {admin && (
        <section class="card" aria-labelledby="dl-title" style="margin-top:16px" data-testid="dead-letters">
          <h2 id="dl-title">Dead letters</h2>
          <p class="meta">Server work (notices, claims, exports) that failed every retry. Retrying sends it again.</p>
          {dead.error && <p class="hint bad">{dead.error}</p>}
          {dead.data && dead.data.deadLetters.length === 0 && <p class="empty">None. Everything went through.</p>}
          {dead.data && dead.data.deadLetters.length > 0 && (
            <table>
              <thead><tr><th>Id</th><th>Kind</th><th>Caused by</th><th>Attempts</th><th>Last error</th><th /></tr></thead>
              <tbody>{dead.data.deadLetters.map((d) => (
                <tr key={d.id}><td>{d.id}</td><td>{d.kind}</td><td><code>{d.causationId}</code></td><td>{d.attempts}</td><td>{d.lastError ?? ''}</td>
                  <td>{retried[d.id] ?? <button onClick={() => void retry(d.id)}>Retry</button>}</td></tr>
              ))}</tbody>
            </table>
          )}
          {hookFailures.value.length > 0 && (
            <>
              <h3>Failures this session (live)</h3>
              <ul>{hookFailures.value.map((f, i) => <li key={i}>{String(f['workflow'] ?? f['kind'] ?? 'hook')}: {String(f['error'] ?? f['message'] ?? '')}</li>)}</ul>
            </>
          )}
        </section>
      )}
    </>
  );
}

function DispatchApp({ session }: { session: Session }) {
  useEffect(() => {
    const live = coalesceLive(onLiveBatch);
    const disconnect = connectLive(live.onEvent);
    return () => { disconnect(); live.stop(); };
  }, []);
  useEffect(() => startServerClock(), []);
  useEffect(() => unlockSoundOnGesture(), []);
  const section = route.value.split('/')[0];
  const nav = [{ path: '', label: 'Board' }, { path: 'new', label: 'New incident' }, { path: 'system', label: session.user.role === 'admin' ? 'CAD bridge and dead letters' : 'CAD bridge' }];
  return (
    <AppShell title="Dispatch" nav={nav}>
      {section === 'new' ? <NewIncident session={session} /> : section === 'system' ? <System session={session} /> : <Board session={session} />}
    </AppShell>
  );
}

// A biller pulls billing records, claims and finalized reports, not units or incidents: the billing worklist is their console.
void boot({
  roles: ['dispatcher', 'admin', 'biller'], title: 'Dispatch console',
  render: (session) => (session.user.role === 'biller' ? <BillingApp session={session} /> : <DispatchApp session={session} />),
});
