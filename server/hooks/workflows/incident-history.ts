/**
 * incident-history: the server's record of what happened to a call, kept on the incident
 * (`history`, server-owned) and stamped with the server's clock at the commit of the change that
 * said so. Device clocks never order anything: the dispatch console's call timers and its
 * unacknowledged-call alert count from these times (with its own clock's offset to the server's,
 * docs/protocol.md §26), and the call's timeline lists them.
 *
 * Three triggers feed it, each computing its entries inside the write transaction (where the
 * change's commit time and writer are known) and appending them in its run:
 * - the incident itself: received, assigned, status (with the closing reason), dispatcher notes, edits;
 * - the unit: the MDT's acknowledge button (`assignmentAcknowledgedAt`), notes the crew marked read;
 * - the unit's status events: each status pressed on the MDT, and the first one after an
 *   assignment that implies it was heard (en route, on scene, …) as its acknowledgement.
 *
 * Idempotent: an entry's id is made from the change's sequence and what it records, and the run
 * adds only ids the history does not have. The history write itself changes no field these
 * triggers watch, so it starts nothing.
 */
import type { Incident } from '../../../shared/schemas/index.ts';
import { INCIDENT_HISTORY_KINDS } from '../../../shared/schemas/incidents.ts';
import { deepEqual } from '../../../shared/merge/json.ts';
import type { Actor } from '../../store/types.ts';
import type { Change, Workflow } from '../types.ts';
import { unitByCallSign } from './incident-created.ts';
import { unitStatusFromCrewDevice } from './unit-status.ts';
import { nonBlankText, offsetDateTime, read, writeDoc } from './support.ts';

export type HistoryEntry = NonNullable<Incident['history']>[number];
type Kind = (typeof INCIDENT_HISTORY_KINDS)[number];

/** The most entries a call keeps (the schema's limit); past it the oldest go, the first ("received") stays. */
const MAX_ENTRIES = 1000;
const MAX_TEXT = 1000;

/** Unit statuses that show the crew heard its assignment, when no acknowledge press came first. */
export const ACKNOWLEDGING_STATUSES: ReadonlySet<string> = new Set(['acknowledged', 'en_route', 'staged', 'on_scene', 'transporting', 'at_destination']);

/** Fields whose change is an edit worth a line in the timeline (the lifecycle and notes have their own entries). */
const EDITED_FIELDS = ['complaint', 'type', 'priority', 'requiredCapability', 'address', 'location', 'incidentNumber'] as const;

/** Entry ids name the collection of the change that caused them (a sequence is unique within one). */
const PREFIX: Readonly<Record<string, string>> = { incidents: 'i', units: 'u', unit_status_events: 's' };

function atOf(change: Change): string {
  return offsetDateTime(new Date(change.committedAt ?? Date.now()), 0);
}

function byOf(actor: Actor): string {
  return (actor.userId ?? (actor.kind === 'device' ? actor.deviceId : undefined) ?? actor.kind).slice(0, 200);
}

function entry(change: Change, kind: Kind, extra: Omit<HistoryEntry, 'id' | 'at' | 'kind'> = {}, suffix = ''): HistoryEntry {
  return { id: `${PREFIX[change.collection] ?? change.collection}${change.seq}-${kind}${suffix}`.slice(0, 100), at: atOf(change), kind, by: byOf(change.actor), ...extra };
}

const clip = (text: string) => text.slice(0, MAX_TEXT);
const alive = (doc: Record<string, unknown> | undefined) => (doc && doc['_deleted'] !== true ? doc : undefined);

/** What an incident change adds to its history. */
export function incidentEntries(change: Change): HistoryEntry[] {
  const after = alive(change.after);
  if (!after) return [];
  const before = alive(change.before);
  const out: HistoryEntry[] = [];
  if (!before) out.push(entry(change, 'received', { status: String(after['status']) }));
  const unit = nonBlankText(after['assignedUnitId']);
  if (unit && unit !== before?.['assignedUnitId']) out.push(entry(change, 'assigned', { unitId: unit }));
  if (before && before['status'] !== after['status']) {
    const ending = after['status'] === 'closed' || after['status'] === 'cancelled';
    const reason = ending ? nonBlankText(after['closeReason']) : undefined;
    out.push(entry(change, 'status', { status: String(after['status']), ...(reason ? { text: clip(reason) } : {}) }));
  }
  const known = new Set(((before?.['dispatchNotes'] ?? []) as { id: string }[]).map((n) => n.id));
  for (const note of (after['dispatchNotes'] ?? []) as { id: string; text: string; by?: string }[]) {
    if (known.has(note.id)) continue;
    out.push({ ...entry(change, 'note', { noteId: note.id, text: clip(note.text) }, `-${note.id}`), ...(note.by ? { by: note.by } : {}) });
  }
  if (before) {
    const edited = EDITED_FIELDS.filter((field) => !deepEqual(before[field], after[field]));
    if (edited.length > 0) out.push(entry(change, 'edited', { text: edited.join(', ') }));
  }
  return out;
}

/**
 * What a unit change adds to its current call's history: the acknowledge press, notes marked read,
 * and a status set by dispatch or CAD (a crew's presses arrive as status events instead, and are
 * recorded from those: unit-status-history). `statusEntry` may also count as the acknowledgement.
 */
export function unitEntries(change: Change): { incidentId: string; entries: HistoryEntry[]; statusEntry?: HistoryEntry } | undefined {
  const after = alive(change.after);
  const incidentId = nonBlankText(after?.['currentIncidentId']);
  if (!after || !incidentId) return undefined;
  const before = alive(change.before);
  const unitId = String(after['callSign']);
  const out: HistoryEntry[] = [];
  const ack = nonBlankText(after['assignmentAcknowledgedAt']);
  const sameCall = before?.['currentIncidentId'] === incidentId;
  if (ack && (!sameCall || before?.['assignmentAcknowledgedAt'] !== ack)) out.push(entry(change, 'acknowledged', { unitId, via: 'acknowledge', deviceAt: ack }));
  const read = new Set(sameCall ? (before?.['readNoteIds'] ?? []) as string[] : []);
  for (const noteId of (after['readNoteIds'] ?? []) as string[]) {
    if (!read.has(noteId)) out.push(entry(change, 'notes-read', { unitId, noteId }, `-${noteId}`));
  }
  const status = String(after['status']);
  const statusEntry = !unitStatusFromCrewDevice(change) && (!sameCall || before?.['status'] !== status)
    ? entry(change, 'unit-status', { status, unitId, ...(typeof after['statusAt'] === 'string' ? { deviceAt: after['statusAt'] } : {}) })
    : undefined;
  if (out.length === 0 && !statusEntry) return undefined;
  return { incidentId, entries: out, ...(statusEntry ? { statusEntry } : {}) };
}

/** Adds `entries` to the call's history (those it does not have yet), in server time order. */
async function append(ctx: Parameters<Workflow['run']>[0], incidentId: string, entries: HistoryEntry[], extra?: (history: HistoryEntry[]) => HistoryEntry[]): Promise<void> {
  await writeDoc(ctx, 'incidents', incidentId, (current) => {
    if (!current || current._deleted) return undefined;
    const history = [...(current.history ?? [])];
    const have = new Set(history.map((e) => e.id));
    const fresh = [...entries, ...(extra?.(history) ?? [])].filter((e) => !have.has(e.id));
    if (fresh.length === 0) return undefined;
    // Stable: entries of one commit keep their order; ISO times with one offset sort as text.
    const merged = [...history, ...fresh].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const kept = merged.length > MAX_ENTRIES ? [merged[0]!, ...merged.slice(merged.length - MAX_ENTRIES + 1)] : merged;
    return { ...current, history: kept };
  });
}

export function incidentHistoryWorkflow(): Workflow {
  return {
    name: 'incident-history',
    description: 'Records in the incident\'s history, with the server\'s commit time, what a change of the call did: received, assigned, status (with the reason), notes, edits.',
    trigger: {
      collection: 'incidents',
      when: (change) => incidentEntries(change).length > 0,
      key: (change) => `${change.id}@${change.seq}`,
      data: (change) => ({ entries: incidentEntries(change) }),
    },
    async run(ctx, payload) {
      await append(ctx, payload.id, (payload.data?.['entries'] ?? []) as HistoryEntry[]);
    },
  };
}

export function unitHistoryWorkflow(): Workflow {
  return {
    name: 'unit-history',
    description: 'Records in the current call\'s history, with the server\'s commit time, the MDT\'s acknowledgement, the dispatcher notes the crew marked read, and unit statuses set by dispatch or CAD.',
    trigger: {
      collection: 'units',
      when: (change) => unitEntries(change) !== undefined,
      key: (change) => `${change.id}@${change.seq}`,
      data: (change) => unitEntries(change) ?? {},
    },
    async run(ctx, payload) {
      const incidentId = nonBlankText(payload.data?.['incidentId']);
      if (!incidentId) return;
      const statusEntry = payload.data?.['statusEntry'] as HistoryEntry | undefined;
      const entries = [...(payload.data?.['entries'] ?? []) as HistoryEntry[], ...(statusEntry ? [statusEntry] : [])];
      await append(ctx, incidentId, entries, (history) => impliedAcknowledgement(history, statusEntry));
    },
  };
}

export function unitStatusHistoryWorkflow(): Workflow {
  return {
    name: 'unit-status-history',
    description: 'Records each status a unit\'s MDT pressed in its call\'s history (server time, with the device\'s), and the first one after an assignment that implies it was heard as the acknowledgement.',
    trigger: {
      collection: 'unit_status_events',
      when: (change) => !change.before && !change.after._deleted,
      key: (change) => change.id,
      data: (change) => ({
        entry: entry(change, 'unit-status', { status: String(change.after['status']), unitId: String(change.after['unitId']), deviceAt: String(change.after['recordedAt']) }),
      }),
    },
    async run(ctx, payload) {
      const event = await read(ctx, 'unit_status_events', payload.id);
      const recorded = payload.data?.['entry'] as HistoryEntry | undefined;
      if (!event || !recorded) return;
      const incidentId = nonBlankText(event.incidentId) ?? nonBlankText((await unitByCallSign(ctx, event.unitId))?.currentIncidentId);
      if (!incidentId) return;
      const incident = await read(ctx, 'incidents', incidentId);
      // Another unit's statuses are not this call's (a reassigned call).
      if (!incident || (incident.assignedUnitId && incident.assignedUnitId !== event.unitId)) return;
      await append(ctx, incidentId, [recorded], (history) => impliedAcknowledgement(history, recorded));
    },
  };
}

/** The acknowledgement a status implies, when its unit has not acknowledged its latest assignment yet. */
function impliedAcknowledgement(history: readonly HistoryEntry[], status: HistoryEntry | undefined): HistoryEntry[] {
  if (!status?.unitId || !ACKNOWLEDGING_STATUSES.has(status.status ?? '') || acknowledgedSince(history, status.unitId)) return [];
  return [{ ...status, id: `${status.id}-ack`, kind: 'acknowledged', via: status.status! }];
}

/** Whether `unitId` acknowledged its latest assignment in `history`. */
export function acknowledgedSince(history: readonly HistoryEntry[], unitId: string): boolean {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i]!;
    if (e.kind === 'acknowledged' && e.unitId === unitId) return true;
    if (e.kind === 'assigned' && e.unitId === unitId) return false;
  }
  return false;
}
