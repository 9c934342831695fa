/**
 * What the dispatch board computes about its calls, as pure functions of the documents and a
 * time (so they are tested without a browser): the order calls are listed in (priority, then
 * age), each call's timers and acknowledgement, whether it alerts, and the unit to recommend.
 *
 * Every time here is the server's: a call's `history` (server/hooks/workflows/incident-history.ts)
 * is stamped with the server's clock at commit, and `now` is the server's time as this console
 * knows it (its clock plus the offset measured against `DISPATCH.settings`, server-clock.ts).
 * The device-recorded timeline (eTimes) is for the report, never for these timers.
 */
import { distanceM } from '../../../shared/domain/distance.ts';
import type { Incident } from '../../../shared/schemas/index.ts';
import { codeList } from '../../../shared/nemsis/codes.ts';
import { dispatchPriorityOptions } from '../../ui/dispatch-priority.ts';

type HistoryEntry = NonNullable<Incident['history']>[number];

/** Where a priority sorts: the eDispatch.05 code's place (Critical first), a CAD's "P1"/"1" by its digit, anything else last. */
export function priorityRank(priority: string | undefined): number {
  if (!priority) return 90;
  const at = dispatchPriorityOptions().findIndex(([code]) => code === priority);
  if (at >= 0) return at + 1;
  const digit = /^\s*(?:p(?:riority)?\s*)?(\d)\b/i.exec(priority);
  return digit ? Number(digit[1]) : 80;
}

function epoch(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** When the server recorded the call (its first history entry), else the call's PSAP time as reported. */
export function receivedAt(incident: Incident): number | undefined {
  return epoch(incident.history?.find((e) => e.kind === 'received')?.at) ?? epoch(incident.history?.[0]?.at) ?? epoch(incident.timeline?.psapCall);
}

/** Most urgent first; within a priority, the one waiting longest first; then by number (stable). */
export function sortIncidents(incidents: readonly Incident[]): Incident[] {
  return [...incidents].sort((a, b) => priorityRank(a.priority) - priorityRank(b.priority)
    || (receivedAt(a) ?? Number.MAX_SAFE_INTEGER) - (receivedAt(b) ?? Number.MAX_SAFE_INTEGER)
    || a.incidentNumber.localeCompare(b.incidentNumber));
}

export interface Acknowledgement {
  at: number;
  /** `acknowledge` (the MDT's button) or the status that implied it (`en_route`, …). */
  via: string;
  /** The MDT's own clock when the crew acknowledged, as it reported (shown beside the server's). */
  deviceAt?: string | undefined;
}

export interface CallTimes {
  received?: number | undefined;
  /** The latest assignment of the call's current unit. */
  dispatched?: number | undefined;
  acknowledged?: Acknowledgement | undefined;
  onScene?: number | undefined;
}

/** The call's times from its server-recorded history, for its current unit's latest assignment. */
export function callTimes(incident: Incident): CallTimes {
  const history: readonly HistoryEntry[] = incident.history ?? [];
  const unit = incident.assignedUnitId;
  const out: CallTimes = { received: receivedAt(incident) };
  let assignedAt = -1;
  history.forEach((e, i) => { if (e.kind === 'assigned' && e.unitId === unit) assignedAt = i; });
  if (!unit || assignedAt < 0) return out;
  out.dispatched = epoch(history[assignedAt]!.at);
  for (const e of history.slice(assignedAt + 1)) {
    if (e.unitId !== unit) continue;
    if (e.kind === 'acknowledged' && !out.acknowledged) out.acknowledged = { at: epoch(e.at)!, via: e.via ?? 'acknowledge', deviceAt: e.deviceAt };
    if (e.kind === 'unit-status' && e.status === 'on_scene' && out.onScene === undefined) out.onScene = epoch(e.at);
  }
  return out;
}

const ENDED: ReadonlySet<string> = new Set(['closed', 'cancelled']);

/**
 * Whether the call alerts at server time `now`: it is open, its unit was assigned at least
 * `thresholdS` seconds ago by the server's clock, and the unit has not acknowledged it (neither the
 * MDT's acknowledge nor a status that implies it). `alertAt`: when it starts (or started) to.
 */
export function acknowledgementAlert(incident: Incident, now: number, thresholdS: number): { alerting: boolean; alertAt?: number } {
  if (ENDED.has(incident.status)) return { alerting: false };
  const times = callTimes(incident);
  if (times.dispatched === undefined || times.acknowledged) return { alerting: false };
  const alertAt = times.dispatched + thresholdS * 1000;
  return { alerting: now >= alertAt, alertAt };
}

/** `4:05`, `1:02:09`: how long since `from`, for a timer. */
export function elapsed(from: number | undefined, now: number): string {
  if (from === undefined) return '—';
  const s = Math.max(0, Math.floor((now - from) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

// ---- unit capability (eResponse.07 codes, as units and calls carry them) -------------------------

export const CAPABILITY_ELEMENT = 'eResponse.07';

export function capabilityOptions(): readonly (readonly [string, string])[] {
  return codeList(CAPABILITY_ELEMENT);
}

function labelOf(code: string): string {
  return capabilityOptions().find(([c]) => c === code)?.[1] ?? code;
}

/** Level of care: critical care 3, ALS 2, BLS 1, none 0 (from the code's label; a CAD's own text "ALS"/"BLS" too). */
export function careLevel(capability: string | undefined): number {
  const label = labelOf(capability ?? '');
  if (/critical care/i.test(label)) return 3;
  if (/\bALS\b/.test(label)) return 2;
  if (/\bBLS\b/.test(label)) return 1;
  return 0;
}

const isAir = (capability: string) => /^air/i.test(labelOf(capability));
const transports = (capability: string) => {
  const label = labelOf(capability);
  return (/transport/i.test(label) && !/non-transport/i.test(label)) || /wheel chair/i.test(label);
};

/**
 * Whether a unit of `unit` capability can answer a call needing `needed`: at least the level of
 * care, able to transport when the need is a transport unit; an aircraft only for an aircraft call.
 */
export function capabilityMatches(unit: string | undefined, needed: string | undefined): boolean {
  if (!needed) return true;
  if (!unit) return false;
  if (unit === needed) return true;
  if (isAir(needed) || isAir(unit)) return false;
  return careLevel(unit) >= careLevel(needed) && (!transports(needed) || transports(unit));
}

// ---- recommendation ---------------------------------------------------------------------------------

/** Statuses in which a unit may be sent to a new call. */
export const ASSIGNABLE_STATUSES: ReadonlySet<string> = new Set(['available', 'at_home']);

export interface UnitPosition {
  callSign: string;
  status: string;
  capability?: string | undefined;
  lat?: number | undefined;
  lng?: number | undefined;
  currentIncidentId?: string | undefined;
}

export interface Recommendation {
  callSign: string;
  capability?: string | undefined;
  /** Metres from the call, when both positions are known. */
  distanceM?: number | undefined;
}

/**
 * The units that could take the call, nearest first: free (available or at station, no current
 * call), of the needed capability; those without a known position come after, by call sign.
 */
export function recommendUnits(incident: Pick<Incident, 'location' | 'requiredCapability' | 'id'>, units: readonly UnitPosition[]): Recommendation[] {
  const out: Recommendation[] = [];
  for (const u of units) {
    if (!ASSIGNABLE_STATUSES.has(u.status) || (u.currentIncidentId && u.currentIncidentId !== incident.id)) continue;
    if (!capabilityMatches(u.capability, incident.requiredCapability)) continue;
    const distance = incident.location && u.lat !== undefined && u.lng !== undefined ? distanceM(incident.location, { lat: u.lat, lng: u.lng }) : undefined;
    out.push({ callSign: u.callSign, capability: u.capability, distanceM: distance });
  }
  return out.sort((a, b) => (a.distanceM ?? Number.POSITIVE_INFINITY) - (b.distanceM ?? Number.POSITIVE_INFINITY) || a.callSign.localeCompare(b.callSign));
}

/** `850 m`, `12.4 km`. */
export function distanceText(metres: number | undefined): string {
  if (metres === undefined) return 'position unknown';
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(metres < 100_000 ? 1 : 0)} km`;
}
