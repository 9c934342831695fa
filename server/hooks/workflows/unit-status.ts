/**
 * unit-status: a unit's status change made by CAD or dispatch stamps the matching eTimes on the
 * incident the unit is working (ems-domain §3), where that time is not stamped yet. The incident
 * write then chains to incident-timeline, which carries the stamp into the ePCR. A status a crew's
 * MDT pressed arrives as a status event too and is stamped from that (unit-status-event.ts), once.
 */
import type { Unit } from '../../../shared/schemas/index.ts';
import { UNIT_FREE_STATUSES } from '../../../shared/schemas/units.ts';
import type { Change, Workflow } from '../types.ts';
import type { Timeline } from './epcr-times.ts';
import { offsetDateTime, read, nonBlankText, writeDoc } from './support.ts';

type UnitStatus = NonNullable<Unit['status']>;

export const STATUS_TIMES: Readonly<Partial<Record<UnitStatus, keyof Timeline>>> = {
  dispatched: 'unitNotified', // eTimes.03
  acknowledged: 'dispatchAcknowledged', // eTimes.04
  en_route: 'unitEnRoute', // eTimes.05
  staged: 'unitArrivedStaging', // eTimes.17
  on_scene: 'unitOnScene', // eTimes.06
  transporting: 'unitLeftScene', // eTimes.09
  at_destination: 'atDestination', // eTimes.11
  available: 'backInService', // eTimes.13
  cancelled: 'unitCanceled', // eTimes.14
  at_home: 'unitBackAtHome', // eTimes.15
};

/**
 * The timeline keys a status stamps, where not stamped yet: its own (STATUS_TIMES), and, for a unit
 * that comes free (available, at home) while the call shows it on scene and never leaving it, the
 * time it left the scene (eTimes.09): a call without transport has no "transporting" status, and
 * NEMSIS asks for the left-scene time on every call the unit reached (scene time = .09 - .06).
 */
export function timelineStamps(status: UnitStatus, timeline: Partial<Timeline> | undefined): (keyof Timeline)[] {
  const own = STATUS_TIMES[status];
  const keys: (keyof Timeline)[] = own && timeline?.[own] === undefined ? [own] : [];
  if ((status === 'available' || status === 'at_home') && timeline?.unitOnScene !== undefined && timeline.unitLeftScene === undefined) keys.push('unitLeftScene');
  return keys;
}

/**
 * A unit document written by a crew device (its MDT). Every status press there is also a
 * `unit_status_events` document, which is what stamps the call and tells CAD; the unit document
 * only holds the latest status for the screens. So this write is not acted on a second time: the
 * unit-status workflow and the CAD mapper (cad-bridge/outbound-mapper.ts) both skip it.
 * (An MDT build that predates status events is not heard: docs/protocol.md, limitations.)
 */
export function unitStatusFromCrewDevice(change: Pick<Change, 'collection' | 'actor'>): boolean {
  return change.collection === 'units' && change.actor.kind === 'device' && change.actor.role === 'crew';
}

/**
 * The incident a status change belongs to: a unit coming free may already have dropped it. A unit
 * back at its station is stamped on the call it comes back from when it goes there straight from
 * the call; once it went available first, the call is no longer known here (docs, limitations).
 */
function incidentOf(after: Record<string, unknown>, before: Record<string, unknown> | undefined): string | undefined {
  const current = nonBlankText(after['currentIncidentId']);
  if (current) return current;
  const status = after['status'];
  if ((status === 'available' || status === 'cancelled' || status === 'at_home') && before && !UNIT_FREE_STATUSES.has(String(before['status']))) {
    return nonBlankText(before['currentIncidentId']);
  }
  return undefined;
}

export function unitStatusWorkflow(): Workflow {
  return {
    name: 'unit-status',
    description: 'Stamps the incident timeline from unit status changes (dispatched → unitNotified, …, available → backInService).',
    trigger: {
      collection: 'units',
      when: (change) => {
        const { after, before } = change;
        if (after._deleted || unitStatusFromCrewDevice(change)) return false;
        const status = after['status'] as UnitStatus;
        if (!STATUS_TIMES[status] || !incidentOf(after, before)) return false;
        if (status === 'available' && (!before || UNIT_FREE_STATUSES.has(String(before['status'])))) return false;
        return before?.['status'] !== status || before['statusAt'] !== after['statusAt'] || before['currentIncidentId'] !== after['currentIncidentId'];
      },
      key: (change) => `${change.id}@${String(change.after['rev'])}`,
      data: (change) => ({
        status: String(change.after['status']),
        incidentId: incidentOf(change.after, change.before) ?? '',
        callSign: String(change.after['callSign']),
        ...(typeof change.after['statusAt'] === 'string' ? { statusAt: change.after['statusAt'] } : {}),
      }),
    },
    async run(ctx, payload) {
      const status = payload.data?.['status'] as UnitStatus;
      const key = STATUS_TIMES[status];
      const incidentId = nonBlankText(payload.data?.['incidentId']);
      if (!key || !incidentId) return;
      const at = nonBlankText(payload.data?.['statusAt']) ?? offsetDateTime(ctx.now());
      // Incidents name their unit by call sign, as CAD and crew tokens do.
      const unitId = nonBlankText(payload.data?.['callSign']) ?? payload.id;
      if (!(await read(ctx, 'incidents', incidentId))) {
        ctx.log.warn({ unitId, incidentId }, 'unit status names an incident this server does not have; nothing stamped');
        return;
      }
      await writeDoc(ctx, 'incidents', incidentId, (current) => {
        if (!current || current._deleted) return undefined;
        // Another unit's status must not stamp the times of the unit the incident is assigned to.
        if (current.assignedUnitId && current.assignedUnitId !== unitId) return undefined;
        const stamps = timelineStamps(status, current.timeline);
        if (stamps.length === 0) return undefined;
        return { ...current, timeline: { ...current.timeline, ...Object.fromEntries(stamps.map((stamp) => [stamp, at])) } };
      });
    },
  };
}
